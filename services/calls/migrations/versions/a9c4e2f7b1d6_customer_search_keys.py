"""customers: name_key and phone_key, the keys the workspace search finds a customer
by (shared.search_keys), filled here for the rows already projected

Revision ID: a9c4e2f7b1d6
Revises: f3b9d2a6c8e1
Create Date: 2026-12-06 15:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.search_keys import as_phone, name_key

# revision identifiers, used by Alembic.
revision: str = "a9c4e2f7b1d6"
down_revision: str | Sequence[str] | None = "f3b9d2a6c8e1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_key", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("phone_key", sa.String(length=20), nullable=True))
        batch_op.create_index("ix_customers_name_key", ["name_key"], unique=False)
        batch_op.create_index("ix_customers_phone_key", ["phone_key"], unique=False)
    customers = sa.table(
        "customers",
        sa.column("customer_id", sa.String),
        sa.column("name", sa.String),
        sa.column("phone", sa.String),
        sa.column("name_key", sa.String),
        sa.column("phone_key", sa.String),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(customers.c.customer_id, customers.c.name, customers.c.phone)
    ).all()
    for row in rows:
        bind.execute(
            customers.update()
            .where(customers.c.customer_id == row.customer_id)
            .values(
                name_key=name_key(row.name) if row.name else None,
                phone_key=as_phone(row.phone) if row.phone else None,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index("ix_customers_phone_key")
        batch_op.drop_index("ix_customers_name_key")
        batch_op.drop_column("phone_key")
        batch_op.drop_column("name_key")
