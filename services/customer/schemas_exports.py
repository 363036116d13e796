"""What the data-subject export routes answer."""
from marshmallow import Schema, fields

from services.customer.schemas import SubjectExport

STATUSES = "pending, complete, incomplete (a service missed the deadline) or erased"


class ExportOut(Schema):
    id = fields.String()
    customer_id = fields.String()
    status = fields.String(metadata={"description": STATUSES})
    requested_at = fields.DateTime()
    requested_by = fields.String()
    deadline_at = fields.DateTime()
    customer_ids = fields.List(fields.String(), metadata={
        "description": "The customer and the profiles merged into it."})
    answered = fields.List(fields.String(), metadata={
        "description": "The services whose every part has arrived."})
    missing = fields.List(fields.String())
    # Present once complete: this service's part, then each contributor's sections.
    customer = fields.Nested(SubjectExport)
    calls = fields.Dict(keys=fields.String(), values=fields.List(fields.Dict()))
    sales = fields.Dict(keys=fields.String(), values=fields.List(fields.Dict()))
