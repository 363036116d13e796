"""What the customer API accepts and answers about profiles (marshmallow, edges only)."""

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from services.customer.segments.schemas import SEGMENT
from shared.web.fields import Email, Phone
from shared.web.pagination import PageArgs, page_schema

LANGUAGE = validate.Regexp(
    r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", error="A language tag such as 'zh-HK' or 'en'."
)
STATUSES = ("prospect", "active", "dormant", "lost", "archived")
POINT_STATUSES = ("valid", "bouncing", "invalid")
TEXT = validate.Length(max=200)


class AddressSchema(Schema):
    line1 = fields.String(validate=TEXT)
    line2 = fields.String(validate=TEXT)
    district = fields.String(validate=validate.Length(max=100))
    city = fields.String(validate=validate.Length(max=100))
    postal_code = fields.String(validate=validate.Length(max=20))
    country = fields.String(
        validate=validate.Regexp(r"^[A-Z]{2}$", error="An ISO 3166 code such as 'HK'.")
    )


class PhoneIn(Schema):
    number = Phone(required=True)
    do_not_contact = fields.Boolean(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(POINT_STATUSES))


class EmailIn(Schema):
    address = Email(required=True)
    do_not_contact = fields.Boolean(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(POINT_STATUSES))


class ProfileFields(Schema):
    """Fields a profile is written with; ``phone``/``email`` are shorthand for a
    one-entry ``phones``/``emails`` list."""

    kind = fields.String(validate=validate.OneOf(("person", "company")))
    name = fields.String(validate=validate.Length(min=1, max=200))
    phone = Phone()
    email = Email()
    phones = fields.List(fields.Nested(PhoneIn), validate=validate.Length(max=10))
    emails = fields.List(fields.Nested(EmailIn), validate=validate.Length(max=10))
    segment = fields.String(validate=SEGMENT)
    preferred_language = fields.String(allow_none=True, validate=LANGUAGE)
    owner_team = fields.String(allow_none=True, validate=validate.Length(max=64))
    external_ref = fields.String(allow_none=True, validate=validate.Length(min=1, max=100))
    tags = fields.List(
        fields.String(validate=validate.Length(min=1, max=50)), validate=validate.Length(max=50)
    )
    address = fields.Nested(AddressSchema, allow_none=True)
    date_of_birth = fields.Date(allow_none=True)
    do_not_call = fields.Boolean()

    @validates_schema
    def one_way_per_kind(self, data, **kwargs):
        for one, many in (("phone", "phones"), ("email", "emails")):
            if one in data and many in data:
                raise ValidationError(f"Send {one} or {many}, not both.", one)

    @post_load
    def gather_contact_points(self, data, **kwargs):
        points: dict[str, list[dict]] = {}
        if "phone" in data:
            points["phone"] = [{"number": data.pop("phone")}]
        if "email" in data:
            points["email"] = [{"address": data.pop("email")}]
        for kind, key, many in (("phone", "number", "phones"), ("email", "address", "emails")):
            entries = points.get(kind) if kind in points else data.pop(many, None)
            if entries is not None:
                points[kind] = [
                    {
                        "kind": kind,
                        "value": e[key],
                        "do_not_contact": e.get("do_not_contact"),
                        "status": e.get("status"),
                    }
                    for e in entries
                ]
        data["contact_points"] = points
        return data


class CustomerIn(ProfileFields):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    segment = fields.String(required=True, validate=SEGMENT)
    lifecycle_status = fields.String(validate=validate.OneOf(STATUSES[:-1]))
    confirm_duplicate = fields.Boolean(load_default=False)

    @validates_schema
    def reachable(self, data, **kwargs):
        if not any(data.get(k) for k in ("phone", "email", "phones", "emails")):
            raise ValidationError("Give at least one phone or e-mail.", "phone")


class CustomerPatch(ProfileFields):
    lifecycle_status = fields.String(validate=validate.OneOf(STATUSES))
    reason = fields.String(validate=validate.Length(max=500))


class AsOfArgs(Schema):
    as_of = fields.AwareDateTime(load_default=None)


class ContactPointOut(Schema):
    kind = fields.String()
    value = fields.String()
    do_not_contact = fields.Boolean()
    status = fields.String()


class CustomerOut(Schema):
    id = fields.String()
    kind = fields.String()
    name = fields.String()
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    contact_points = fields.List(fields.Nested(ContactPointOut))
    segment = fields.String()
    preferred_language = fields.String(allow_none=True)
    lifecycle_status = fields.String()
    owner_team = fields.String(allow_none=True)
    external_ref = fields.String(allow_none=True)
    tags = fields.List(fields.String())
    address = fields.Dict(allow_none=True)
    date_of_birth = fields.Date(allow_none=True)
    do_not_call = fields.Boolean()
    source = fields.String()
    referred_by_call_id = fields.String(allow_none=True)
    merged_into = fields.String(allow_none=True)
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    completeness = fields.Dict()
    last_contacted_at = fields.DateTime(allow_none=True)
    calls_completed = fields.Integer()
    satisfaction = fields.Integer(allow_none=True)
    satisfaction_avg = fields.Float(allow_none=True)
    satisfaction_trend = fields.Float(allow_none=True)
    propensity = fields.Integer(allow_none=True)
    lifetime_revenue = fields.Decimal(as_string=True)
    lifetime_margin = fields.Decimal(as_string=True)
    relationship_score = fields.Float(allow_none=True)
    as_of = fields.DateTime()


class CustomerListArgs(PageArgs):
    # One search box: a phone in any format, an e-mail, an external reference or a
    # name (see search.py).
    q = fields.String(load_default=None, validate=validate.Length(min=1, max=200))
    segment = fields.String(load_default=None, validate=SEGMENT)
    lifecycle_status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    owner_team = fields.String(load_default=None, validate=validate.Length(max=64))
    external_ref = fields.String(load_default=None, validate=validate.Length(max=100))
    phone = Phone(load_default=None)


class VersionOut(Schema):
    customer_id = fields.String()
    version = fields.Integer()
    changed_at = fields.DateTime()
    actor = fields.String()
    source = fields.String()
    reason = fields.String(allow_none=True)
    changes = fields.Dict()


CustomerPage = page_schema(CustomerOut, "CustomerPage")
VersionPage = page_schema(VersionOut, "VersionPage")
