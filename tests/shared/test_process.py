"""Long-running processes: the CPU priority a consumer or relay can be asked to run
at, start-up objects kept out of the garbage collector's full collections, and
the import jobs it runs handed back when it stops."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _python(*argv: str) -> subprocess.CompletedProcess:
    """``python -c`` with ``argv``, from the checkout, its output captured."""
    return subprocess.run(
        [sys.executable, "-c", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


RUN = """
import os, sys
from shared import process
from shared.config import Settings

class Worker:
    ready = True
    def run(self, stop):
        import gc
        print("frozen" if gc.get_freeze_count() else "not frozen")
        print(os.nice(0))

env = {"AUTH_SECRET": "x" * 32, "DATA_DIR": sys.argv[1], "CONSUMER_PORT": "0",
       "LOG_LEVEL": "WARNING", **dict(a.split("=") for a in sys.argv[2:])}
process.run(Settings.from_env("reporting", env), "consumer", Worker(), nice=3)
"""


def _niceness(tmp_path, *overrides: str) -> int:
    out = _python(RUN, str(tmp_path), *overrides)
    return int(out.stdout.strip().splitlines()[-1]) - os.nice(0)


def test_a_process_runs_at_the_priority_its_caller_gives(tmp_path):
    assert _niceness(tmp_path) == 3


def test_the_setting_overrides_the_callers_priority(tmp_path):
    assert _niceness(tmp_path, "CONSUMER_NICE=0") == 0
    assert _niceness(tmp_path, "CONSUMER_NICE=8") == 8


def test_a_consumer_or_relay_freezes_its_start_up_objects(tmp_path):
    out = _python(RUN, str(tmp_path))
    assert out.stdout.splitlines()[-2] == "frozen"


def test_an_api_freezes_its_start_up_objects(tmp_path):
    code = (
        "import gc, sys; from services.calls.app import create_app; "
        "print(gc.get_freeze_count() > 0); create_app({'DEV_MODE': '1', "
        "'DATABASE_URL': 'sqlite:///' + sys.argv[1]}); print(gc.get_freeze_count() > 0)"
    )
    out = _python(code, f"{tmp_path}/calls.db")
    assert out.stdout.split() == ["False", "True"]


STOPPING = """
import sys, threading
from shared import import_jobs, process
from shared.config import Settings

handed = []

def job():  # an import job's run: it asks between chunks whether to stop
    while True:
        try:
            import_jobs.check_stopping()
        except import_jobs.HandedBack:
            handed.append("handed back")
            return
        threading.Event().wait(0.01)

class Worker:
    ready = True
    def run(self, stop):  # the relay's loop, stopped as soon as it starts
        import_jobs.start_thread(job, (), "import-job")

env = {"AUTH_SECRET": "x" * 32, "DATA_DIR": sys.argv[1], "RELAY_PORT": "0",
       "LOG_LEVEL": "WARNING"}
process.run(Settings.from_env("customer", env), "relay", Worker())
print(handed)
"""


def test_a_stopping_process_hands_back_the_import_jobs_it_runs(tmp_path):
    out = _python(STOPPING, str(tmp_path))
    assert out.stdout.splitlines()[-1] == "['handed back']"
