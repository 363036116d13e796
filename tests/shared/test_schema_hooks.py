"""``schema_hooks.hooks`` names the hooks marshmallow itself runs for a schema: the
plain dumping path, the import-row loader and the blueprint's empty-query answer
decide from it whether they may stand in for ``Schema.dump``/``Schema.load``."""

from __future__ import annotations

from typing import ClassVar

from marshmallow import (
    Schema,
    fields,
    post_dump,
    post_load,
    pre_dump,
    pre_load,
    validates,
    validates_schema,
)
from marshmallow.decorators import (
    POST_DUMP,
    POST_LOAD,
    PRE_DUMP,
    PRE_LOAD,
    VALIDATES,
    VALIDATES_SCHEMA,
)

from shared.web.schema_hooks import TAGS, hooks


class Plain(Schema):
    name = fields.String()


class Hooked(Plain):
    ran: ClassVar[list[str]] = []

    @pre_dump
    def before_dump(self, data, **_kw):
        self.ran.append("pre_dump")
        return data

    @post_dump(pass_original=True)
    def after_dump(self, data, original, **_kw):
        self.ran.append("post_dump")
        return data

    @pre_load
    def before_load(self, data, **_kw):
        self.ran.append("pre_load")
        return data

    @validates("name")
    def check_name(self, value, **_kw):
        self.ran.append("validates")

    @validates_schema
    def check_whole(self, data, **_kw):
        self.ran.append("validates_schema")

    @post_load
    def after_load(self, data, **_kw):
        self.ran.append("post_load")
        return data


def test_a_schema_without_hooks_has_every_tag_empty():
    assert set(hooks(Plain())) >= set(TAGS)
    assert not any(hooks(Plain()).values())


def test_each_hook_is_named_under_the_tag_marshmallow_runs_it_for():
    found = hooks(Hooked())
    assert [name for name, *_ in found[PRE_DUMP]] == ["before_dump"]
    assert [name for name, *_ in found[POST_DUMP]] == ["after_dump"]
    assert found[POST_DUMP][0][2].get("pass_original") is True
    assert [name for name, *_ in found[PRE_LOAD]] == ["before_load"]
    assert [name for name, *_ in found[VALIDATES]] == ["check_name"]
    assert [name for name, *_ in found[VALIDATES_SCHEMA]] == ["check_whole"]
    assert [name for name, *_ in found[POST_LOAD]] == ["after_load"]
    schema = Hooked()
    schema.dump({"name": "a"})
    schema.load({"name": "a"})
    assert sorted(Hooked.ran) == sorted(TAGS)  # marshmallow ran exactly those
