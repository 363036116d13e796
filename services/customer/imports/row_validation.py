"""What one row of an import file says: CSV cells as the API's own fields, checked
by the API's own schema (``CustomerIn``), or the reasons the row is rejected.

CSV rows take the fast loader first (``row_fields``: the same fields without the
schema's machinery); a row it cannot vouch for goes through ``Schema.load``, so
every rejection and its messages are marshmallow's own.
"""

from __future__ import annotations

from functools import lru_cache

from marshmallow import RAISE, ValidationError

from services.customer.profiles.schemas import CustomerIn
from shared.web import row_fields

ADDRESS = ("line1", "line2", "district", "city", "postal_code", "country")
LISTS = ("phones", "emails", "tags")
COLUMNS = (
    "external_ref",
    "kind",
    "name",
    "phone",
    "phones",
    "email",
    "emails",
    "segment",
    "preferred_language",
    "lifecycle_status",
    "owner_team",
    "tags",
    "date_of_birth",
    "do_not_call",
    *(f"address_{k}" for k in ADDRESS),
)
TRUE, FALSE = {"true", "1", "yes", "y"}, {"false", "0", "no", "n"}


class ImportRow(CustomerIn):
    class Meta:
        unknown = RAISE
        exclude = ("confirm_duplicate",)


ROW = ImportRow()


@lru_cache(maxsize=64)
def schema_for(columns: tuple[str, ...]) -> ImportRow:
    """A row schema with only the fields a CSV's columns can fill: marshmallow
    visits every declared field of every row, so a narrower schema loads faster."""
    wanted = {"name", "segment"}
    for column in columns:
        if column.startswith("address_"):
            wanted.add(f"address.{column[8:]}")
        elif column in COLUMNS:
            wanted.add(column)
    return ImportRow(only=tuple(sorted(wanted)))


def header_problems(header: list[str]) -> list[str]:
    problems = [f"unknown column {c!r}" for c in header if c not in COLUMNS]
    problems += [f"column {c!r} appears twice" for c in set(header) if header.count(c) > 1]
    problems += [f"missing column {c!r}" for c in ("name", "segment") if c not in header]
    if not {"phone", "phones", "email", "emails"} & set(header):
        problems.append("no phone or e-mail column")
    return problems


def from_csv(record: dict) -> dict:
    """A CSV row as the API's JSON: empty cells are 'not given'."""
    if None in record:
        raise ValidationError({"_row": ["more cells than header columns"]})
    data: dict = {}
    for column, value in record.items():
        value = (value or "").strip()
        if not value:
            continue
        if column.startswith("address_"):
            data.setdefault("address", {})[column[8:]] = value
        elif column in LISTS:
            items = [v.strip() for v in value.split(";") if v.strip()]
            key = {"phones": "number", "emails": "address"}.get(column)
            data[column] = [{key: v} for v in items] if key else items
        elif column == "do_not_call":
            if value.lower() not in TRUE | FALSE:
                raise ValidationError({"do_not_call": ["Use true or false."]})
            data[column] = value.lower() in TRUE
        else:
            data[column] = value
    return data


def normalise_ahead(records: list[dict]) -> None:
    """Parse the phones and e-mails of a piece of CSV rows column by column, as
    their rows will ask for them (``row_fields.ahead``)."""
    by_header: dict[tuple, list[dict]] = {}
    for record in records:
        if None not in record:  # a row with surplus cells is refused anyway
            by_header.setdefault(tuple(record), []).append(record)
    for columns, group in by_header.items():
        fields_ = schema_for(columns).load_fields
        for column, nested in (
            ("phone", None),
            ("phones", "number"),
            ("email", None),
            ("emails", "address"),
        ):
            if column not in fields_:
                continue
            field = (
                fields_[column]
                if nested is None
                else fields_[column].inner.schema.load_fields[nested]
            )
            texts = []
            for record in group:  # the cells as from_csv hands them to the field
                cell = (record.get(column) or "").strip()
                if nested:
                    texts += [v.strip() for v in cell.split(";") if v.strip()]
                elif cell:
                    texts.append(cell)
            row_fields.ahead(field, texts)


def load(record: dict | None, error: str | None, fmt: str) -> tuple[dict | None, dict | None]:
    """(the row as loaded, None) or (None, the reasons it is rejected)."""
    if error:
        return None, {"_row": [error]}
    try:
        if fmt == "csv":
            data, schema = from_csv(record), schema_for(tuple(record))
            # A replaced byte survives into the row's values from its (text) cell.
            broken = any("\ufffd" in cell for cell in record.values() if cell)
        else:
            data, schema = record, ROW
            broken = any("\ufffd" in str(v) for v in data.values())
        if broken:
            return None, {"_row": ["not valid UTF-8"]}
        if fmt == "csv":
            loaded = row_fields.load(schema, data)
            if loaded is not None:
                return loaded, None
        return schema.load(data), None
    except ValidationError as exc:
        return None, exc.messages if isinstance(exc.messages, dict) else {"_row": exc.messages}
