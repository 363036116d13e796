"""The sales P&L for one year at 10k, 100k and 1M transaction lines: Rapport's
``/pnl`` use case (a GROUP BY over the maintained ``pnl_daily`` summary) against the
same P&L written by hand in SQL over the ledger tables, on the same PostgreSQL
database, in the same run; ratio = Rapport / hand-written.

    python -m bench.pnl [--lines 10000,100000,1000000] [--repeat 5]

Each size gets a fresh database, migrated like the service's, filled with COPY: a
year of sales (about three lines each) for 2,000 customers and 200 products, 3 % of
lines returned, 1 % of sales cancelled, one call cost per five lines, and twelve
monthly allocations. The summary is filled from the same ledger by one
``INSERT … SELECT … GROUP BY`` equal to what booking each entry incrementally
produces (the tests check that booking), and both answers are compared before
anything is timed: a fast wrong answer does not count.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import time
import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from services.sales import config
from services.sales.db import Outbox
from services.sales.pnl import statement
from shared import migrations
from shared.db import Database
from shared.messaging.unit_of_work import UnitOfWorkFactory

ADMIN_URL = os.environ.get(
    "RAPPORT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
ZONE = "Asia/Hong_Kong"
START, END = date(2025, 1, 1), date(2025, 12, 31)
SEGMENTS = ("smb", "retail", "enterprise", "public", "wholesale")
TEAMS, CHANNELS, KINDS = (
    ("east", "west", "north", ""),
    ("phone", "visit", "email", ""),
    ("staff", "partner", ""),
)
GROUPS = ("customer", "segment", "product", "team")
UNIT = 10000  # Money columns hold ten-thousandths

# The P&L by hand: every ledger entry with its local day and dimensions, then one
# GROUP BY. Mirrors the definitions in docs/sales.md.
ENTRIES = f"""
WITH entries AS (
  SELECT (s.recorded_at AT TIME ZONE '{ZONE}')::date AS day, s.currency, s.customer_id,
         coalesce(s.segment, '') AS segment, coalesce(l.sku, '') AS product,
         coalesce(s.channel, '') AS channel, coalesce(s.team, '') AS team,
         coalesce(s.agent_kind, '') AS agent_kind,
         l.revenue_cents + l.discount_cents AS revenue, l.discount_cents AS discounts,
         0::bigint AS returns, l.cost_cents AS cost_of_goods, 0::bigint AS cost_to_serve,
         0::bigint AS allocations, 0 AS calls
  FROM sale_lines l JOIN sales s ON s.id = l.sale_id
  UNION ALL
  SELECT (r.returned_at AT TIME ZONE '{ZONE}')::date, s.currency, s.customer_id,
         coalesce(s.segment, ''), coalesce(l.sku, ''), coalesce(s.channel, ''),
         coalesce(s.team, ''), coalesce(s.agent_kind, ''),
         0, 0, rl.revenue_cents, -rl.cost_cents, 0, 0, 0
  FROM return_lines rl JOIN sale_returns r ON r.id = rl.return_id
  JOIN sales s ON s.id = r.sale_id
  JOIN sale_lines l ON l.sale_id = rl.sale_id AND l.line_no = rl.line_no
  UNION ALL
  SELECT (c.cancelled_at AT TIME ZONE '{ZONE}')::date, s.currency, s.customer_id,
         coalesce(s.segment, ''), coalesce(l.sku, ''), coalesce(s.channel, ''),
         coalesce(s.team, ''), coalesce(s.agent_kind, ''),
         -(l.revenue_cents + l.discount_cents), -l.discount_cents, 0, -l.cost_cents, 0, 0, 0
  FROM sale_cancellations c JOIN sales s ON s.id = c.sale_id
  JOIN sale_lines l ON l.sale_id = s.id
  UNION ALL
  SELECT (k.completed_at AT TIME ZONE '{ZONE}')::date, k.currency, k.customer_id,
         coalesce(k.segment, ''), '', coalesce(k.channel, ''), coalesce(k.team, ''),
         coalesce(k.agent_kind, ''), 0, 0, 0, 0, k.cost, 0, 1
  FROM call_costs k
  UNION ALL
  SELECT a.period_start, a.currency, sh.customer_id, coalesce(a.segment, cu.segment, ''), '',
         coalesce(a.channel, ''), coalesce(a.team, ''), '', 0, 0, 0, 0, 0, sh.amount, 0
  FROM allocation_shares sh JOIN allocations a ON a.id = sh.allocation_id
  LEFT JOIN customers cu ON cu.customer_id = sh.customer_id
)"""
SUMS = (
    "sum(revenue), sum(discounts), sum(returns), sum(cost_of_goods), "
    "sum(cost_to_serve), sum(allocations), sum(calls)"
)


def hand_query(column: str) -> str:
    return (
        f"{ENTRIES} SELECT {column}, {SUMS} FROM entries WHERE currency = 'HKD' "
        f"AND day BETWEEN :start AND :end GROUP BY {column} ORDER BY {column}"
    )


def summary_query(column: str) -> str:
    """Rapport's own GROUP BY, hand-written: what the use case costs beyond its SQL."""
    return (
        f"SELECT {column}, {SUMS} FROM pnl_daily WHERE currency = 'HKD' "
        f"AND day BETWEEN :start AND :end GROUP BY {column} ORDER BY {column}"
    )


