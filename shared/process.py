"""Running a consumer or relay as its own OS process, with health and metrics.

Each such process serves ``/healthz``, ``/readyz`` and ``/metrics`` on a small
HTTP server of its own, stops cleanly on SIGTERM or SIGINT, and runs the
service's migrations first so it can start in any order with the others.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
from collections.abc import Callable
from wsgiref.simple_server import WSGIRequestHandler, make_server

from shared import import_jobs, logs
from shared.config import Settings
from shared.metrics import exposition
from shared.startup import freeze_startup_objects

log = logging.getLogger(__name__)
HAND_BACK_SECONDS = 10  # for the import jobs running here to hand theirs back


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *_args):
        pass


def health_app(ready: Callable[[], bool], collectors=()):
    def app(environ, start_response):
        path = environ.get("PATH_INFO", "/")
        if path == "/metrics":
            body, content_type = exposition(collectors)
            start_response("200 OK", [("Content-Type", content_type)])
            return [body]
        if path in ("/healthz", "/readyz"):
            ok = path == "/healthz" or ready()
            status = "200 OK" if ok else "503 Service Unavailable"
            start_response(status, [("Content-Type", "application/json")])
            return [json.dumps({"status": "ok" if ok else "unavailable"}).encode()]
        start_response("404 Not Found", [("Content-Type", "application/json")])
        return [b'{"status": 404}']

    return app


def serve_health(host: str, port: int, ready: Callable[[], bool], collectors=()):
    server = make_server(host, port, health_app(ready, collectors), handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="health", daemon=True).start()
    return server


def run(settings: Settings, role: str, worker, collectors=(), nice: int = 0, background=()) -> None:
    """Run ``worker.run(stop)`` until a signal asks it to stop, and each of
    ``background`` (work beside the main one, such as the periodic jobs' scheduler)
    in a thread of its own until the same stop.

    ``nice`` lowers the process's CPU priority (``<SERVICE>_<ROLE>_NICE`` overrides
    it): work nobody waits on, such as reporting's read models, then yields the
    cores to the processes on a customer's or an agent's path whenever both want
    them, and catches up in larger windows."""
    logs.configure(settings.service, role, settings.log_level)
    niceness = int(settings.get(f"{role.upper()}_NICE", nice))
    if niceness:
        os.nice(niceness)
    stop = threading.Event()

    def _stop(signum, _frame):
        log.info("received signal %s, stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    host = settings.get("HOST", "127.0.0.1")
    server = serve_health(host, settings.process_port(role), lambda: worker.ready, collectors)
    log.info(
        "%s %s started; health on %s:%s", settings.service, role, host, settings.process_port(role)
    )
    freeze_startup_objects()
    threads = [
        threading.Thread(target=other.run, args=(stop,), daemon=True, name=type(other).__name__)
        for other in background
    ]
    for thread in threads:
        thread.start()
    try:
        worker.run(stop)
    finally:
        stop.set()
        # Import jobs this process took up (the relay's resume-imports) go back to
        # the queue after their chunk, for another process to take at once.
        import_jobs.stop_all(HAND_BACK_SECONDS)
        for thread in threads:
            thread.join(30)
        server.shutdown()
        log.info("%s %s stopped", settings.service, role)
