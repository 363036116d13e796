"""The loose values the contracts have always accepted, made exact before msgspec
checks them again.

Until the contracts moved to msgspec they were marshmallow schemas, which take a few
values msgspec's strict mode refuses: an integer as ``"4"`` or ``42.9`` (truncated),
a boolean as ``"yes"`` or ``"on"``, a number as a string, any ISO 8601 time Python
reads. Events already in outboxes and dead-letter queues may hold them, so a payload
that fails the strict check is loosened here, field by field from the contract's own
type information (``msgspec.inspect``), and checked once more. Nothing is loosened
that marshmallow refused; a well-formed event never comes here.

A producer's payload is loosened a little further, as marshmallow's dump did before
its load: a string field takes ``str()`` of whatever it is given, a number field the
number (a boolean too), a list whatever iterable it is given, a nested contract the
attributes of an object given in place of a mapping.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

import msgspec
from msgspec import inspect

# marshmallow's Boolean: the values it reads as true and as false.
TRUTHY = frozenset(
    {"t", "T", "true", "True", "TRUE", "on", "On", "ON", "y", "Y", "yes", "Yes", "YES", "1", 1}
)
FALSY = frozenset(
    {"f", "F", "false", "False", "FALSE", "off", "Off", "OFF", "n", "N", "no", "No", "NO", "0", 0}
)


@cache
def type_info(kind: type) -> inspect.Type:
    return inspect.type_info(kind)


def loosen(value: Any, kind: type, producing: bool = False) -> Any:
    """``value`` with the loose values ``kind`` accepts made exact; the rest unchanged."""
    return _loosen(value, type_info(kind), producing)


def _loosen(value: Any, info: inspect.Type, producing: bool) -> Any:
    if value is None:
        return None
    if isinstance(info, inspect.UnionType):
        exact = [t for t in info.types if not isinstance(t, inspect.NoneType)]
        return _loosen(value, exact[0], producing) if len(exact) == 1 else value
    if isinstance(info, inspect.Metadata):
        return _loosen(value, info.type, producing)
    for kind, convert in _CONVERTERS:
        if isinstance(info, kind):
            return convert(value, info, producing)
    return value


def _struct(value, info: inspect.StructType, producing: bool):
    if not isinstance(value, dict):
        if not producing or isinstance(value, (list, tuple)):
            return value
        # As marshmallow's dump read a nested object: its attributes of the fields' names.
        value = {
            each.encode_name: getattr(value, each.name)
            for each in info.fields
            if hasattr(value, each.name)
        }
    out = dict(value)
    for each in info.fields:
        if each.encode_name in out:
            out[each.encode_name] = _loosen(out[each.encode_name], each.type, producing)
    return out


def _list(value, info, producing: bool):
    if not isinstance(value, (list, tuple)):
        if not (producing and isinstance(value, Iterable)):
            return value
        value = list(value)  # as marshmallow's dump iterated it
    return [_loosen(each, info.item_type, producing) for each in value]


def _dict(value, info: inspect.DictType, producing: bool):
    if not isinstance(value, dict):
        if not producing:
            return value
        try:
            value = dict(value)  # as marshmallow's dump made it a mapping
        except (TypeError, ValueError):
            return value
    return {key: _loosen(each, info.value_type, producing) for key, each in value.items()}


def _int(value, _info, producing: bool):
    if isinstance(value, bool):
        return int(value) if producing else value  # marshmallow's load refuses it
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    if isinstance(value, str) or (producing and isinstance(value, Decimal)):
        try:
            return int(value)
        except (ValueError, InvalidOperation, OverflowError):
            return value
    return value


def _float(value, _info, producing: bool):
    if isinstance(value, str) or (producing and isinstance(value, (Decimal, bool))):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _decimal(value, _info, _producing: bool):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            return value
    return value


def _bool(value, _info, _producing: bool):
    try:
        if value in TRUTHY:
            return True
        if value in FALSY:
            return False
    except TypeError:  # unhashable
        pass
    return value


def _str(value, _info, producing: bool):
    return str(value) if producing and not isinstance(value, str) else value


def _iso(parse):
    def convert(value, _info, _producing: bool):
        if isinstance(value, str):
            try:
                return parse(value)
            except ValueError:
                return value
        return value

    return convert


_CONVERTERS: tuple = (
    (inspect.StructType, _struct),
    (inspect.ListType, _list),
    (inspect.DictType, _dict),
    (inspect.IntType, _int),
    (inspect.FloatType, _float),
    (inspect.DecimalType, _decimal),
    (inspect.BoolType, _bool),
    (inspect.StrType, _str),
    (inspect.DateTimeType, _iso(datetime.fromisoformat)),
    (inspect.DateType, _iso(date.fromisoformat)),
    (inspect.UUIDType, _iso(uuid.UUID)),
)


def convert(value: Any, kind: type, producing: bool = False) -> Any:
    """``value`` as ``kind``, strictly; failing that, loosened as above and checked
    strictly once more (raising ``msgspec.ValidationError``)."""
    try:
        return msgspec.convert(value, kind)
    except msgspec.ValidationError:
        return msgspec.convert(loosen(value, kind, producing), kind)
