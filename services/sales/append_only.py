"""The database itself refuses to change or delete a ledger row.

No code path here updates or deletes these tables; the triggers make sure nothing
else can either (a stray script, a future bug): an UPDATE or DELETE raises. A
correction is a new, reversing entry. Installed by a migration, on PostgreSQL and
SQLite alike.

A later migration that alters a ledger table on SQLite in batch mode recreates the
table, and the table's triggers go with the old one: such a migration must call
``remove`` before and ``install`` after.
"""

from __future__ import annotations

LEDGER_TABLES = (
    "sales",
    "sale_lines",
    "sale_returns",
    "return_lines",
    "sale_cancellations",
    "call_costs",
    "allocations",
    "allocation_shares",
    "product_prices",
    "deal_stages",
)
MESSAGE = "the sales ledger is append-only: record a reversing entry instead"


def install(connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(
            "CREATE OR REPLACE FUNCTION sales_ledger_append_only() RETURNS trigger AS $$ "
            f"BEGIN RAISE EXCEPTION '{MESSAGE} (%% on %%)', TG_OP, TG_TABLE_NAME; END $$ "
            "LANGUAGE plpgsql"
        )
        for table in LEDGER_TABLES:
            connection.exec_driver_sql(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION sales_ledger_append_only()"
            )
        return
    for table in LEDGER_TABLES:
        for operation in ("UPDATE", "DELETE"):
            connection.exec_driver_sql(
                f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            )


def remove(connection) -> None:
    if connection.dialect.name == "postgresql":
        for table in LEDGER_TABLES:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        connection.exec_driver_sql("DROP FUNCTION IF EXISTS sales_ledger_append_only()")
        return
    for table in LEDGER_TABLES:
        for operation in ("update", "delete"):
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_{operation}")
