"""Reading an import file: its records one by one with the line each ended on, in
batches, with how far into the file each batch reaches (the job's progress)."""

from __future__ import annotations

from collections.abc import Iterator

from shared.import_files import Counting, records

__all__ = ["Counting", "batches", "records"]


def batches(records: Iterator, counter: Counting, size: int) -> Iterator[tuple[list, int]]:
    """Batches of ``size`` records, each with the bytes read once it was taken."""
    batch: list = []
    for record in records:
        batch.append(record)
        if len(batch) >= size:
            yield batch, counter.count
            batch = []
    if batch:
        yield batch, counter.count
