"""JSON logs, one line per record, with service, request, correlation and event ids.

Every process writes only these lines on stderr: ``configure`` sets the root logger's
handler, routes Python's warnings through it, and logs an exception nothing caught
(in the main thread or another, or one Python could not raise) as a record with its
traceback, where Python would print bare text. The API's gunicorn puts its own error
and access logs through the same formatter (``structure``; ``deploy/gunicorn_conf.py``).
"""

from __future__ import annotations

import logging
import sys
import threading

from pythonjsonlogger.json import JsonFormatter

from shared import context

FORMAT = (
    "%(asctime)s %(levelname)s %(name)s %(message)s %(service)s %(process_role)s "
    "%(request_id)s %(correlation_id)s %(event_id)s"
)
RENAMED = {"asctime": "time", "levelname": "level", "name": "logger"}
log = logging.getLogger(__name__)


class _ContextFilter(logging.Filter):
    """Adds the process's service and role, and the ids of the request or message being
    handled. A record that brings its own ids keeps them: gunicorn's access line is
    written after the request's context has been left."""

    def __init__(self, service: str, role: str):
        super().__init__()
        self.service, self.role = service, role

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        record.process_role = self.role
        for name in ("request_id", "correlation_id", "event_id"):
            if getattr(record, name, None) is None:
                setattr(record, name, getattr(context, name).get())
        return True


def formatter() -> logging.Formatter:
    return JsonFormatter(FORMAT, rename_fields=RENAMED)


def structure(handler: logging.Handler, service: str, role: str) -> logging.Handler:
    """Make ``handler`` write this module's JSON lines."""
    for old in [f for f in handler.filters if isinstance(f, _ContextFilter)]:
        handler.removeFilter(old)
    handler.addFilter(_ContextFilter(service, role))
    handler.setFormatter(formatter())
    return handler


def configure(service: str, role: str, level: str = "INFO") -> None:
    root = logging.getLogger()
    root.handlers[:] = [structure(logging.StreamHandler(sys.stderr), service, role)]
    root.setLevel(level.upper())
    logging.getLogger("pika").setLevel(logging.WARNING)
    logging.captureWarnings(True)
    sys.excepthook = _uncaught
    threading.excepthook = _uncaught_in_thread
    sys.unraisablehook = _unraisable


def _uncaught(kind, value, traceback) -> None:
    log.critical("uncaught exception", exc_info=(kind, value, traceback))


def _unraisable(args) -> None:
    """An exception Python could not raise (in a finaliser, say): it prints
    ``Exception ignored in ...`` otherwise."""
    log.error(
        "%s: %r",
        args.err_msg or "exception ignored in",
        args.object,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
    )


def _uncaught_in_thread(args) -> None:
    if args.exc_type is SystemExit:
        return
    thread = args.thread.name if args.thread is not None else "?"
    log.critical(
        "uncaught exception in thread %s",
        thread,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
    )
