"""The workspace's customer search page and customer page (with the "Log a call"
form): load the form, call one use case (``find.search``, ``find.customer_page``,
``unplanned.log_call`` through ``UnplannedCallIn``), render a template."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from marshmallow import ValidationError

from services.calls.calls import unplanned
from services.calls.calls.outcome_schemas import UnplannedCallIn
from services.calls.customers.search_routes import FindArgs
from services.calls.workspace import find, form
from shared.errors import AppError
from shared.events.contracts import CHANNELS, OUTCOMES
from shared.web import pages
from shared.web.app import principal, require_roles, service

bp = Blueprint("workspace_find", __name__, url_prefix="/workspace", template_folder="../templates")
CALLERS = ("agent", "manager")


pages.refusals_as_pages(bp)


@bp.get("/customers")
def search():
    require_roles(*CALLERS)
    errors, results, status = {}, None, 200
    q = request.args.get("q", "")
    if "q" in request.args:
        try:
            args = FindArgs().load(request.args)
            results = find.search(service().uow, args["q"], args["limit"], args["cursor"])
        except ValidationError as exc:
            errors, status = form.field_errors(exc.messages), 422
        except AppError as exc:
            if exc.status != 422:
                raise
            errors, status = form.field_errors(exc.errors) or {"q": [exc.detail]}, 422
    return render_template(
        "workspace/search.html", title="Find a customer", q=q, errors=errors, results=results
    ), status


@bp.route("/customers/<string:customer_id>", methods=["GET", "POST"])
def customer(customer_id: str):
    require_roles(*CALLERS)
    uow, caller = service().uow, principal()
    shown = find.customer_page(uow, caller, customer_id)
    errors, posted, status = {}, {}, 200
    if request.method == "POST":
        posted = request.form
        body = {
            **form.body(request.form, [], shown["gaps"]),
            "customer_id": customer_id,
            "channel": posted.get("channel", ""),
            "direction": posted.get("direction", ""),
            "purpose": posted.get("purpose", "").strip() or None,
        }
        try:
            call = unplanned.log_call(uow, UnplannedCallIn().load(body), caller)
            return redirect(
                url_for("workspace_find.customer", customer_id=customer_id, logged=call.id),
                code=303,
            )
        except ValidationError as exc:
            errors, status = form.field_errors(exc.messages), 422
        except AppError as exc:
            if exc.status not in (409, 422):
                raise
            errors, status = form.field_errors(exc.errors) or {"_": [exc.detail]}, exc.status
    return render_template(
        "workspace/customer.html",
        title="Customer",
        errors=errors,
        f=posted,
        outcomes=OUTCOMES,
        channels=CHANNELS,
        zone=form.ZONE,
        zone_label=form.ZONE_LABEL,
        logged=request.args.get("logged"),
        checklist=[],
        opt_out_notice_owed=False,
        log_fields="workspace/log_fields.html",
        form_title="Log a call",
        form_submit="Log the call",
        **shown,
    ), status
