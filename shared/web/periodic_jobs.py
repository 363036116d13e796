"""The operator's view of a service's periodic work: ``/periodic-jobs``.

Every service with periodic jobs (``shared.periodic``) answers the list, and lets an
admin change a job's interval, pause or resume it, or ask for a pass at once; the
relay process that runs the jobs reads the table on its next tick.
"""

from __future__ import annotations

from datetime import timedelta

from flask.views import MethodView
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from shared import clock
from shared.errors import NotFound
from shared.web.app import roles, service
from shared.web.blueprint import Blueprint

READERS = ("manager", "analyst")


class JobOut(Schema):
    name = fields.String(required=True)
    every_seconds = fields.Integer(required=True)
    paused = fields.Boolean(required=True)
    next_run_at = fields.AwareDateTime(required=True)
    running = fields.Boolean(required=True, metadata={"description": "a replica holds its lease"})
    last_started_at = fields.AwareDateTime(allow_none=True)
    last_finished_at = fields.AwareDateTime(allow_none=True)
    last_status = fields.String(allow_none=True, metadata={"description": "ok or failed"})
    last_error = fields.String(allow_none=True)
    runs = fields.Integer(required=True)
    failures = fields.Integer(required=True)


class JobPatch(Schema):
    every_seconds = fields.Integer(validate=validate.Range(min=1, max=366 * 86400))
    paused = fields.Boolean()
    run_now = fields.Boolean(metadata={"description": "true: due at once"})


def _out(row) -> dict:
    now = clock.now()
    return {
        **{key: getattr(row, key) for key in JobOut().fields if hasattr(row, key)},
        "running": row.lease_until is not None and row.lease_until > now,
    }


def blueprint(model) -> Blueprint:
    """The routes over ``model`` (the service's ``PeriodicJobMixin`` table)."""
    blp = Blueprint(
        "periodic_jobs",
        __name__,
        url_prefix="/periodic-jobs",
        description="Periodic work the service runs by itself, once across replicas",
    )

    @blp.route("")
    class Jobs(MethodView):
        @roles(*READERS)
        @blp.response(200, JobOut(many=True))
        def get(self):
            """Every periodic job of this service, with its schedule and last pass."""
            with service().db.reader() as session:
                return [_out(row) for row in session.scalars(select(model).order_by(model.name))]

    @blp.route("/<string:name>")
    class Job(MethodView):
        @roles("admin")
        @blp.arguments(JobPatch)
        @blp.response(200, JobOut)
        def patch(self, change, name):
            """Change a job's interval, pause or resume it, or make it due at once."""
            with service().db.transaction() as session:
                row = session.get(model, name)
                if row is None:
                    raise NotFound(f"no periodic job {name!r} here")
                if "every_seconds" in change:
                    # The next pass moves with the interval, counted from the last one.
                    since = row.last_finished_at or clock.now()
                    row.every_seconds = change["every_seconds"]
                    row.next_run_at = since + timedelta(seconds=row.every_seconds)
                if "paused" in change:
                    row.paused = change["paused"]
                if change.get("run_now"):
                    row.next_run_at = clock.now()
                return _out(row)

    return blp
