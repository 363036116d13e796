"""What GET /call-plans/preview accepts and answers. A window comes as one query
value, ``MO,TU,WE 09:00-18:00``, and is then judged by the plan's own ``WindowIn``."""

from marshmallow import Schema, ValidationError, fields, validate

from services.calls.plans.schemas import WindowIn, _rrule, _timezone


def window_parts(text: str) -> dict:
    """``MO,TU 09:00-18:00`` as the plan's window body (not yet judged)."""
    days, _, span = text.strip().partition(" ")
    start, _, end = span.strip().partition("-")
    return {
        "days": [d for d in days.upper().split(",") if d],
        "start": start.strip(),
        "end": end.strip(),
    }


class WindowText(fields.String):
    """``DAYS HH:MM-HH:MM`` into the plan's window form."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return WindowIn().load(window_parts(text))
        except ValidationError as exc:
            raise ValidationError(
                f"Not a window like 'MO,TU 09:00-18:00': {exc.messages}"
            ) from None


class PreviewArgs(Schema):
    rrule = fields.String(required=True, validate=[validate.Length(min=1, max=500), _rrule])
    timezone = fields.String(load_default="Asia/Hong_Kong", validate=_timezone)
    starts_at = fields.AwareDateTime(
        load_default=None,
        metadata={"description": "the plan's start (its rule's DTSTART); now if left out"},
    )
    count = fields.Integer(strict=False, load_default=10, validate=validate.Range(min=1, max=50))
    window = fields.List(
        WindowText(validate=validate.Length(max=40)),
        load_default=list,
        validate=validate.Length(max=21),
        metadata={"description": "a calling window, e.g. 'MO,TU 09:00-18:00'"},
    )
    allow_holidays = fields.Boolean(load_default=False)


class PreviewItem(Schema):
    occurs_at = fields.DateTime(metadata={"description": "the rule's occurrence, local time"})
    due_at = fields.DateTime(metadata={"description": "where the windows place the call"})
    window_end = fields.DateTime()
    moved = fields.Boolean(metadata={"description": "the windows or a holiday moved it"})
    holiday = fields.String(allow_none=True)


class PreviewOut(Schema):
    rrule = fields.String()
    timezone = fields.String()
    starts_at = fields.DateTime()
    items = fields.List(fields.Nested(PreviewItem))
