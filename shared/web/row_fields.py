"""An import row loaded through its schema's own fields, without the schema.

``Schema.load`` spends most of a row's time on machinery around the fields
(error stores, hooks looked up, nested schemas loaded through ``load``). Here each
value goes straight to the field that declares it: ``Field.deserialize`` is the
same type check, normalisation and validators (for a plain ``String`` given text,
which it returns as it is, just its validators); nested schemas are walked the same
way; then the schema's own ``validates_schema`` and ``post_load`` hooks run.

This path only ever accepts: at the first error, or at anything it does not
handle (an unknown key, a field with ``data_key``, hooks other than plain
schema validators and post-load steps), ``load`` answers None and the caller
loads the row with ``Schema.load``, which then reports what is wrong in its own
words. Phones and e-mails seen before are not parsed again (their normalised
form depends on nothing but the text and the field).

Only marshmallow's public API: ``Field.deserialize``, the fields' declared
attributes, and the schema's hooks as ``shared.web.schema_hooks`` reads them; the
tests hold every row to ``Schema.load``'s answer.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, KeysView

from marshmallow import Schema, ValidationError, fields, missing, validate
from marshmallow.decorators import POST_LOAD, PRE_LOAD, VALIDATES, VALIDATES_SCHEMA

from shared.web.fields import Email, Phone
from shared.web.schema_hooks import hooks


class _Unsure(Exception):
    """The fast path cannot vouch for this row: let ``Schema.load`` decide."""


def load(schema: Schema, data: dict, remember: bool = False) -> dict | None:
    """The row as ``schema.load(data)`` returns it, or None to ask it instead.
    ``remember``: a cell a pure field (``_pure``) accepted before is not checked
    again (an invoice export repeats its SKUs, prices, quantities, currency)."""
    try:
        return _load(schema, data, remember)
    except (_Unsure, ValidationError):
        return None


def _load(schema: Schema, data, remember: bool = False) -> dict:
    plan = _plan(schema)
    if not isinstance(data, dict) or plan is None:
        raise _Unsure
    steps, declared, keys = plan
    if not data.keys() <= keys:
        raise _Unsure  # unknown keys: RAISE, EXCLUDE and INCLUDE differ; ask marshmallow
    out = {}
    for key, field, convert in declared:  # in declared order, as marshmallow builds it
        if key in data:
            out[key] = _value(field, data[key], remember, convert)
        elif field.required:
            raise _Unsure
        elif field.load_default is not missing:
            default = field.load_default
            out[key] = default() if callable(default) else default
    for hook, post_load in steps:
        result = hook(out, many=False, partial=schema.partial, unknown=schema.unknown)
        if post_load:
            out = result
    return out


Steps = tuple[tuple[str, bool], ...]  # (hook method, whether it is a post_load) each
# A schema's plan, worked out once: its whole-row steps as bound methods, each field
# with its key and how it loads a value (``_converter``), and the fields' keys.
Plan = tuple[
    tuple[tuple[Callable, bool], ...],
    tuple[tuple[str, fields.Field, Callable], ...],
    KeysView,
]
_PLANS: dict[Schema, Plan | None] = {}


def _plan(schema: Schema) -> Plan | None:
    """None for a schema this path leaves to ``Schema.load`` (``_whole_row_steps``)."""
    if schema in _PLANS:
        return _PLANS[schema]
    steps = _whole_row_steps(schema)
    declared = schema.load_fields
    found = _PLANS[schema] = (
        None
        if steps is None
        else (
            tuple((getattr(schema, name), post_load) for name, post_load in steps),
            tuple((key, field, _converter(field)) for key, field in declared.items()),
            declared.keys(),
        )
    )
    return found


def _whole_row_steps(schema: Schema) -> Steps | None:
    """The schema validators and post-load steps ``Schema.load`` runs after the fields,
    in its order; None if the schema has hooks or options this path does not run
    exactly as ``Schema.load`` would."""
    found = hooks(schema)
    if found[PRE_LOAD] or found[VALIDATES] or schema.many or schema.partial:
        return None
    steps = []
    for tag in (VALIDATES_SCHEMA, POST_LOAD):
        for name, many, options in found[tag]:
            if many or options.get("pass_original"):
                return None
            steps.append((name, tag == POST_LOAD))
    if any(f.data_key is not None for f in schema.load_fields.values()):
        return None
    return tuple(steps)


def _value(field: fields.Field, value, remember: bool, convert: Callable | None = None):
    if remember and type(value) is str:
        found = _SEEN.get((field, value))  # only pure fields' successes are kept
        if found is not None:
            return found
    return (convert or _converter(field))(value, remember)


_CONVERTERS: dict[fields.Field, Callable] = {}


def _converter(field: fields.Field) -> Callable:
    """How a value of ``field`` is loaded, ``(value, remember) -> loaded``, chosen once
    per field: a value of a type the chosen path does not take goes to the field's
    own ``deserialize``."""
    found = _CONVERTERS.get(field)
    if found is None:
        found = _CONVERTERS[field] = _converter_for(field)
    return found


def _converter_for(field: fields.Field) -> Callable:
    deserialize = field.deserialize
    if isinstance(field, fields.Nested) and not field.many:

        def nested(value, remember):
            if isinstance(value, dict):
                return _validated(field, _load(field.schema, value, remember))
            return deserialize(value)

        return nested
    if (
        isinstance(field, fields.List)
        and isinstance(field.inner, fields.Nested)
        and not field.inner.many
    ):
        inner = field.inner

        def listed(value, remember):
            if isinstance(value, list):
                return _validated(field, [_value(inner, item, remember) for item in value])
            return deserialize(value)

        return listed
    if isinstance(field, (Phone, Email)):

        def contact(value, remember):
            return _normalised(field, value) if isinstance(value, str) else deserialize(value)

        return contact
    pure, plain = _pure(field), _plain_string(field)

    def scalar(value, remember):
        if type(value) is str:
            if remember and pure:
                return _normalised(field, value)
            if plain:
                return _validated(field, value)
        return deserialize(value)

    return scalar


# Fields whose answer depends on nothing but the text: their own conversion and
# marshmallow's declarative validators. A validator that is a plain function (say,
# "not in the future") may depend on more, so its field is checked every time.
_PURE_FIELDS = (fields.String, fields.Decimal, fields.Integer, fields.Boolean)
_PURE_VALIDATORS = (validate.Length, validate.Range, validate.OneOf, validate.Regexp)
_PURITY: dict[fields.Field, bool] = {}


def _pure(field: fields.Field) -> bool:
    found = _PURITY.get(field)
    if found is None:
        found = _PURITY[field] = (
            type(field).__module__.startswith(("marshmallow", "shared.web"))
            and isinstance(field, _PURE_FIELDS)
            and all(type(v) in _PURE_VALIDATORS for v in field.validators)
        )
    return found


_PLAIN: dict[fields.Field, bool] = {}


def _plain_string(field: fields.Field) -> bool:
    """Whether ``field`` is marshmallow's own ``String`` with no processors of its own:
    its ``deserialize`` of a ``str`` is then that ``str``, once its validators pass."""
    found = _PLAIN.get(field)
    if found is None:
        found = _PLAIN[field] = (
            type(field) is fields.String and not field.pre_load and not field.post_load
        )
    return found


def _validated(field: fields.Field, value):
    for validator in field.validators:
        if validator(value) is False:
            raise _Unsure
    return value


def ahead(field: fields.Field, texts) -> None:
    """Normalise a column of phones (or e-mails) in one run before its rows load.
    Alternating phonenumbers and email-validator row by row keeps evicting each
    one's tables from the processor's caches: a third slower than a column at a time."""
    for text in texts:
        with contextlib.suppress(ValidationError):  # the row will say why, in its own words
            _normalised(field, text)


_SEEN: dict[tuple[fields.Field, str], str] = {}
_SEEN_MAX = 50_000


def _normalised(field: fields.Field, text: str):
    """A phone, e-mail or pure field's result, remembered per field and text (only
    successes: a failure goes back to ``Schema.load`` anyway)."""
    key = (field, text)  # the field itself, not its id: an id can be reused
    found = _SEEN.get(key)
    if found is None:
        found = field.deserialize(text)
        if len(_SEEN) >= _SEEN_MAX:
            _SEEN.clear()
        _SEEN[key] = found
    return found
