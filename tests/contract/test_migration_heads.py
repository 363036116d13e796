"""Each service's migrations form one line: two branches that each added a revision
after the same one would leave two heads, and ``alembic upgrade head`` would refuse."""

import importlib

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

SERVICES = ("customer", "calls", "sales", "reporting")


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_has_one_migration_head(service):
    config = Config()
    config.set_main_option(
        "script_location", str(importlib.import_module(f"services.{service}.config").MIGRATIONS)
    )
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"{service} has {len(heads)} migration heads: {heads}"
