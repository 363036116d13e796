"""The launcher's processes never outlive it: killed outright (SIGKILL) or with its
terminal closed (SIGHUP), it leaves no process of its system running."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pika
import pytest

from deploy.launcher import port_settings
from shared.messaging import topology

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's"
    ),
]


def processes_of(namespace: str) -> list[int]:
    """Pids of every process whose environment names the system's namespace."""
    marker = f"RAPPORT_NAMESPACE={namespace}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found


def commands(pids: list[int]) -> dict[int, str]:
    """Each pid's command line, for a failure's message."""
    found = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            found[pid] = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    return found


def wait_for(predicate, timeout: float, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


@pytest.fixture
def launched(amqp_url, tmp_path):
    namespace = f"launch-{uuid.uuid4().hex[:8]}"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "RAPPORT_AMQP_URL": amqp_url,
        "RAPPORT_NAMESPACE": namespace,
        "RAPPORT_DATA_DIR": str(tmp_path / "data"),
        "RAPPORT_LOG_DIR": str(tmp_path / "log"),
        "RAPPORT_WEB_WORKERS": "1",
        **port_settings(),
    }
    # The launcher's output, open until the fixture's teardown.
    out = open(tmp_path / "launcher.out", "wb")  # noqa: SIM115
    launcher = subprocess.Popen(
        [sys.executable, "-m", "deploy.launcher"],
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        running = wait_for(
            lambda: (
                b"Rapport is running" in (tmp_path / "launcher.out").read_bytes()
                or launcher.poll() is not None
            ),
            120,
            0.5,
        )
        assert running and launcher.poll() is None, (tmp_path / "launcher.out").read_text()
        yield launcher, namespace
    finally:
        for pid in [launcher.pid, *processes_of(namespace)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        launcher.wait()
        out.close()
        conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
        try:
            topology.delete(conn.channel(), topology.Names(namespace))
        finally:
            conn.close()


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGHUP], ids=["sigkill", "sighup"])
def test_no_process_outlives_its_launcher(launched, sig):
    launcher, namespace = launched
    # An API, a consumer and a relay per service, and gunicorn's workers.
    assert len(processes_of(namespace)) >= 12
    os.kill(launcher.pid, sig)
    launcher.wait(30)
    # Each stops on its SIGTERM, gunicorn within its graceful_timeout (10 s): on a
    # loaded machine that can take longer than the timeout itself.
    left = wait_for(lambda: not processes_of(namespace), 45)
    assert left, f"still running after the launcher died: {commands(processes_of(namespace))}"
