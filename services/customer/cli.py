"""``rapport-customers``: the data administrator's command line.

``rapport-customers import FILE`` uploads a CSV or JSON Lines file to the customer
API and follows the import job with a progress bar, then prints the counts and
the first rejected rows. An upload cut off or met by a deploy is sent again under
its Idempotency-Key, and a job whose API is away for a while is waited for
(``shared/import_client.py``). The API address and token come from the options or from
``RAPPORT_CUSTOMER_URL`` and ``RAPPORT_TOKEN``. A file that cannot be read, an API
that cannot be reached or that refuses the token is one line and exit status 2
(``shared/cli.py``); an import that ran but failed is exit status 1.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import requests
from tqdm import tqdm

from shared import import_client
from shared.cli import Failed, command, expect


def _args(argv):
    parser = argparse.ArgumentParser(prog="rapport-customers", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import", help="import customers from a CSV or JSON Lines file")
    imp.add_argument("file", type=Path)
    imp.add_argument(
        "--url", default=os.environ.get("RAPPORT_CUSTOMER_URL", "http://127.0.0.1:8001")
    )
    imp.add_argument("--token", default=os.environ.get("RAPPORT_TOKEN"))
    imp.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def import_file(url: str, token: str, path: Path, quiet: bool = False) -> dict:
    what = "the customer API"
    job = import_client.upload(f"{url}/api/v1/customers/import", token, path, what)
    job_url = f"{url}/api/v1/customers/import/{job['id']}"
    with tqdm(
        total=job["total_bytes"], unit="B", unit_scale=True, disable=quiet, desc=path.name
    ) as bar:

        def seen(job: dict) -> None:
            bar.update(job["bytes_read"] - bar.n)
            bar.set_postfix(
                created=job["created"], updated=job["updated"], rejected=job["rejected"]
            )

        job = import_client.follow(job_url, token, job, what, seen)
    if job["rejected"]:
        rejected = expect(
            requests.get(
                f"{job_url}/rejections",
                headers={"Authorization": f"Bearer {token}"},
                params={"limit": 20},
                timeout=30,
            ),
            200,
            what=what,
        ).json()["items"]
        for row in rejected:
            print(f"line {row['line']}: {row['reasons']}", file=sys.stderr)
    return job


@command("rapport-customers")
def main(argv=None) -> int:
    args = _args(argv)
    if not args.token:
        raise Failed("give a token: --token or RAPPORT_TOKEN (make a token with rapport-token)")
    job = import_file(args.url.rstrip("/"), args.token, args.file, args.quiet)
    print(
        f"{job['status']}: {job['created']} created, {job['updated']} updated, "
        f"{job['unchanged']} unchanged, {job['rejected']} rejected of {job['rows_read']} rows"
    )
    return 0 if job["status"] == "done" else 1


if __name__ == "__main__":
    sys.exit(main())
