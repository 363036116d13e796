"""CPU seconds each process spends per outcome, bulk path (``python -m
bench.cpu_per_outcome``): where the end-to-end time goes. The count starts once
the run's set-up (registering its customers, scheduling their calls) has settled,
so it holds the outcomes' work only."""

import contextlib
import os
import tempfile
from pathlib import Path

from bench import system


def cpu(pid):
    total = 0
    for p in [pid] + [int(x) for x in os.popen(f"pgrep -P {pid}").read().split()]:
        with contextlib.suppress(FileNotFoundError):
            f = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
    return total


with (
    tempfile.TemporaryDirectory() as w,
    system.Bench("amqp://guest:guest@127.0.0.1:5672/%2F", Path(w)) as b,
):
    system.throughput(b, 400, 20, 200)
    before = {}

    def start():
        before.update({n: cpu(p.popen.pid) for n, p in b.system.procs.items()})

    rate = system.throughput(b, 4000, 100, 200, on_start=start)
    after = {n: cpu(p.popen.pid) for n, p in b.system.procs.items()}
    print("rate", rate)
    for n in sorted(after, key=lambda n: -(after[n] - before[n])):
        print(f"{n:22s} {(after[n] - before[n]) / 4000 * 1e6:8.0f} µs/outcome")
