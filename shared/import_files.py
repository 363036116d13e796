"""Reading an uploaded import file (CSV or JSON Lines) as a stream: its records one
by one with the line each ended on, and how many bytes were read so far (a job's
progress). Nothing holds more than the record at hand."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

from shared.errors import Invalid


class Counting(io.RawIOBase):
    """A binary file that counts the bytes read through it (for progress)."""

    def __init__(self, raw):
        self.raw, self.count = raw, 0

    def readable(self):
        return True

    def readinto(self, buffer):
        n = self.raw.readinto(buffer)
        self.count += n or 0
        return n


def records(fmt: str, counter: Counting) -> Iterator[tuple[int, dict | None, str | None]]:
    """(line number, record or None, why it could not be read) for each row."""
    text = io.TextIOWrapper(
        io.BufferedReader(counter), encoding="utf-8-sig", errors="replace", newline=""
    )
    if fmt == "jsonl":
        for number, line in enumerate(text, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as exc:
                yield number, None, f"not valid JSON: {exc}"
                continue
            yield (
                (number, record, None)
                if isinstance(record, dict)
                else (number, None, "each line must be a JSON object")
            )
        return
    lines = _Numbered(text)
    reader = csv.DictReader(lines)
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield lines.count, None, f"malformed CSV: {exc}"
            continue
        yield lines.count, record, None


class _Numbered:
    """The lines of a file, counted as the CSV reader takes them: the count is the
    physical line a record (or an error) ended on."""

    def __init__(self, lines):
        self.lines, self.count = lines, 0

    def __iter__(self):
        return self

    def __next__(self):
        line = next(self.lines)
        self.count += 1
        return line


def csv_header(path: Path, limit: int) -> list[str]:
    """The first line of an uploaded CSV file as its columns (at most ``limit``
    bytes read), or Invalid naming why it cannot be read."""
    with path.open("rb") as fh:
        first = fh.readline(limit)
    try:
        return next(csv.reader([first.decode("utf-8-sig")]))
    except (UnicodeDecodeError, StopIteration, csv.Error) as exc:
        raise Invalid(
            "the CSV header cannot be read (it must be UTF-8)",
            errors={"file": [str(exc) or "No header line."]},
        ) from exc
