"""Prometheus metrics, every one named ``rapport_<thing>_<unit>`` with the service as
its ``service`` label (and other low-cardinality labels), so one rule or panel reads
the same metric of every service.

Under gunicorn the API runs in prometheus-client's multiprocess mode (the launcher
sets ``PROMETHEUS_MULTIPROC_DIR``); consumer and relay are single processes with
the default registry where that is unset (an image may set it for every process, so
each gauge says how its processes' values combine). Outbox depth is read from the
database at scrape time.

Business gauges for the operations team are read the same way, by collectors each
service hands its relay process; ``scrape_reader`` bounds their queries so a locked table costs a
scrape those gauges, never the scrape itself.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from functools import cache

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select, text

from shared.types import UTCDateTime

HTTP_REQUESTS = Counter(
    "rapport_http_requests_total",
    "HTTP requests answered",
    ["service", "method", "endpoint", "status"],
)
HTTP_LATENCY = Histogram(
    "rapport_http_request_duration_seconds",
    "HTTP request latency",
    ["service", "method", "endpoint"],
)
PUBLISHED = Counter(
    "rapport_events_published_total", "Events confirmed by the broker", ["service", "event_type"]
)
PUBLISH_FAILED = Counter(
    "rapport_events_publish_failed_total",
    "Events the broker nacked or returned",
    ["service", "event_type"],
)
CONSUMED = Counter(
    "rapport_events_consumed_total", "Events handled and acked", ["service", "event_type"]
)
FAILED = Counter(
    "rapport_events_failed_total",
    "Event deliveries whose handling failed",
    ["service", "event_type"],
)
DUPLICATE = Counter(
    "rapport_events_duplicate_total",
    "Redelivered events skipped by the inbox",
    ["service", "event_type"],
)
DEAD_LETTERED = Counter(
    "rapport_events_dead_lettered_total",
    "Messages the consumer sent to the dead-letter queue",
    ["service", "reason"],
)
DEFERRED = Histogram(
    "rapport_consumer_deferred_work_seconds",
    "Deferred work the consumer ran between windows",
    ["service"],
)
DEFERRED_FAILED = Counter(
    "rapport_consumer_deferred_work_failed_total",
    "Runs of the consumer's deferred work that failed",
    ["service"],
)
RATE_LIMITED = Counter(
    "rapport_rate_limited_total", "Requests refused over a rate limit", ["service", "scope"]
)
SHARED_STATE_ERRORS = Counter(
    "rapport_shared_state_errors_total",
    "Calls to the shared state (Redis) that failed and were let through",
    ["service", "use"],
)


class _ForService:
    """One metric with its ``service`` label already given: ``labels`` takes the rest,
    and a metric with no other label is used as it is (``inc``, ``observe``, ``time``)."""

    def __init__(self, metric, service: str):
        self.metric, self.service = metric, service

    def labels(self, *values):
        return self.metric.labels(self.service, *values)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.metric.labels(self.service), name)


class ServiceMetrics:
    """A service's view of the shared metrics, every sample labelled with its name."""

    def __init__(self, service: str):
        bound = lambda metric: _ForService(metric, service)  # noqa: E731
        self.http_requests, self.http_latency = bound(HTTP_REQUESTS), bound(HTTP_LATENCY)
        self.published, self.publish_failed = bound(PUBLISHED), bound(PUBLISH_FAILED)
        self.consumed, self.failed = bound(CONSUMED), bound(FAILED)
        self.duplicate, self.dead_lettered = bound(DUPLICATE), bound(DEAD_LETTERED)
        self.deferred, self.deferred_failed = bound(DEFERRED), bound(DEFERRED_FAILED)
        self.rate_limited = bound(RATE_LIMITED)
        self.shared_state_errors = bound(SHARED_STATE_ERRORS)


@cache
def metrics_for(service: str) -> ServiceMetrics:
    return ServiceMetrics(service)


