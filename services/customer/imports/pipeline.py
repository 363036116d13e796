"""Pieces of an import file prepared by worker processes, handed back in file order.

Checking a row (phone and e-mail parsing above all) costs more than writing it,
and one Python process uses one core. The importing process keeps every database
read and write, in file order, so line numbers, rejections and the upsert by
``external_ref`` are exactly as if it did everything itself; worker processes
only turn raw records into prepared rows (``preparation.prepare``), up to a
chunk ahead of the writes. Workers come from a fork server that has loaded the
import's modules once (a worker neither re-imports them nor inherits the threads
and locks of a web server). A small file is prepared in-process: starting
workers would cost more than they save.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor

from services.customer.imports.preparation import Prepared, Setup, prepare
from shared.startup import freeze_startup_objects

# Pieces queued per worker. The importing process takes a chunk's ten pieces, then
# writes them for a while: with two queued a worker, the workers went idle during
# every write and then kept the writer waiting (the machine 86 % busy over an
# import of 100,000); with twelve they prepare the next chunk meanwhile (94 %).
AHEAD = 12
WORKER_NICENESS = 10
MAX_WORKERS = 8


def default_workers() -> int:
    """One a CPU this process may use, up to ``MAX_WORKERS``: the importing process's
    own share of a row (reading it, writing it) is about half of what checking and
    preparing it costs. None where it may use one CPU only: a worker would take that
    CPU from the importing process, which writes every row.

    The CPUs it may use are loky's count, the least of the machine's, the process's
    affinity and its container's CPU quota (cgroups): a pod limited to one CPU on a
    32-core node counted 32 here, and started eight workers of about 90 MB each
    in a pod of 512 MB."""
    from loky import cpu_count  # 36 ms to import: once a large job, not at start-up

    usable = cpu_count()
    return 0 if usable < 2 else min(usable, MAX_WORKERS)


def prepared(
    setup: Setup, pieces: Iterable[tuple[list, int]], workers: int
) -> Iterator[tuple[list, Prepared, int]]:
    """(batch, prepared piece, position after it in the file) for each (batch, position)."""
    if workers < 1:
        for batch, position in pieces:
            yield batch, prepare(setup, batch), position
        return
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["services.customer.imports.preparation"])
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker)
    try:
        started = [pool.submit(_ready) for _ in range(workers)]
        ahead: deque = deque()
        for batch, position in pieces:
            if not ahead and not all(future.done() for future in started):
                # Starting the workers takes a second: meanwhile, do the work here.
                yield batch, prepare(setup, batch), position
                continue
            ahead.append((batch, pool.submit(prepare, setup, batch), position))
            if len(ahead) > AHEAD * workers:
                batch, future, at = ahead.popleft()
                yield batch, future.result(), at
        while ahead:
            batch, future, at = ahead.popleft()
            yield batch, future.result(), at
    finally:
        # A failed write stops the job: drop what was queued rather than finish it.
        pool.shutdown(wait=True, cancel_futures=True)


def _start_worker() -> None:
    # A worker is a long-running process too: what it imported at start-up stays out
    # of the full collections its pieces' allocations trigger.
    freeze_startup_objects()
    # The importing process's writes are the one serial step of a job: with as many
    # workers as cores, the workers took the cores from it while it wrote a chunk
    # (a fifth of a core over its first chunk's writes) and then waited for it.
    # Niced, a worker preparing pieces ahead yields to it.
    os.nice(WORKER_NICENESS)


def _ready() -> bool:
    return True
