"""The decorated hooks of a marshmallow schema (``pre_dump``, ``validates_schema``,
``post_load``, ...), read once per schema class through marshmallow's public
``SchemaMeta.resolve_hooks``: the plain dumping path, the import-row loader and the
blueprint's empty-query answer each need to know which hooks a schema runs."""

from __future__ import annotations

from functools import cache

from marshmallow import Schema
from marshmallow.decorators import (
    POST_DUMP,
    POST_LOAD,
    PRE_DUMP,
    PRE_LOAD,
    VALIDATES,
    VALIDATES_SCHEMA,
)

TAGS = (PRE_DUMP, POST_DUMP, PRE_LOAD, POST_LOAD, VALIDATES, VALIDATES_SCHEMA)
# (method name, many, options) for each hook, by tag.
Hooks = dict[str, tuple[tuple[str, bool, dict], ...]]


def hooks(schema: Schema) -> Hooks:
    """``schema``'s hooks by tag (every tag of ``TAGS`` present, maybe empty)."""
    return _of_class(type(schema))


@cache
def _of_class(cls: type[Schema]) -> Hooks:
    found = cls.resolve_hooks()
    return {tag: tuple(found.get(tag, ())) for tag in {*TAGS, *found}}
