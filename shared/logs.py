"""JSON logs, one line per record, with service, request, correlation and event ids."""
from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

from shared import context


class _ContextFilter(logging.Filter):
    def __init__(self, service: str, role: str):
        super().__init__()
        self.service, self.role = service, role

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        record.process_role = self.role
        record.request_id = context.request_id.get()
        record.correlation_id = context.correlation_id.get()
        record.event_id = context.event_id.get()
        return True


def configure(service: str, role: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_ContextFilter(service, role))
    handler.setFormatter(JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s %(service)s %(process_role)s "
        "%(request_id)s %(correlation_id)s %(event_id)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"}))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("pika").setLevel(logging.WARNING)
