"""``rapport-sales``: bulk work on the sales ledger from the command line.

``rapport-sales import FILE`` uploads a CSV or JSON Lines file of sales to the
sales API and follows the import job with a progress bar, then prints the counts
and the first rejected lines. The API address and token come from the options or
from ``RAPPORT_SALES_URL`` and ``RAPPORT_TOKEN``. An upload cut off or met by a
deploy is sent again under its Idempotency-Key, and a job whose API is away for a
while is waited for (``shared/import_client.py``). Whatever goes wrong (no such
file, the API unreachable, the token refused) is one line on stderr and exit
status 2 (``shared/cli.py``); an import that ran but failed is exit status 1.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from tqdm import tqdm

from shared import import_client
from shared.cli import Failed, command


def _args(argv):
    parser = argparse.ArgumentParser(prog="rapport-sales", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    imp = sub.add_parser(
        "import", help="import sales with their lines from a CSV or JSON Lines file"
    )
    imp.add_argument("file", type=Path)
    imp.add_argument("--url", default=os.environ.get("RAPPORT_SALES_URL", "http://127.0.0.1:8003"))
    imp.add_argument("--token", default=os.environ.get("RAPPORT_TOKEN"))
    imp.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def import_file(url: str, token: str, path: Path, quiet: bool = False) -> dict:
    what = "the sales API"
    job = import_client.upload(f"{url}/api/v1/sales/imports", token, path, what)
    with tqdm(
        total=job["total_bytes"],
        unit="B",
        unit_scale=True,
        disable=quiet,
        desc=path.name,
        file=sys.stderr,
    ) as bar:

        def seen(job: dict) -> None:
            bar.update(job["bytes_read"] - bar.n)
            bar.set_postfix(
                created=job["created"], skipped=job["skipped"], rejected=job["rejected"]
            )

        job = import_client.follow(
            f"{url}/api/v1/sales/imports/{job['id']}", token, job, what, seen
        )
    for row in job["rejections"][:20]:
        print(f"line {row['line']}: {row['reasons']}", file=sys.stderr)
    return job


@command("rapport-sales")
def main(argv=None) -> int:
    args = _args(argv)
    if not args.token:
        raise Failed("give a token: --token or RAPPORT_TOKEN (make one with rapport-token)")
    job = import_file(args.url.rstrip("/"), args.token, args.file, args.quiet)
    print(
        f"{job['status']}: {job['created']} sales recorded ({job['lines_created']} lines), "
        f"{job['skipped']} already on file, {job['rejected']} rejected, of "
        f"{job['sales_read']} sales in {job['rows_read']} lines"
        + (f"; {job['error']}" if job.get("error") else "")
    )
    return 0 if job["status"] == "done" else 1


if __name__ == "__main__":
    sys.exit(main())
