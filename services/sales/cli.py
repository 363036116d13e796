"""``rapport-sales``: bulk work on the sales ledger from the command line.

``rapport-sales import FILE`` uploads a CSV or JSON Lines file of sales to the
sales API and follows the import job with a progress bar, then prints the counts
and the first rejected lines. The API address and token come from the options or
from ``RAPPORT_SALES_URL`` and ``RAPPORT_TOKEN``. Whatever goes wrong (no such
file, the API unreachable, the token refused) is one line on stderr and a
non-zero exit status.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import requests
from tqdm import tqdm

TYPES = {".csv": "text/csv", ".jsonl": "application/x-ndjson", ".ndjson": "application/x-ndjson"}
POLL_SECONDS = 0.5


class Failure(Exception):
    """What the command line says on stderr before it exits with status 2."""


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


def _refusal(r: requests.Response) -> str:
    try:
        body = r.json()
        said = body.get("detail") or body.get("title") or r.reason
        errors = body.get("errors")
    except ValueError:
        said, errors = r.text.strip()[:200] or r.reason, None
    return f"{said} ({r.status_code})" + (f": {errors}" if errors else "")


def _request(method: str, url: str, **kwargs) -> requests.Response:
    try:
        r = requests.request(method, url, **kwargs)
    except requests.ConnectionError as exc:
        raise Failure(f"the sales API at {url.split('/api/')[0]} is not reachable") from exc
    except requests.Timeout as exc:
        raise Failure(f"the sales API at {url.split('/api/')[0]} did not answer in time") from exc
    if r.status_code in (401, 403):
        raise Failure(f"the sales API refused the token: {_refusal(r)}")
    return r


def import_file(url: str, token: str, path: Path, quiet: bool = False) -> dict:
    headers = {"Authorization": f"Bearer {token}"}
    try:
        body = path.open("rb")
    except OSError as exc:
        raise Failure(f"cannot read {path}: {exc.strerror or exc}") from exc
    with body:
        r = _request(
            "POST",
            f"{url}/api/v1/sales/imports",
            data=body,
            timeout=600,
            headers={**headers, "Content-Type": TYPES.get(path.suffix.lower(), "text/csv")},
        )
    if r.status_code != 202:
        raise Failure(f"import refused: {_refusal(r)}")
    job = r.json()
    job_url = f"{url}/api/v1/sales/imports/{job['id']}"
    with tqdm(
        total=job["total_bytes"],
        unit="B",
        unit_scale=True,
        disable=quiet,
        desc=path.name,
        file=sys.stderr,
    ) as bar:
        while job["status"] in ("queued", "running"):
            time.sleep(POLL_SECONDS)
            r = _request("GET", job_url, headers=headers, timeout=30)
            if r.status_code != 200:
                raise Failure(f"cannot follow the import job: {_refusal(r)}")
            job = r.json()
            bar.update(job["bytes_read"] - bar.n)
            bar.set_postfix(
                created=job["created"], skipped=job["skipped"], rejected=job["rejected"]
            )
    for row in job["rejections"][:20]:
        print(f"line {row['line']}: {row['reasons']}", file=sys.stderr)
    return job


def main(argv=None) -> int:
    args = _args(argv)
    if not args.token:
        print(
            "rapport-sales: give a token: --token or RAPPORT_TOKEN (make one with rapport-token)",
            file=sys.stderr,
        )
        return 2
    try:
        job = import_file(args.url.rstrip("/"), args.token, args.file, args.quiet)
    except Failure as exc:
        print(f"rapport-sales: {exc}", file=sys.stderr)
        return 2
    print(
        f"{job['status']}: {job['created']} sales recorded ({job['lines_created']} lines), "
        f"{job['skipped']} already on file, {job['rejected']} rejected, of "
        f"{job['sales_read']} sales in {job['rows_read']} lines"
        + (f"; {job['error']}" if job.get("error") else "")
    )
    return 0 if job["status"] == "done" else 1


if __name__ == "__main__":
    sys.exit(main())
