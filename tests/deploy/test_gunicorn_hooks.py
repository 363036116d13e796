"""gunicorn's worker_exit hook hands back the import jobs of the worker that stops,
and does nothing when gunicorn calls it in the master for a worker already gone (the
master's workers forked later would otherwise start "stopping")."""

import os
import threading
from types import SimpleNamespace

from deploy import gunicorn_conf
from shared import import_jobs


def test_the_hook_stops_import_jobs_in_the_worker_only(monkeypatch):
    monkeypatch.setattr(import_jobs, "_stopping", threading.Event())
    server = SimpleNamespace(log=SimpleNamespace(warning=lambda *a: None))
    gunicorn_conf.worker_exit(server, SimpleNamespace(pid=os.getpid() + 1))  # in the master
    assert not import_jobs._stopping.is_set()
    gunicorn_conf.worker_exit(server, SimpleNamespace(pid=os.getpid()))  # in the worker
    assert import_jobs._stopping.is_set()
