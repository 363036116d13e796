"""What the PDPO routes accept and answer: consents, an erasure's reason, everything
held about a data subject, and the export across services (marshmallow, edges only)."""

from marshmallow import Schema, fields, validate

from services.customer.profiles.schemas import CustomerOut, VersionOut
from services.customer.relationship.schemas import ActivityOut
from shared.events.contracts import CHANNELS


class ConsentIn(Schema):
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    purpose = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^[a-z0-9][a-z0-9_-]{0,63}$", error="A purpose code such as 'insurance-products'."
        ),
    )
    status = fields.String(required=True, validate=validate.OneOf(("granted", "withdrawn")))
    source = fields.String(required=True, validate=validate.Length(min=1, max=64))
    notice_version = fields.String(load_default=None, validate=validate.Length(max=32))


class ConsentOut(Schema):
    channel = fields.String()
    purpose = fields.String()
    status = fields.String()
    source = fields.String()
    notice_version = fields.String(allow_none=True)
    actor = fields.String()
    recorded_at = fields.DateTime()


class ConsentsOut(Schema):
    customer_id = fields.String()
    do_not_call = fields.Boolean()
    opt_out_notice_at = fields.DateTime(allow_none=True)
    current = fields.List(fields.Nested(ConsentOut))
    history = fields.List(fields.Nested(ConsentOut))


class ErasureIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class SubjectExport(Schema):
    profile = fields.Nested(CustomerOut)
    merged_profiles = fields.List(fields.String())
    consents = fields.List(fields.Nested(ConsentOut))
    history = fields.List(fields.Nested(VersionOut))
    activities = fields.List(fields.Nested(ActivityOut))
    data_quality_items = fields.List(fields.Dict())


STATUSES = "pending, complete, incomplete (a service missed the deadline) or erased"


class ExportOut(Schema):
    id = fields.String()
    customer_id = fields.String()
    status = fields.String(metadata={"description": STATUSES})
    requested_at = fields.DateTime()
    requested_by = fields.String()
    deadline_at = fields.DateTime()
    customer_ids = fields.List(
        fields.String(), metadata={"description": "The customer and the profiles merged into it."}
    )
    answered = fields.List(
        fields.String(), metadata={"description": "The services whose every part has arrived."}
    )
    missing = fields.List(fields.String())
    # Present once complete: this service's part, then each contributor's sections.
    customer = fields.Nested(SubjectExport)
    calls = fields.Dict(keys=fields.String(), values=fields.List(fields.Dict()))
    sales = fields.Dict(keys=fields.String(), values=fields.List(fields.Dict()))
