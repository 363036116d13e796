"""The data-subject export across services (PDPO data access request).

A request creates an export job and publishes ``subject.export_requested`` in the
same transaction; every service holding records about people (``CONTRIBUTORS``)
answers with ``subject.export_contributed`` parts, which the consumer stores here.
The job is complete when every contributor's parts have all arrived; the document
is then this service's own part (``subject_access.subject``, read when the document is
asked for, so it is as current as the profile) beside each contributor's sections.
A contributor that has not answered by the job's deadline is named as missing: an
export is never silently partial. Erasing the customer drops the contributions of
its open jobs and refuses late ones (``forget``), so nothing erased outlives it here.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select, update

from services.customer.privacy import subject_access
from services.customer.privacy.tables import ExportJob, ExportPart
from services.customer.profiles.reads import absorbed_ids, get_customer
from shared.clock import utcnow
from shared.errors import NotFound
from shared.events.export_parts import join

log = logging.getLogger(__name__)
CONTRIBUTORS = ("calls", "sales")


def request_export(uow, customer_id: str, actor: str, timeout_seconds: float) -> dict:
    get_customer(uow, customer_id)  # 404 for an unknown customer
    now = utcnow()
    with uow() as work:
        ids = absorbed_ids(work.session, customer_id)
        job = ExportJob(
            customer_id=customer_id,
            customer_ids=ids,
            requested_by=actor,
            requested_at=now,
            deadline_at=now + timedelta(seconds=timeout_seconds),
        )
        work.session.add(job)
        work.session.flush()
        work.emit(
            "subject.export_requested",
            {
                "export_id": job.id,
                "customer_id": customer_id,
                "customer_ids": ids,
                "requested_at": now,
            },
        )
        return _status(job, {})


def record_contribution(work, payload: dict) -> None:
    """Keep one part as it came; a part already kept (a service answering a request
    delivered twice before its inbox saw it) is not kept again."""
    job = work.session.get(ExportJob, payload["export_id"])
    if job is None or job.erased_at is not None:
        log.info(
            "export part dropped: export %s is unknown or its customer erased", payload["export_id"]
        )
        return
    key = (payload["export_id"], payload["service"], payload["part"])
    if work.session.get(ExportPart, key) is None:
        work.session.add(
            ExportPart(
                export_id=key[0],
                service=key[1],
                part=key[2],
                parts=payload["parts"],
                sections=payload["sections"],
                received_at=utcnow(),
            )
        )


def read(uow, customer_id: str, export_id: str) -> dict:
    """The job's status and, once every contributor has answered, the document."""
    with uow.reader() as session:
        job = session.get(ExportJob, export_id)
        if job is None or job.customer_id != customer_id:
            raise NotFound(f"no export {export_id} of customer {customer_id}")
        parts = list(
            session.scalars(
                select(ExportPart)
                .where(ExportPart.export_id == job.id)
                .order_by(ExportPart.service, ExportPart.part)
            )
        )
    by_service: dict[str, list[ExportPart]] = {}
    for part in parts:
        by_service.setdefault(part.service, []).append(part)
    status = _status(job, by_service)
    if status["status"] == "complete":
        status["customer"] = subject_access.subject(uow, customer_id)
        for service in CONTRIBUTORS:
            status[service] = join([p.sections for p in by_service[service]])
    return status


def _answered(parts: list[ExportPart]) -> bool:
    return bool(parts) and len(parts) == parts[0].parts


def _status(job: ExportJob, by_service: dict[str, list]) -> dict:
    answered = [s for s in CONTRIBUTORS if _answered(by_service.get(s, []))]
    missing = [s for s in CONTRIBUTORS if s not in answered]
    if job.erased_at is not None:
        state = "erased"
    elif not missing:
        state = "complete"
    else:
        state = "incomplete" if utcnow() >= job.deadline_at else "pending"
    return {
        "id": job.id,
        "customer_id": job.customer_id,
        "status": state,
        "requested_at": job.requested_at,
        "requested_by": job.requested_by,
        "deadline_at": job.deadline_at,
        "customer_ids": job.customer_ids,
        "answered": answered,
        "missing": missing,
    }


def forget(session, customer_ids: list[str]) -> None:
    """Erasure: drop what open exports of these customers were sent, and refuse
    what is still on its way (it was read before the other services erased)."""
    jobs = select(ExportJob.id).where(ExportJob.customer_id.in_(customer_ids))
    session.execute(ExportPart.__table__.delete().where(ExportPart.export_id.in_(jobs)))
    session.execute(
        update(ExportJob).where(ExportJob.customer_id.in_(customer_ids)).values(erased_at=utcnow())
    )
