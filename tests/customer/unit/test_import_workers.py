"""A customer import starts one checking worker a CPU its process may use, not one a
CPU of the machine: a pod limited to one CPU on a large node starts none (eight
workers of about 90 MB each once ran a 512 MB relay pod out of memory)."""

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
ASK = "from services.customer.imports import pipeline; print(pipeline.default_workers())"
CPU_CGROUP = Path("/sys/fs/cgroup/cpu")  # cgroup v1's cpu controller, as this machine has it


def _workers(command: list[str], **options) -> int:
    done = subprocess.run(
        command,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        **options,
    )
    return int(done.stdout.strip().splitlines()[-1])


def _pinned(cpus: set[int]):
    return lambda: os.sched_setaffinity(0, cpus)


def test_a_process_pinned_to_one_cpu_imports_without_workers():
    assert _workers([sys.executable, "-c", ASK], preexec_fn=_pinned({0})) == 0


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="one CPU here")
def test_a_process_pinned_to_two_cpus_starts_two_workers():
    two = set(sorted(os.sched_getaffinity(0))[:2])
    assert _workers([sys.executable, "-c", ASK], preexec_fn=_pinned(two)) == 2


def test_a_container_limited_to_one_cpu_imports_without_workers(tmp_path):
    """As in a pod with ``limits: {cpu: "1"}``: the process runs in a cgroup whose CPU
    quota is one CPU, and sees that cgroup as its own ``/sys/fs/cgroup/cpu`` (a mount
    namespace of its own), with every CPU of the machine still in its affinity."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare(1) to make a cgroup and a mount namespace")
    if not (CPU_CGROUP / "cpu.cfs_quota_us").exists() or Path("/sys/fs/cgroup/cpu.max").exists():
        pytest.skip("no cgroup v1 cpu controller here")
    group = CPU_CGROUP / f"rapport-test-{uuid.uuid4().hex[:8]}"
    try:
        group.mkdir()
    except OSError as exc:
        pytest.skip(f"cannot make a cgroup here: {exc}")
    try:
        (group / "cpu.cfs_period_us").write_text("100000")
        (group / "cpu.cfs_quota_us").write_text("100000")  # one CPU
        script = tmp_path / "in_container.sh"
        script.write_text(
            f"mount --bind {group} {CPU_CGROUP} && echo $$ > {CPU_CGROUP}/tasks "
            f'&& exec "{sys.executable}" -c "{ASK}"\n'
        )
        command = ["unshare", "--mount", "--propagation", "private", "sh", str(script)]
        try:
            workers = _workers(command)
        except subprocess.CalledProcessError as exc:
            pytest.skip(f"cannot enter a mount namespace here: {exc.stderr.strip()}")
        assert workers == 0
        if len(os.sched_getaffinity(0)) >= 2:  # the same with two CPUs' quota: two
            (group / "cpu.cfs_quota_us").write_text("200000")
            assert _workers(command) == 2
    finally:
        group.rmdir()
