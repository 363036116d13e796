"""What the partner clients' routes and the token endpoint accept and answer."""

from marshmallow import Schema, fields, validate

from services.calls.validation import NOT_BLANK
from shared.web.pagination import page_schema


class PartnerClientIn(Schema):
    name = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=200), NOT_BLANK],
        metadata={"description": "What the client is, for people: 'Acme dialler, production'."},
    )


class PartnerClientOut(Schema):
    client_id = fields.String(attribute="id")
    partner_id = fields.String()
    name = fields.String()
    status = fields.Function(
        lambda c: "revoked" if c.revoked_at else "active",
        metadata={"type": "string", "enum": ["active", "revoked"]},
    )
    created_at = fields.DateTime()
    created_by = fields.String()
    revoked_at = fields.DateTime(allow_none=True)
    revoked_by = fields.String(allow_none=True)
    last_token_at = fields.DateTime(
        allow_none=True, metadata={"description": "When the client was last given a token."}
    )


class PartnerClientCreated(PartnerClientOut):
    client_secret = fields.String(
        metadata={"description": "Shown only in this answer; Rapport keeps only a hash of it."}
    )


PartnerClientPage = page_schema(PartnerClientOut, "PartnerClientPage")


class TokenRequest(Schema):
    """RFC 6749 §4.4.2, sent as application/x-www-form-urlencoded."""

    grant_type = fields.String(required=True, metadata={"enum": ["client_credentials"]})
    client_id = fields.String(
        metadata={
            "description": "With client_secret, unless the client authenticates by HTTP Basic."
        }
    )
    client_secret = fields.String()
    scope = fields.String(
        metadata={"description": "Ignored: a token carries its partner's access, no more."}
    )


class TokenOut(Schema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"enum": ["Bearer"]})
    expires_in = fields.Integer(required=True, metadata={"description": "Seconds."})


class OAuthError(Schema):
    """RFC 6749 §5.2."""

    error = fields.String(
        required=True,
        metadata={
            "enum": [
                "invalid_request",
                "invalid_client",
                "unsupported_grant_type",
                "unauthorized_client",
            ]
        },
    )
    error_description = fields.String()
