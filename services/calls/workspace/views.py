"""The workspace's routes: load the form, call one use case, render a template.
No queries and no business rules here."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from marshmallow import ValidationError

from services.calls.calls import outcomes, reads
from services.calls.calls.outcome_schemas import OutcomeIn
from services.calls.calls.schemas import QueueArgs
from services.calls.workspace import context, form
from shared import clock
from shared.errors import AppError, Invalid
from shared.events.contracts import OUTCOMES
from shared.web import pages
from shared.web.app import principal, require_roles, service

bp = Blueprint("workspace", __name__, url_prefix="/workspace", template_folder="../templates")
CALLERS = ("agent", "manager")
VIEWS = (
    ("all", "All open"),
    ("due", "Due"),
    ("overdue", "Overdue"),
    ("callbacks", "Callbacks"),
    ("escalations", "Escalations"),
)


pages.refusals_as_pages(bp)


@bp.get("/")
def queue():
    require_roles(*CALLERS)
    try:
        args = QueueArgs().load(request.args)
    except ValidationError as exc:
        raise Invalid(
            "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in exc.messages.items())
        ) from None
    page = reads.queue(service().uow, principal(), args["limit"], args["cursor"], args["show"])
    return render_template(
        "workspace/queue.html",
        title="My queue",
        page=page,
        show=args["show"],
        views=VIEWS,
        zone=form.ZONE,
        now=clock.now(),
        zone_label=form.ZONE_LABEL,
    )


@bp.route("/calls/<string:call_id>", methods=["GET", "POST"])
def call(call_id: str):
    require_roles(*CALLERS)
    uow, caller = service().uow, principal()
    shown = context.call_page(uow, caller, call_id)
    errors, posted, status = {}, {}, 200
    if request.method == "POST":
        posted = request.form
        try:
            data = OutcomeIn().load(form.body(request.form, shown["checklist"], shown["gaps"]))
            outcomes.record_outcome(uow, call_id, data, caller)
            return redirect(url_for("workspace.call", call_id=call_id, done=1), code=303)
        except ValidationError as exc:
            errors, status = form.field_errors(exc.messages), 422
        except AppError as exc:
            if exc.status not in (409, 422):
                raise
            errors, status = form.field_errors(exc.errors) or {"_": [exc.detail]}, exc.status
    return render_template(
        "workspace/call.html",
        title="Call",
        errors=errors,
        f=posted,
        outcomes=OUTCOMES,
        zone=form.ZONE,
        zone_label=form.ZONE_LABEL,
        done=request.args.get("done"),
        **shown,
    ), status
