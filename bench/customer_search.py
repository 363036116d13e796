"""Customer search at 100,000 customers: ``GET /customers?q=`` against the profile
read ``GET /customers/{id}`` (the baseline), both through the service's own app in
one process on the same migrated SQLite file, measured in turns in the same run.

A name search scans the name keys of the live customers (``LIKE '% word%'``, see
services/customer/profiles/search.py); a phone, an e-mail or an external reference is an
index look-up. Prints the median milliseconds of each and its ratio to the baseline.

    python -m bench.customer_search [--rows 100000] [--requests 200]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, insert, text

from bench.customer_import import migrated
from services.customer.profiles.matching import name_key
from services.customer.profiles.tables import ContactPoint, Customer
from shared.auth import issue_token

SECRET = "bench-secret-" + "x" * 32
SURNAMES = ("Chan", "Chân", "Wong", "Lee", "Cheung", "Lau", "Ng", "Ho", "Leung", "Yip")
GIVEN = ("Tai", "Tài", "Siu", "Ming", "Ka", "Yan", "Wing", "Kin", "Man", "Fong", "Wai", "Hei")


def populate(url: str, n: int) -> list[str]:
    """``n`` customers with varied names, a phone, an e-mail and a reference each."""
    engine, rng = create_engine(url), random.Random(7)
    now, ids = datetime.now(UTC), []
    with engine.begin() as conn:
        for start in range(0, n, 20_000):
            customers, points = [], []
            for i in range(start, min(start + 20_000, n)):
                cid = str(uuid.uuid4())
                ids.append(cid)
                name = f"{rng.choice(SURNAMES)} {rng.choice(GIVEN)} {rng.choice(GIVEN)} {i}"
                key, phone, email = name_key(name), f"+85291{i:06d}", f"c{i}@example.org"
                customers.append(
                    {
                        "id": cid,
                        "kind": "person",
                        "name": name,
                        "name_key": key,
                        "name_rkey": key[::-1],
                        "phone": phone,
                        "email": email,
                        "segment": "smb",
                        "lifecycle_status": "active",
                        "tags": "[]",
                        "version": 1,
                        "created_at": now,
                        "updated_at": now,
                        "calls_completed": 0,
                        "do_not_call": False,
                        "source": "import",
                        "lifetime_revenue": 0,
                        "lifetime_margin": 0,
                        "external_ref": f"ERP-{i}",
                    }
                )
                points += [
                    {
                        "id": str(uuid.uuid4()),
                        "customer_id": cid,
                        "kind": kind,
                        "value": value,
                        "do_not_contact": False,
                        "status": "valid",
                    }
                    for kind, value in (("phone", phone), ("email", email))
                ]
            conn.execute(insert(Customer.__table__), customers)
            conn.execute(insert(ContactPoint.__table__), points)
        conn.execute(text("ANALYZE"))
    engine.dispose()
    return ids


def median_ms(client, paths: list[str], headers: dict) -> float:
    times = []
    for path in paths:
        start = time.perf_counter()
        r = client.get(path, headers=headers)
        times.append((time.perf_counter() - start) * 1000)
        if r.status_code != 200:
            raise RuntimeError(f"{path} answered {r.status_code}")
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)  # at most 1,000,000
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    from services.customer.app import create_app

    with tempfile.TemporaryDirectory() as tmp:
        url = migrated(Path(tmp), "search.db")
        ids = populate(url, args.rows)
        app = create_app(
            {
                "CUSTOMER_DATABASE_URL": url,
                "RAPPORT_AUTH_SECRET": SECRET,
                "RAPPORT_DATA_DIR": tmp,
                "RAPPORT_LOG_LEVEL": "WARNING",
            }
        )
        client = app.test_client()
        headers = {"Authorization": f"Bearer {issue_token(SECRET, 'bench', 'agent')}"}
        rng, n = random.Random(3), args.rows
        cases = {
            "baseline GET /customers/{id}": lambda: f"/api/v1/customers/{rng.choice(ids)}",
            "q=name (two word prefixes)": lambda: (
                f"/api/v1/customers?q={rng.choice(SURNAMES)}+{rng.choice(GIVEN)}"
            ),
            "q=name (rare: one customer)": lambda: f"/api/v1/customers?q=chan+{rng.randrange(n)}",
            "q=phone (another format)": lambda: (
                f"/api/v1/customers?q=%2B852+91{rng.randrange(n):06d}"
            ),
            "q=e-mail": lambda: f"/api/v1/customers?q=C{rng.randrange(n)}@Example.org",
            "q=external reference": lambda: f"/api/v1/customers?q=ERP-{rng.randrange(n)}",
        }
        for make in cases.values():  # warm up
            median_ms(client, [make() for _ in range(5)], headers)
        results = {name: [] for name in cases}
        for _ in range(4):  # in turns: the machine's speed drifts
            for name, make in cases.items():
                results[name].append(
                    median_ms(client, [make() for _ in range(args.requests // 4)], headers)
                )
        base = statistics.median(results["baseline GET /customers/{id}"])
        print(f"{args.rows:,} customers, SQLite, median of {args.requests} requests each")
        for name, values in results.items():
            ms = statistics.median(values)
            print(f"  {name:32s} {ms:8.2f} ms   x{ms / base:6.1f} the baseline")


if __name__ == "__main__":
    main()
