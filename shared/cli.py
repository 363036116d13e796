"""What every ``rapport-*`` command line does with a failure: one clear line on
stderr, naming the command, and a non-zero exit status; never a traceback.

Wrap a command's ``main(argv) -> int`` with ``@command("rapport-x")``. Inside,
raise ``Failed("what went wrong")`` for a failure of its own; a file that cannot be
read, an API that cannot be reached or does not answer in time, and Ctrl-C become
their line without more code. Check an API's answer with ``expect(response, 200)``:
a refused token (401, 403) and any other unexpected status become one line with
the problem's own words (its ``detail`` or ``title``).

Exit status: 0 done; 1 the work ran but did not succeed (the command says so);
2 refused before or while doing it (bad input, no file, no API, refused token);
130 interrupted.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable

REFUSED = 2
INTERRUPTED = 130


class Failed(Exception):
    """A failure the command explains in one line, with its exit status."""

    def __init__(self, message: str, status: int = REFUSED):
        super().__init__(message)
        self.status = status


def command(prog: str) -> Callable[[Callable[..., int]], Callable[..., int]]:
    def wrap(main: Callable[..., int]) -> Callable[..., int]:
        @functools.wraps(main)
        def run(argv: list[str] | None = None) -> int:
            try:
                return main(argv)
            except KeyboardInterrupt:
                return _say(prog, "interrupted", INTERRUPTED)
            except Failed as exc:
                return _say(prog, str(exc), exc.status)
            except Exception as exc:  # noqa: BLE001 - the one line is the point
                # requests' errors are OSErrors too: they are asked about first.
                known = describe_http_error(exc)
                if known is None and isinstance(exc, OSError):
                    known = describe_os_error(exc)
                if known is not None:
                    return _say(prog, known, REFUSED)
                return _say(prog, f"unexpected {type(exc).__name__}: {exc}", 1)

        return run

    return wrap


def expect(response, *statuses: int, what: str = "the API"):
    """``response`` if its status is one of ``statuses``, else ``Failed`` with the
    reason in one line."""
    if response.status_code in statuses:
        return response
    reason = _problem_text(response)
    url = response.request.url if getattr(response, "request", None) else response.url
    if response.status_code in (401, 403):
        raise Failed(
            f"{what} refused the token ({response.status_code}): {reason}"
            if reason
            else f"{what} refused the token ({response.status_code})"
        )
    raise Failed(
        f"{what} answered {response.status_code} to {_method(response)} {url}"
        + (f": {reason}" if reason else "")
    )


def describe_os_error(exc: OSError) -> str:
    name = exc.filename
    reason = exc.strerror or str(exc)
    if isinstance(exc, IsADirectoryError):
        reason = "it is a directory"
    return f"cannot read {name}: {reason}" if name else reason


def describe_http_error(exc: Exception) -> str | None:
    """One line for what ``requests`` raises when an address cannot be reached,
    does not answer in time, or is not an address; None for anything else."""
    requests = sys.modules.get("requests")
    if requests is None or not isinstance(exc, requests.RequestException):
        return None
    url = getattr(exc.request, "url", None) or ""
    base = url.split("/api/", 1)[0] if url else "the API"
    if isinstance(exc, requests.Timeout):
        return f"{base} did not answer in time"
    if isinstance(exc, requests.ConnectionError):
        return f"cannot reach {base}: is the service running, and is the address right?"
    return f"cannot send the request to {url or 'the API'}: {exc}"


def _problem_text(response) -> str:
    try:
        body = response.json()
    except ValueError:
        text = (response.text or "").strip().splitlines()
        return text[0][:200] if text else ""
    if not isinstance(body, dict):
        return ""
    return str(body.get("detail") or body.get("title") or body.get("message") or "")[:300]


def _method(response) -> str:
    request = getattr(response, "request", None)
    return getattr(request, "method", None) or "the request"


def _say(prog: str, message: str, status: int) -> int:
    print(f"{prog}: {' '.join(message.split())}", file=sys.stderr)
    return status
