"""``python -m deploy.run migrate``: what each service's migration Job runs."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from deploy.run import SERVICES
from tests.deploy.manifests import ROOT


@pytest.mark.parametrize("service", SERVICES)
def test_deploy_run_migrate_brings_the_database_to_head_and_exits(service, tmp_path):
    database = tmp_path / f"{service}.db"
    env = {
        **os.environ,
        "RAPPORT_SERVICE": service,
        "RAPPORT_DEV_MODE": "1",
        f"{service.upper()}_DATABASE_URL": f"sqlite:///{database}",
    }
    done = subprocess.run(
        [sys.executable, "-m", "deploy.run", "migrate"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    config = Config()
    config.set_main_option("script_location", str(ROOT / "services" / service / "migrations"))
    head = ScriptDirectory.from_config(config).get_current_head()
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [(head,)]


def test_deploy_run_refuses_an_unknown_command():
    done = subprocess.run(
        [sys.executable, "-m", "deploy.run", "migrated"],
        cwd=ROOT,
        env={**os.environ, "RAPPORT_SERVICE": "sales"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "api|consumer|relay|migrate" in done.stderr
