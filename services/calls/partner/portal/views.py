"""The portal's routes: load the form, call one partner use case, render a template.
No queries and no business rules here. Any call the partner may not name gets the
same neutral page, whatever the reason, as the partner API answers the same 404."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, redirect, render_template, request, url_for
from marshmallow import ValidationError

from services.calls.calls import outcomes
from services.calls.calls.outcome_schemas import OutcomeIn
from services.calls.partner import calls as partner
from services.calls.partner import withdrawals
from services.calls.partner.portal import upload
from services.calls.partner.routes import partners_only
from services.calls.partner.schemas import (
    PartnerCallArgs,
    PartnerCallOut,
    PartnerCallPage,
)
from services.calls.workspace import form
from shared.errors import AppError, Invalid, NotFound
from shared.events.contracts import OUTCOMES
from shared.web import pages
from shared.web.app import principal, service

bp = Blueprint("portal", __name__, url_prefix="/portal", template_folder="../../templates")
NOT_YOURS = ("Not in your work", "This call is not in your work.")
WITHDRAWALS_SHOWN = 200


@bp.errorhandler(AppError)
def _refused(exc: AppError):
    if isinstance(exc, NotFound):
        return pages.message(404, *NOT_YOURS)
    return pages.message(exc.status, exc.title, exc.detail)


def local(value: str | None) -> str:
    """An API time (ISO 8601) as the page shows it, in Hong Kong time."""
    if not value:
        return ""
    return datetime.fromisoformat(value).astimezone(form.ZONE).strftime("%a %d %b %Y %H:%M")


def _render(template: str, status: int = 200, **values):
    return render_template(template, local=local, zone_label=form.ZONE_LABEL, **values), status


@bp.get("/")
@partners_only
def queue():
    try:
        args = PartnerCallArgs().load(request.args)
    except ValidationError as exc:
        raise Invalid(
            "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in exc.messages.items())
        ) from None
    # Dumped by the API's own schema: the page shows exactly what the API answers.
    page = PartnerCallPage().dump(
        partner.list_calls(
            service().uow, principal(), args["status"], args["limit"], args["cursor"]
        )
    )
    open_ = withdrawals.listed(service().uow, principal(), False, WITHDRAWALS_SHOWN)["items"]
    return _render(
        "portal/queue.html",
        title="Your agents' calls",
        page=page,
        showing=args["status"] or "scheduled",
        withdrawn=open_,
    )


@bp.route("/calls/<string:call_id>", methods=["GET", "POST"])
@partners_only
def call(call_id: str):
    uow, caller = service().uow, principal()
    shown = PartnerCallOut().dump(partner.get_call(uow, caller, call_id))
    errors, posted, status = {}, {}, 200
    if request.method == "POST":
        posted = request.form
        try:
            data = OutcomeIn().load(
                form.body(request.form, shown["checklist"], shown["items_to_confirm"])
            )
            partner.record_outcome(uow, caller, call_id, data)
            return redirect(url_for("portal.call", call_id=call_id, done=1), code=303)
        except ValidationError as exc:
            errors, status = form.field_errors(exc.messages), 422
        except AppError as exc:
            if exc.status not in (409, 422):
                raise
            errors, status = form.field_errors(exc.errors) or {"_": [exc.detail]}, exc.status
    return _render(
        "portal/call.html",
        status,
        title="Call",
        errors=errors,
        f=posted,
        outcomes=OUTCOMES,
        done=request.args.get("done"),
        call=shown["call"],
        customer=shown["customer"],
        checklist=shown["checklist"],
        gaps=shown["items_to_confirm"],
        opt_out_notice_owed=False,
    )


@bp.post("/withdrawals/<string:withdrawal_id>/ack")
@partners_only
def acknowledge(withdrawal_id: str):
    try:
        withdrawals.acknowledge(service().uow, principal(), withdrawal_id)
    except NotFound:
        return pages.message(404, "Not in your work", "This notice is not for you.")
    return redirect(url_for("portal.queue", acknowledged=1), code=303)


@bp.route("/outcomes", methods=["GET", "POST"])
@partners_only
def bulk():
    problem, lines, status = None, None, 200
    if request.method == "POST":
        sent = request.files.get("file")
        try:
            if sent is None or not sent.filename:
                raise upload.BadFile("Choose a CSV file to upload.")
            items = upload.items(sent.stream.read(upload.MAX_BYTES + 1))
        except upload.BadFile as exc:
            problem, status = str(exc), 422
        else:
            lines = upload.report(outcomes.record_outcomes(service().uow, items, principal()))
    return _render(
        "portal/upload.html",
        status,
        title="Upload outcomes",
        columns=upload.COLUMNS,
        problem=problem,
        lines=lines,
        max_rows=upload.MAX_BULK,
        max_kb=upload.MAX_BYTES // 1024,
    )
