"""What an import file says: its sales, each as the transactions API would take it
(``SaleIn``, checked by the same schema), or the lines it is rejected on and why.

Each sale is loaded through the schema's own fields first (``row_fields``); a sale
that path cannot vouch for goes through ``Schema.load``, so every rejection and its
messages are marshmallow's own.

A JSON Lines file has one sale a line, in the API's own JSON. A CSV has one row a
sale line, the rows of a sale one after the other under the same
``external_ref`` (the shape of an invoice export: invoice number, customer, date,
then product, quantity and price a row). The sale's own cells (customer, date,
currency, attribution) are read from its first row; a later row may leave them
empty or repeat them, but not say something else.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from marshmallow import RAISE, ValidationError, fields

from services.sales.ledger.schemas import EXTERNAL_REF, SaleIn
from shared.web import row_fields

SALE_COLUMNS = (
    "external_ref",
    "customer_id",
    "recorded_at",
    "currency",
    "channel",
    "team",
    "agent_kind",
    "deal_id",
    "source_call_id",
    "approval_reason",
)
LINE_COLUMNS = ("sku", "description", "quantity", "unit_price", "unit_cost", "discount")
COLUMNS = SALE_COLUMNS + LINE_COLUMNS
_LINE = frozenset(LINE_COLUMNS)
REQUIRED = ("external_ref", "customer_id", "quantity")


class ImportSale(SaleIn):
    """A sale of an import: the API's, its ``external_ref`` required (re-importing a
    file skips what it recorded before by this reference)."""

    class Meta:
        unknown = RAISE

    external_ref = fields.String(required=True, validate=EXTERNAL_REF)


SCHEMA = ImportSale()


@dataclass
class Group:
    """The rows of one sale: (line, record) each, and reasons found while reading."""

    line: int  # where the sale starts
    ref: str
    rows: list[tuple[int, dict | None]] = field(default_factory=list)
    problems: list[tuple[int, dict]] = field(default_factory=list)


@dataclass
class Loaded:
    """A sale as loaded (``data``) or the reasons it is rejected, by line."""

    group: Group
    data: dict | None
    rejections: list[tuple[int, dict]]

    @property
    def lines(self) -> int:
        """The file's lines it took, unreadable ones included."""
        rows = {line for line, _ in self.group.rows}
        return len(rows | {line for line, _ in self.group.problems})


def header_problems(header: list[str]) -> list[str]:
    problems = [f"unknown column {c!r}" for c in header if c not in COLUMNS]
    problems += [f"column {c!r} appears twice" for c in sorted(set(header)) if header.count(c) > 1]
    problems += [f"missing column {c!r}" for c in REQUIRED if c not in header]
    return problems


def groups(fmt: str, records: Iterable[tuple[int, dict | None, str | None]]) -> Iterator[Group]:
    """The sales of a file, in order, from its (line, record, why unreadable) rows."""
    if fmt == "jsonl":
        for line, record, error in records:
            group = Group(line, str((record or {}).get("external_ref") or ""), [(line, record)])
            if error:
                group.problems.append((line, {"_row": [error]}))
            yield group
        return
    current: Group | None = None
    for line, record, error in records:
        if error or record is None:
            # An unreadable row may be a line of the sale in progress: that sale is
            # rejected rather than recorded without it.
            if current is None:
                current = Group(line, "")
            current.problems.append((line, {"_row": [error or "cannot be read"]}))
            continue
        ref = (record.get("external_ref") or "").strip()
        if current is not None and ref and ref == current.ref:
            current.rows.append((line, record))
            continue
        if current is not None:
            yield current
        current = Group(line, ref, [(line, record)])
    if current is not None:
        yield current


def load(group: Group, fmt: str) -> Loaded:
    """The group's sale checked by the schema, or why not (every line at fault)."""
    if not group.rows:
        return Loaded(group, None, list(group.problems))
    if fmt == "jsonl":
        data, problems = group.rows[0][1], list(group.problems)
        why = _unstorable(_texts(data)) if data is not None else None
        if why:
            problems.append((group.line, {"_row": [why]}))
    else:
        data, problems = _from_csv(group)
    if problems:
        return Loaded(group, None, problems)
    fast = row_fields.load(SCHEMA, data, remember=True)
    if fast is not None:
        return Loaded(group, fast, [])
    try:
        return Loaded(group, SCHEMA.load(data), [])
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_row": exc.messages}
        return Loaded(group, None, by_line(group, fmt, messages))


def by_line(group: Group, fmt: str, messages: dict) -> list[tuple[int, dict]]:
    """Messages about a sale ({"lines": {index: …}, field: […]}) on the lines they are
    about: a sale line's on its row of a CSV, the rest on the sale's first line."""
    first: dict = {}
    out: dict[int, dict] = {}
    for name, reasons in messages.items():
        if name == "lines" and isinstance(reasons, dict) and fmt == "csv":
            for index, problems in reasons.items():
                at = int(index) if str(index).isdigit() and int(index) < len(group.rows) else None
                if at is None:
                    first.setdefault("lines", {})[index] = problems
                    continue
                target = out.setdefault(group.rows[at][0], {})
                for key, text in (
                    problems.items() if isinstance(problems, dict) else {"_line": problems}.items()
                ):
                    target.setdefault(key, []).extend(text if isinstance(text, list) else [text])
        else:
            first[name] = reasons
    if first:
        merged = out.setdefault(group.line, {})
        for key, value in first.items():
            merged[key] = value
    return sorted(out.items())


def _from_csv(group: Group) -> tuple[dict, list[tuple[int, dict]]]:
    """The rows of a sale as the API's JSON (empty cells: not given), and the lines
    that cannot be read or contradict its first row."""
    problems = list(group.problems)
    first_line = group.rows[0][0]
    sale: dict = {}
    lines = []
    for number, (line, record) in enumerate(group.rows):
        if None in record:
            problems.append((line, {"_row": ["more cells than header columns"]}))
            continue
        # Every cell is text here (a missing one None): joined without a check each.
        why = _unstorable_text("".join(filter(None, record.values())))
        if why:
            problems.append((line, {"_row": [why]}))
            continue
        item, differs = {}, {}
        for column, value in record.items():
            value = value.strip() if value else value
            if not value:
                continue
            if column in _LINE:
                item[column] = value
            elif number == 0:
                sale[column] = value
            elif sale.get(column) != value:
                differs[column] = [f"Differs from line {first_line}, the sale's first row."]
        if differs:
            problems.append((line, differs))
        lines.append(item)
    sale["lines"] = lines
    return sale, problems


def _unstorable(values) -> str | None:
    """Why text cannot be taken as it is: bytes that were not UTF-8 (read as U+FFFD),
    or a NUL, which no database here stores."""
    return _unstorable_text("".join(value for value in values if isinstance(value, str)))


def _unstorable_text(text: str) -> str | None:
    if "\ufffd" in text:
        return "not valid UTF-8"
    if "\x00" in text:
        return "NUL characters (U+0000) are not accepted in text."
    return None


def _texts(value) -> Iterator:
    """Every value of a JSON document, nested ones included."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)
    else:
        yield value


def printable_ref(ref: str) -> str | None:
    """A rejected sale's reference as it can be stored beside its reasons."""
    return ref[:100] if ref and _unstorable([ref]) is None else None
