"""gunicorn settings for every service's API process.

The master runs the service's migrations once before forking workers, and
prometheus-client's multiprocess files are cleaned on start and when a worker dies.
Everything the process logs, gunicorn's own lines and its access log included, is a
JSON line on stderr (``JsonLogger``).
"""

import os
import shutil
import sys

from gunicorn.glogging import Logger

from shared import logs

SERVICE = os.environ.get("RAPPORT_SERVICE", "rapport")

bind = os.environ.get("RAPPORT_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("RAPPORT_WEB_WORKERS", "2"))
worker_class = "gthread"  # keeps connections alive; a request runs on a worker thread
# One request thread a worker. A request's Python work holds the GIL, and each
# database call lets it go (sqlite3 around every step of a statement, psycopg while
# it waits for the server), so the threads of a worker hand it to each other several
# times a request, and each hand-over is CPU of its own. With the machine's cores
# busy, more threads a worker only add hand-overs: measured in turns on two cores
# (docs/benchmarks.md, "One request thread a worker"), the profile read served 20-25%
# more a second with one thread than with four on SQLite and on PostgreSQL, and the
# outcome figures were the same. The price: a request that waits (for SQLite's
# write lock, or a long CSV download) holds its worker. Where that matters, raise
# RAPPORT_WEB_WORKERS, or RAPPORT_WEB_THREADS for waits on a remote database.
threads = int(os.environ.get("RAPPORT_WEB_THREADS", "1"))
# Seconds a kept-alive connection may stay idle. gunicorn's own 2 s suits clients that
# connect directly; behind a proxy that keeps its connections to the pods open (an
# ingress, a load balancer) it must be longer than the proxy's idle time, or the
# proxy sends a request on a connection closing under it and answers 502 for a POST
# it may not retry. The Kubernetes ConfigMap sets 75 (ingress-nginx keeps 60 s).
keepalive = int(os.environ.get("RAPPORT_WEB_KEEPALIVE", "2"))
timeout = 30
graceful_timeout = 10
# No runtime control socket: its default path (~/.gunicorn/gunicorn.ctl) is one per
# user, so the four APIs of a system (and any other system on the machine) would
# take it from each other; processes are managed by signals and their supervisor.
control_socket_disable = True
errorlog = "-"
accesslog = "-"  # one JSON line a request (JsonLogger.access); on stderr with the rest


class JsonLogger(Logger):
    """gunicorn's logs as the service's JSON lines: the root logger (the app's records)
    is configured here, in the master before it forks, and gunicorn's error and access
    handlers get the same formatter, the access log moving from stdout to stderr."""

    def setup(self, cfg):
        super().setup(cfg)
        level = (
            os.environ.get(f"{SERVICE.upper()}_LOG_LEVEL")
            or os.environ.get("RAPPORT_LOG_LEVEL")
            or "INFO"
        )
        logs.configure(SERVICE, "api", level)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if getattr(handler, "_gunicorn", False):
                    logs.structure(handler, SERVICE, "api")
                    if getattr(handler, "stream", None) is sys.stdout:
                        handler.setStream(sys.stderr)

    def access(self, resp, req, environ, request_time):
        """The app leaves the request's ids in the WSGI environ: its context is gone
        by the time gunicorn has sent the answer and calls this."""
        if not self.access_log_enabled:
            return
        try:
            status = resp.status
            status = int(status.split(None, 1)[0]) if isinstance(status, str) else status
            method, path = environ.get("REQUEST_METHOD"), environ.get("PATH_INFO")
            request_id = environ.get("rapport.request_id") or next(
                (v for k, v in resp.headers if k.lower() == "x-request-id"), None
            )
            self.access_log.info(
                "%s %s %s",
                method,
                path,
                status,
                extra={
                    "method": method,
                    "path": path,
                    "status": status,
                    "duration_ms": round(request_time.total_seconds() * 1000, 3),
                    "bytes": getattr(resp, "sent", None),
                    "remote_addr": environ.get("REMOTE_ADDR"),
                    "user_agent": environ.get("HTTP_USER_AGENT"),
                    "request_id": request_id,
                    "correlation_id": environ.get("rapport.correlation_id") or request_id,
                },
            )
        except Exception:  # noqa: BLE001 - a request is never failed by its log line
            self.error_log.exception("could not write the access log line")


logger_class = JsonLogger


def on_starting(server):
    prom_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if prom_dir:
        shutil.rmtree(prom_dir, ignore_errors=True)
        os.makedirs(prom_dir, exist_ok=True)
    from deploy.run import migrate

    migrate(os.environ["RAPPORT_SERVICE"])


# Seconds a stopping worker gives its import jobs to finish their chunk and hand the
# job back (shared.import_jobs.stop_all), inside gunicorn's graceful_timeout.
HAND_BACK_SECONDS = 8


def worker_exit(server, worker):
    """A worker that stops (a deploy's SIGTERM) hands back the import jobs its threads
    run, to be taken up at once by another process rather than after ten minutes.
    gunicorn also calls this in the master for a worker already gone: there it does
    nothing (workers forked later would inherit a master that is "stopping")."""
    if os.getpid() != worker.pid:
        return
    from shared import import_jobs

    left = import_jobs.stop_all(HAND_BACK_SECONDS)
    if left:
        server.log.warning("%d import job(s) still writing; they will be taken up later", left)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
