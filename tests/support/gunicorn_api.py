"""The customer API as production runs it (gunicorn with deploy/gunicorn_conf.py, its
own migrations on a SQLite file in a test's folder), for tests of the server itself."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import requests

from deploy.run import command
from shared.testing import wait_for

ROOT = Path(__file__).resolve().parents[2]


def start_customer_api(tmp_path: Path, port: int, extra_env=None, stdout=None, stderr=None):
    """The API's process (a session of its own: stop it with ``os.killpg``), once it
    answers ``/healthz``; ``stdout`` and ``stderr`` default to nowhere."""
    env = {
        "PATH": os.environ["PATH"],
        "RAPPORT_SERVICE": "customer",
        "RAPPORT_DEV_MODE": "1",
        "RAPPORT_DATA_DIR": str(tmp_path),
        "RAPPORT_WEB_WORKERS": "1",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
        **(extra_env or {}),
    }
    api = subprocess.Popen(
        command("customer", "api", "127.0.0.1", port),
        cwd=ROOT,
        env=env,
        stdout=stdout if stdout is not None else subprocess.DEVNULL,
        stderr=stderr if stderr is not None else subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for(
            lambda: _answers(f"http://127.0.0.1:{port}/healthz"), 60, message="the API answers"
        )
    except BaseException:
        os.killpg(api.pid, signal.SIGKILL)
        api.wait(30)
        raise
    return api


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).ok
    except requests.ConnectionError:
        return False
