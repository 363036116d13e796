"""partner_clients: partners' OAuth2 clients for the client-credentials grant

Revision ID: b6d1f3a8c2e5
Revises: a9c4e2f7b1d6
Create Date: 2026-12-06 16:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.types import UTCDateTime

# revision identifiers, used by Alembic.
revision: str = "b6d1f3a8c2e5"
down_revision: str | Sequence[str] | None = "a9c4e2f7b1d6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "partner_clients",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("partner_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("secret_hash", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("revoked_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=200), nullable=True),
        sa.Column("last_token_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_partner_clients_partner", "partner_clients", ["partner_id", "created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_partner_clients_partner", table_name="partner_clients")
    op.drop_table("partner_clients")
