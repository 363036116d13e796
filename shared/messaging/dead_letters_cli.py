"""``rapport-dead-letters``: list what each service dead-lettered, and replay it.

    rapport-dead-letters list [SERVICE ...] [--json]
    rapport-dead-letters replay SERVICE (ID ... | --all) [--json]

The broker is ``--amqp-url`` or ``RAPPORT_AMQP_URL``, the namespace ``--namespace``
or ``RAPPORT_NAMESPACE`` (default ``rapport``). Exit status: 0 done, 1 an id asked
for is not dead-lettered (nothing replayed), 2 unknown service or no broker.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from urllib.parse import urlsplit

import pika

from shared.cli import command
from shared.messaging import brokers, dead_letters
from shared.messaging.topology import BINDINGS, Names

PROG = "rapport-dead-letters"
COLUMNS = ("message_id", "event_id", "event_type", "reason", "deaths", "first_death", "size")


class Refused(Exception):
    """A one-line error for the operator, with the exit status."""

    def __init__(self, message: str, status: int = 2):
        super().__init__(message)
        self.status = status


@command(PROG)
def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        services = args.services if args.command == "list" else [args.service]
        for service in services:
            if service not in BINDINGS:
                raise Refused(f"unknown service {service!r} (one of: {', '.join(BINDINGS)})")
        names = Names(args.namespace)
        with _connected(args.amqp_url) as connection:
            if args.command == "list":
                rows = [
                    {"service": s, **row}
                    for s in services or BINDINGS
                    for row in _run(dead_letters.listing, connection, names, s)
                ]
            else:
                rows = [
                    {"service": args.service, **row}
                    for row in _run(
                        dead_letters.replay,
                        connection,
                        names,
                        args.service,
                        None if args.all else args.ids,
                    )
                ]
    except Refused as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return exc.status
    _print(rows, args.json, "replayed" if args.command == "replay" else None)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    parser.add_argument(
        "--amqp-url",
        default=os.environ.get("RAPPORT_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F"),
    )
    parser.add_argument("--namespace", default=os.environ.get("RAPPORT_NAMESPACE", "rapport"))
    commands = parser.add_subparsers(dest="command", required=True)
    listed = commands.add_parser("list", help="dead letters with their reasons")
    listed.add_argument("services", nargs="*", metavar="SERVICE", help="default: every one")
    again = commands.add_parser("replay", help="send dead letters back to their queue")
    again.add_argument("service", metavar="SERVICE")
    chosen = again.add_mutually_exclusive_group(required=True)
    chosen.add_argument("ids", nargs="*", default=[], metavar="ID", help="message or event ids")
    chosen.add_argument("--all", action="store_true", help="every dead letter of SERVICE")
    for sub in (listed, again):
        sub.add_argument("--json", action="store_true", help="JSON instead of a table")
    return parser


class _connected:
    def __init__(self, url: str):
        self.url = url

    def __enter__(self):
        try:
            self.connection = brokers.connect(self.url)
        except (pika.exceptions.AMQPError, OSError, ValueError) as exc:
            raise Refused(
                f"cannot reach the broker at {_safe(self.url)}: {type(exc).__name__} {exc}".rstrip()
            ) from exc
        return self.connection

    def __exit__(self, *_):
        if self.connection.is_open:
            self.connection.close()


def _run(action, connection, names: Names, service: str, *args) -> list[dict]:
    try:
        return action(connection, names, service, *args)
    except dead_letters.NotDeadLettered as exc:
        raise Refused(
            f"not in {names.dead_letter_queue(service)}: {exc}; nothing replayed", 1
        ) from exc
    except pika.exceptions.ChannelClosedByBroker as exc:
        if exc.reply_code == 404:
            raise Refused(
                f"no queue {names.dead_letter_queue(service)}: has the topology of "
                f"namespace {names.namespace!r} been declared?"
            ) from exc
        raise Refused(f"the broker refused: {exc.reply_text}") from exc
    except (pika.exceptions.UnroutableError, pika.exceptions.NackError) as exc:
        raise Refused(
            f"the broker did not take a replayed copy for {names.queue(service)}; "
            "what was not replayed stays dead-lettered"
        ) from exc
    except pika.exceptions.AMQPError as exc:
        raise Refused(f"lost the broker: {type(exc).__name__} {exc}") from exc


def _print(rows: list[dict], as_json: bool, verb: str | None) -> None:
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    if verb:
        print(f"{verb} {len(rows)} message(s)")
    elif not rows:
        print("no dead letters")
    if not rows:
        return
    header = ("service",) + COLUMNS
    cells = [[_cell(row.get(c)) for c in header] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(header)]
    for line in [[h.upper() for h in header]] + cells:
        print("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip())


def _cell(value) -> str:
    text = "-" if value is None else str(value).replace("\n", " ")
    return text if len(text) <= 70 else text[:69] + "…"


def _safe(url: str) -> str:
    shown = []
    for one in url.split(","):
        parts = urlsplit(one.strip())
        shown.append(f"{parts.scheme}://{parts.hostname or '?'}:{parts.port or 5672}{parts.path}")
    return ",".join(shown)


if __name__ == "__main__":
    sys.exit(main())