def fill_summary(conn) -> None:
    conn.execute(
        text(
            f"INSERT INTO pnl_daily {ENTRIES} SELECT day, currency, customer_id, segment, product, "
            f"channel, team, agent_kind, {SUMS} FROM entries GROUP BY day, currency, customer_id, "
            "segment, product, channel, team, agent_kind"
        )
    )


def _copy(raw, table: str, columns: tuple, rows) -> None:
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join("\\N" if v is None else str(v) for v in row) + "\n")
    buffer.seek(0)
    with (
        raw.cursor() as cur,
        cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        while chunk := buffer.read(1 << 20):
            copy.write(chunk)


def generate(engine, lines: int, seed: int = 5) -> None:
    rng = random.Random(seed)
    year0 = datetime(2025, 1, 1, tzinfo=UTC) - timedelta(hours=8)
    customers = [f"c{i:05d}" for i in range(2000)]
    segment_of = {c: SEGMENTS[i % len(SEGMENTS)] for i, c in enumerate(customers)}
    skus = [f"SKU{i:04d}" for i in range(200)]
    now = datetime.now(UTC).isoformat()
    sales, sale_lines, returns, return_lines, cancels = [], [], [], [], []
    made = 0
    while made < lines:
        sale_id = str(uuid.UUID(int=rng.getrandbits(128)))
        customer = rng.choice(customers)
        at = year0 + timedelta(seconds=rng.randint(0, 365 * 86400 - 1))
        rev = cost = disc = 0
        count = min(rng.randint(1, 5), lines - made)
        mine = []
        for no in range(1, count + 1):
            qty, price, unit_cost = (
                rng.randint(1, 10),
                rng.randint(100, 50000),
                rng.randint(50, 40000),
            )
            discount = rng.randint(0, qty * price // 10) if rng.random() < 0.2 else 0
            net = qty * price - discount
            mine.append(
                (
                    sale_id,
                    no,
                    rng.choice(skus),
                    "",
                    qty * UNIT,
                    price * 100,
                    unit_cost * 100,
                    discount * 100,
                    net * 100,
                    discount * 100,
                    qty * unit_cost * 100,
                )
            )
            rev, cost, disc = rev + net, cost + qty * unit_cost, disc + discount
        sale_lines += mine
        made += count
        sales.append(
            (
                sale_id,
                customer,
                "HKD",
                at.isoformat(),
                rev * 100,
                cost * 100,
                disc * 100,
                segment_of[customer],
                rng.choice(CHANNELS) or None,
                rng.choice(TEAMS) or None,
                rng.choice(KINDS) or None,
                "f",
                now,
                "bench",
            )
        )
        roll = rng.random()
        if roll < 0.03 * count:
            line = rng.choice(mine)
            rid = str(uuid.UUID(int=rng.getrandbits(128)))
            back = at + timedelta(days=rng.randint(0, 40))
            returns.append(
                (
                    rid,
                    sale_id,
                    customer,
                    "HKD",
                    back.isoformat(),
                    int((back - at).total_seconds()),
                    line[8],
                    line[10],
                    now,
                    "bench",
                )
            )
            return_lines.append((rid, line[1], sale_id, line[4], line[8], line[10]))
        elif roll > 0.99:
            cancels.append((sale_id, (at + timedelta(days=1)).isoformat(), "bench", "bench"))
    calls = []
    for n in range(lines // 5):
        customer = rng.choice(customers)
        at = year0 + timedelta(seconds=rng.randint(0, 365 * 86400 - 1))
        calls.append(
            (
                f"call-{n}",
                customer,
                at.isoformat(),
                rng.randint(0, 20000) * 100,
                "HKD",
                "reached",
                rng.choice(CHANNELS[:3]),
                rng.choice(TEAMS[:3]),
                rng.choice(KINDS[:2]),
                segment_of[customer],
                now,
            )
        )
    allocations, shares = [], []
    for month in range(1, 13):
        aid = str(uuid.UUID(int=rng.getrandbits(128)))
        chosen = sorted(rng.sample(customers, 200))
        amounts = [rng.randint(1, 100000) for _ in chosen]
        allocations.append(
            (
                aid,
                "training",
                sum(amounts) * 100,
                "HKD",
                TEAMS[month % 3],
                date(2025, month, 1).isoformat(),
                date(2025, month, 28).isoformat(),
                "calls",
                now,
                "bench",
            )
        )
        shares += [(aid, c, 1 * UNIT, a * 100) for c, a in zip(chosen, amounts)]
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        _copy(
            driver,
            "customers",
            ("customer_id", "segment", "name", "erased"),
            [(c, segment_of[c], c, "f") for c in customers],
        )
        _copy(
            driver,
            "sales",
            (
                "id",
                "customer_id",
                "currency",
                "recorded_at",
                "revenue",
                "cost",
                "discount",
                "segment",
                "channel",
                "team",
                "agent_kind",
                "below_cost",
                "created_at",
                "created_by",
            ),
            sales,
        )
        _copy(
            driver,
            "sale_lines",
            (
                "sale_id",
                "line_no",
                "sku",
                "description",
                "quantity",
                "unit_price",
                "unit_cost",
                "discount",
                "revenue_cents",
                "discount_cents",
                "cost_cents",
            ),
            sale_lines,
        )
        _copy(
            driver,
            "sale_returns",
            (
                "id",
                "sale_id",
                "customer_id",
                "currency",
                "returned_at",
                "seconds_after_sale",
                "revenue",
                "cost",
                "created_at",
                "created_by",
            ),
            returns,
        )
        _copy(
            driver,
            "return_lines",
            ("return_id", "line_no", "sale_id", "quantity", "revenue_cents", "cost_cents"),
            return_lines,
        )
        _copy(
            driver,
            "sale_cancellations",
            ("sale_id", "cancelled_at", "reason", "created_by"),
            cancels,
        )
        _copy(
            driver,
            "call_costs",
            (
                "call_id",
                "customer_id",
                "completed_at",
                "cost",
                "currency",
                "outcome",
                "channel",
                "team",
                "agent_kind",
                "segment",
                "booked_at",
            ),
            calls,
        )
        _copy(
            driver,
            "allocations",
            (
                "id",
                "kind",
                "amount",
                "currency",
                "team",
                "period_start",
                "period_end",
                "rule",
                "recorded_at",
                "recorded_by",
            ),
            allocations,
        )
        _copy(
            driver,
            "allocation_shares",
            ("allocation_id", "customer_id", "weight", "amount"),
            shares,
        )
        driver.commit()
    finally:
        raw.close()
    with engine.begin() as conn:
        fill_summary(conn)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def _timed(fn, repeat: int) -> float:
    fn()  # warm the cache and the plan
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(url: str, lines: int, repeat: int) -> list[tuple]:
    migrations.upgrade(url, config.MIGRATIONS)
    db = Database(url)
    started = time.perf_counter()
    generate(db.engine, lines)
    print(f"  generated {lines:,} lines in {time.perf_counter() - started:.1f} s", flush=True)
    with db.engine.connect() as conn:
        summary_rows = conn.execute(text("SELECT count(*) FROM pnl_daily")).scalar()
    uow = UnitOfWorkFactory(db, Outbox, "sales")
    results = []
    for group in GROUPS:
        column = statement.GROUPS[group]

        def rapport(group=group):
            return statement.report(uow, group, "HKD", START, END)

        def by_hand(sql):
            def run():
                with db.engine.connect() as conn:
                    return conn.execute(text(sql), {"start": START, "end": END}).all()

            return run

        hand, raw = by_hand(hand_query(column)), by_hand(summary_query(column))

        _check(rapport(), hand())
        ours, theirs, bare = _timed(rapport, repeat), _timed(hand, repeat), _timed(raw, repeat)
        results.append((group, ours, theirs, bare))
        print(
            f"  {group:9} rapport {ours * 1000:8.1f} ms   hand-written on the ledger "
            f"{theirs * 1000:8.1f} ms   ratio {ours / theirs:5.2f}   (its summary SQL alone "
            f"{bare * 1000:7.1f} ms; {summary_rows:,} summary rows)",
            flush=True,
        )
    db.dispose()
    return results


def _check(report: dict, rows: list) -> None:
    names = ("revenue", "discounts", "returns", "cost_of_goods", "cost_to_serve", "allocations")
    ours = {
        g["key"]: tuple(int(g[n] * 100) for n in names) + (g["calls"],) for g in report["groups"]
    }
    theirs = {
        (row[0] or None): tuple(int(v) // 100 for v in row[1:7]) + (int(row[7]),) for row in rows
    }
    if ours != theirs:
        raise SystemExit("the P&L and the hand-written query disagree: not timing it")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", default="10000,100000,1000000")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--admin-url", default=ADMIN_URL)
    args = parser.parse_args()
    admin = create_engine(args.admin_url, isolation_level="AUTOCOMMIT")
    for lines in (int(n) for n in args.lines.split(",")):
        name = f"rapport_bench_pnl_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(args.admin_url).set(database=name).render_as_string(hide_password=False)
        print(f"{lines:,} transaction lines, one year, PostgreSQL", flush=True)
        try:
            measure(url, lines, args.repeat)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


if __name__ == "__main__":
    main()
