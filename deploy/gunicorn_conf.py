"""gunicorn settings for every service's API process.

The master runs the service's migrations once before forking workers, and
prometheus-client's multiprocess files are cleaned on start and when a worker dies.
"""
import importlib
import os
import shutil

bind = os.environ.get("RAPPORT_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("RAPPORT_WEB_WORKERS", "2"))
worker_class = "gthread"  # keeps connections alive; a request runs on a worker thread
# One request thread per worker. The handlers are CPU-bound Python with short database
# calls, and every call releases the GIL: with four threads, each release handed the
# interpreter to another request, and on two cores the customer API answered 1,056–
# 1,404 profile reads/s against 1,574–1,661/s with one (partner bulk uploads and the
# outcome → profile latency did not change). For loads that wait on I/O, raise
# RAPPORT_WEB_WORKERS first, or RAPPORT_WEB_THREADS.
threads = int(os.environ.get("RAPPORT_WEB_THREADS", "1"))
timeout = 30
graceful_timeout = 10
accesslog = None
errorlog = "-"


def on_starting(server):
    prom_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if prom_dir:
        shutil.rmtree(prom_dir, ignore_errors=True)
        os.makedirs(prom_dir, exist_ok=True)
    service = os.environ["RAPPORT_SERVICE"]
    from shared import migrations

    config = importlib.import_module(f"services.{service}.config")
    migrations.upgrade(config.load().database_url, config.MIGRATIONS)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
