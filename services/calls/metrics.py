"""The calls service's business gauges for the operations team, read from its database
when Prometheus scrapes the relay process: calls due today by segment, channel and
status; open calls no agent could take, by the assigner's main reason; follow-ups
past their deadline, by kind; calls withdrawn for lack of consent, by channel; the
hours partners take from assignment to outcome; and coverage compliance by segment.

Labels stay few: segment and channel (never plan names, which grow without bound),
partner id (partners are a handful of firms). The queries are aggregates, at most
one round of them a ``fresh_for`` (Prometheus scrapes more often than these move),
each bounded by ``shared.metrics.scrape_reader``; a failed round yields nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta
from datetime import time as day_time

from prometheus_client.core import GaugeHistogramMetricFamily, GaugeMetricFamily
from sqlalchemy import func, select

from services.calls.calls.tables import Call, Followup
from services.calls.customers.tables import Customer
from services.calls.people.assignment import HKT
from services.calls.people.tables import Assignment
from services.calls.plans import coverage
from shared import clock
from shared.metrics import scrape_reader

log = logging.getLogger(__name__)

# Cancel reasons that mean the customer did not (or no longer) consent to the call.
CONSENT_REASONS = ("consent_withdrawn", "opted_out", "do_not_call_requested")
# What the assigner records first (its most common reason) -> a label value.
REASON_KINDS = (
    "no active agent",
    "inactive",
    "channel",
    "language",
    "segment",
    "no valid training",
    "training",
    "certification",
    "at capacity",
)
FOLLOWUP_LOOKBACK = timedelta(days=7)
SLA_WINDOW = timedelta(days=7)
SLA_BUCKETS_HOURS = (1, 4, 8, 24, 48, 72, 168)
SLA_ROWS = 50_000
COVERAGE_PAGE = 1000


def reason_kind(reason: str | None) -> str:
    """``no qualified agent with capacity: 3 language en, 1 at capacity`` -> ``language``."""
    head = (reason or "").split(": ", 1)[-1].split(", ")[0]
    head = head.split(" ", 1)[1] if head[:1].isdigit() and " " in head else head
    kind = next((k for k in REASON_KINDS if head.startswith(k)), "other")
    return kind.replace(" ", "_")


class CallsCollector:
    def __init__(
        self, service: str, db, fresh_for: float = 60.0, coverage_fresh_for: float = 300.0
    ):
        self.service, self.db = service, db
        self.fresh_for, self.coverage_fresh_for = fresh_for, coverage_fresh_for
        self._cached: tuple[float, list] = (float("-inf"), [])
        self._coverage: tuple[float, list] = (float("-inf"), [])
        self._lock = threading.Lock()

    def collect(self):
        with self._lock:
            self._cached = self._refresh(self._cached, self.fresh_for, self._families)
            self._coverage = self._refresh(
                self._coverage, self.coverage_fresh_for, self._coverage_families
            )
            return self._cached[1] + self._coverage[1]

    def _refresh(self, cached, fresh_for, read):
        if time.monotonic() - cached[0] < fresh_for:
            return cached
        try:
            return time.monotonic(), read(clock.now())
        except Exception:
            log.warning("%s: reading business gauges failed", self.service, exc_info=True)
            return float("-inf"), []

    def reader(self):
        """What ``coverage.coverage`` reads through: the bounded scrape session."""
        return scrape_reader(self.db)

    def _families(self, now: datetime) -> list:
        with scrape_reader(self.db) as session:
            return [
                self._due_today(session, now),
                self._unassignable(session),
                self._followups_overdue(session, now),
                self._consent_refused(session, now),
                self._partner_sla(session, now),
            ]

    def _gauge(self, name: str, doc: str, labels: list[str], rows) -> GaugeMetricFamily:
        family = GaugeMetricFamily(name, doc, labels=["service", *labels])
        for *values, count in rows:
            family.add_metric([self.service, *(v or "unknown" for v in values)], count)
        return family

    def _due_today(self, session, now: datetime) -> GaugeMetricFamily:
        start = datetime.combine(now.astimezone(HKT).date(), day_time(), HKT)
        segment = func.coalesce(Customer.segment, "unknown")
        rows = session.execute(
            select(segment, Call.channel, Call.status, func.count())
            .outerjoin(Customer, Customer.customer_id == Call.customer_id)
            .where(Call.due_at >= start, Call.due_at < start + timedelta(days=1))
            .group_by(segment, Call.channel, Call.status)
        )
        return self._gauge(
            "rapport_calls_due_today_calls",
            "Calls due today (Hong Kong day) by status: done is completed",
            ["segment", "channel", "status"],
            rows,
        )

    def _unassignable(self, session) -> GaugeMetricFamily:
        rows = session.execute(
            select(Call.unassigned_reason, func.count())
            .where(
                Call.status == "scheduled",
                Call.agent_id.is_(None),
                Call.unassigned_reason.is_not(None),
            )
            .group_by(Call.unassigned_reason)
        )
        kinds: dict[str, int] = {}
        for reason, count in rows:
            kinds[reason_kind(reason)] = kinds.get(reason_kind(reason), 0) + count
        return self._gauge(
            "rapport_calls_unassignable_calls",
            "Open calls no agent could take, by the assigner's main reason",
            ["reason"],
            sorted(kinds.items()),
        )

    def _followups_overdue(self, session, now: datetime) -> GaugeMetricFamily:
        deadline = func.coalesce(Call.window_end, Followup.due_at)
        rows = session.execute(
            select(Followup.kind, func.count())
            .join(Call, Call.id == Followup.call_id)
            .where(
                Call.status.in_(("scheduled", "missed")),
                deadline < now,
                deadline >= now - FOLLOWUP_LOOKBACK,
            )
            .group_by(Followup.kind)
        )
        return self._gauge(
            "rapport_followups_overdue_calls",
            "Follow-up calls past their deadline (last 7 days) and not done",
            ["kind"],
            rows,
        )

    def _consent_refused(self, session, now: datetime) -> GaugeMetricFamily:
        start = datetime.combine(now.astimezone(HKT).date(), day_time(), HKT)
        rows = session.execute(
            select(Call.channel, Call.cancel_reason, func.count())
            .where(
                Call.status == "cancelled",
                Call.cancel_reason.in_(CONSENT_REASONS),
                Call.due_at >= start,
            )
            .group_by(Call.channel, Call.cancel_reason)
        )
        return self._gauge(
            "rapport_calls_consent_refused_calls",
            "Calls from today on cancelled for lack of consent",
            ["channel", "reason"],
            rows,
        )

    def _partner_sla(self, session, now: datetime) -> GaugeHistogramMetricFamily:
        assigned = func.max(Assignment.decided_at)
        rows = session.execute(
            select(Call.partner_id, Call.completed_at, assigned)
            .join(
                Assignment,
                (Assignment.call_id == Call.id) & (Assignment.partner_id == Call.partner_id),
            )
            .where(
                Call.partner_id.is_not(None),
                Call.status == "completed",
                Call.completed_at >= now - SLA_WINDOW,
            )
            .group_by(Call.id, Call.partner_id, Call.completed_at)
            .limit(SLA_ROWS)
        )
        hours: dict[str, list[float]] = {}
        for partner, done, at in rows:
            hours.setdefault(partner, []).append(max(0.0, (done - at) / timedelta(hours=1)))
        family = GaugeHistogramMetricFamily(
            "rapport_partner_sla_hours",
            "Hours from assignment to outcome of partners' calls completed in the last 7 days",
            labels=["service", "partner"],
        )
        for partner, spans in sorted(hours.items()):
            buckets = [(str(float(le)), sum(h <= le for h in spans)) for le in SLA_BUCKETS_HOURS]
            family.add_metric(
                [self.service, partner], buckets + [("+Inf", len(spans))], gsum_value=sum(spans)
            )
        return family

    def _coverage_families(self, _now: datetime) -> list:
        """Compliance by segment, by the calls service's own coverage rule."""
        totals: dict[str, list[int]] = {}
        cursor = None
        while True:
            page = coverage.coverage(self, {}, COVERAGE_PAGE, cursor)
            for row in page["items"]:
                seen = totals.setdefault(row["segment"], [0, 0])
                seen[0] += 1
                seen[1] += row["compliant"]
            cursor = page["next_cursor"]
            if not cursor:
                break
        targeted = [(segment, n) for segment, (n, _) in sorted(totals.items())]
        compliant = [(segment, c) for segment, (_, c) in sorted(totals.items())]
        return [
            self._gauge(
                "rapport_coverage_targeted_customers",
                "Customers some call plan targets",
                ["segment"],
                targeted,
            ),
            self._gauge(
                "rapport_coverage_compliant_customers",
                "Targeted customers contacted within their plans' interval",
                ["segment"],
                compliant,
            ),
        ]


def collectors(settings, db) -> list:
    return [CallsCollector(settings.service, db)]
