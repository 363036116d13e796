"""The field rules every schema of the calls API shares: segment and slug names, a
non-blank text, and the create-or-edit field maker."""

from marshmallow import validate

SEGMENT = validate.Regexp(
    r"^[a-z0-9][a-z0-9_-]{0,63}$", error="Lower-case letters, digits, '-' and '_' (at most 64)."
)
NOT_BLANK = validate.Regexp(r"^\s*\S", error="Must not be blank.")
SLUG = validate.Regexp(
    r"^[a-z0-9][a-z0-9_-]{0,63}$", error="Lower-case letters, digits, '-' and '_' (at most 64)."
)


def defaults_unless_editing(edit: bool):
    """A field maker for schemas shared by create and edit: a field made by it gets
    ``default`` as its load default when creating, and none when editing (where a
    field left out means "unchanged")."""

    def field(field_cls, *args, default=None, **kw):
        if not edit:
            kw["load_default"] = default
        return field_cls(*args, **kw)

    return field