class OutboxCollector:
    """Pending outbox rows and the age of the oldest, read when scraped."""

    def __init__(self, service: str, db, outbox_model):
        self.service, self.db, self.outbox = service, db, outbox_model

    def collect(self):
        pending = GaugeMetricFamily(
            "rapport_outbox_pending_events",
            "Outbox rows not yet confirmed by the broker",
            labels=["service"],
        )
        age = GaugeMetricFamily(
            "rapport_outbox_oldest_pending_age_seconds",
            "Age of the oldest outbox row not yet confirmed",
            labels=["service"],
        )
        rows = scraped_rows(
            self.db,
            select(func.count(), func.min(self.outbox.created_at)).where(
                self.outbox.sent_at.is_(None)
            ),
        )
        if rows is None:
            return
        [(count, oldest)] = rows
        oldest = UTCDateTime().process_result_value(oldest, None)
        pending.add_metric([self.service], count)
        age.add_metric([self.service], _age_seconds(oldest))
        yield pending
        yield age


@contextmanager
def scrape_reader(db, timeout_ms: int = 2000):
    """A read session whose statements give up after ``timeout_ms`` on PostgreSQL, where
    a table locked by a migration would otherwise hold the scrape until Prometheus
    times out. (SQLite's readers never wait for a writer under WAL.)"""
    with db.reader() as session:
        if db.dialect == "postgresql":
            session.execute(text(f"SET LOCAL statement_timeout = {int(timeout_ms)}"))
        yield session


def scraped_rows(db, statement) -> list | None:
    """The rows of one bounded read for a scrape (``scrape_reader``), or None if the
    database could not answer: a scrape must not fail on a busy database."""
    try:
        with scrape_reader(db) as session:
            return session.execute(statement).all()
    except Exception:  # noqa: BLE001 - the collector yields nothing this round
        return None


class PeriodicJobsCollector:
    """Each periodic job's interval and pause, from the ``periodic_jobs`` table, so an
    alert can tell a job that stopped succeeding from one that runs rarely or is paused."""

    def __init__(self, service: str, db, periodic_model):
        self.service, self.db, self.model = service, db, periodic_model

    def collect(self):
        every = GaugeMetricFamily(
            "rapport_periodic_job_interval_seconds",
            "How often a periodic job is meant to run",
            labels=["service", "job"],
        )
        paused = GaugeMetricFamily(
            "rapport_periodic_job_paused",
            "1 if an operator paused the periodic job",
            labels=["service", "job"],
        )
        rows = scraped_rows(
            self.db, select(self.model.name, self.model.every_seconds, self.model.paused)
        )
        if rows is None:
            return
        for name, seconds, is_paused in rows:
            every.add_metric([self.service, name], seconds)
            paused.add_metric([self.service, name], 1 if is_paused else 0)
        yield every
        yield paused


class ImportJobsCollector:
    """Import jobs not ended, by status, and how long the least recently active of them
    has gone without committing a chunk (since its heartbeat, or its creation if it
    never started), read when scraped: a job nobody takes up shows as a growing age."""

    def __init__(self, service: str, db, job_model):
        self.service, self.db, self.model = service, db, job_model

    def collect(self):
        jobs = GaugeMetricFamily(
            "rapport_import_jobs",
            "Import jobs not ended, by status (queued, running)",
            labels=["service", "status"],
        )
        idle = GaugeMetricFamily(
            "rapport_import_job_idle_seconds",
            "Seconds since the least recently active unfinished import job last made progress",
            labels=["service"],
        )
        model, since = self.model, func.coalesce(self.model.heartbeat_at, self.model.created_at)
        rows = scraped_rows(
            self.db,
            select(model.status, func.count(), func.min(since))
            .where(model.status.in_(("queued", "running")))
            .group_by(model.status),
        )
        if rows is None:
            return
        counts = {"queued": 0, "running": 0}
        oldest = None
        for status, count, least in rows:
            counts[status] = count
            least = UTCDateTime().process_result_value(least, None)
            if least is not None and (oldest is None or least < oldest):
                oldest = least
        for status, count in counts.items():
            jobs.add_metric([self.service, status], count)
        idle.add_metric([self.service], _age_seconds(oldest))
        yield jobs
        yield idle


def _age_seconds(oldest) -> float:
    return 0.0 if oldest is None else max(0.0, time.time() - oldest.timestamp())


def exposition(extra_collectors=()) -> tuple[bytes, str]:
    """The text exposition for this process (all gunicorn workers in multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_Default())
    for collector in extra_collectors:
        registry.register(collector)
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _Default:
    def collect(self):
        return REGISTRY.collect()
