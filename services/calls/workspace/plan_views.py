"""The manager's plan editor (``/workspace/plans``): create and edit a plan through
the API's schemas and use cases (``PlanIn`` + ``plans.create_plan``, ``PlanEdit`` +
``rolling.edit_plan``), pause, resume or end it, and preview the dates its rule gives
(``plan_preview.preview`` under ``PreviewArgs``, as GET /call-plans/preview): a
small script asks for the preview as the rule is typed, a button does without it."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from marshmallow import ValidationError

from services.calls.plans import plans as plan_cases
from services.calls.plans import preview as plan_preview
from services.calls.plans import rolling
from services.calls.plans.preview_schemas import PreviewArgs
from services.calls.plans.schemas import PlanEdit, PlanIn
from services.calls.plans.tables import PLAN_STATUSES
from services.calls.workspace import plan_form
from shared import clock
from shared.errors import AppError
from shared.events.contracts import CHANNELS
from shared.web import pages
from shared.web.app import principal, require_roles, service

bp = Blueprint(
    "plan_editor",
    __name__,
    url_prefix="/workspace/plans",
    template_folder="../templates",
    static_folder="../static",
)
MANAGERS = ("manager",)
# The preview script fetches its list from this service; nothing else is loosened.
EDITOR_CSP = {"Content-Security-Policy": pages.CSP + "; connect-src 'self'"}


pages.refusals_as_pages(bp)


@bp.get("/")
def index():
    require_roles(*MANAGERS)
    shown = plan_cases.list_plans(service().uow, 200, request.args.get("cursor"))
    return render_template("manager/plans.html", title="Call plans", page=shown)


@bp.route("/new", methods=["GET", "POST"])
def new():
    return _editor(None)


@bp.route("/<string:plan_id>", methods=["GET", "POST"])
def edit(plan_id: str):
    return _editor(plan_id)


def _editor(plan_id: str | None):
    require_roles(*MANAGERS)
    uow = service().uow
    plan = plan_cases.get_plan(uow, plan_id) if plan_id else None
    f = (
        plan_form.values(plan)
        if plan
        else {"timezone": "Asia/Hong_Kong", "priority": 3, "horizon_days": 30, "purpose": "service"}
    )
    errors, preview, status = {}, None, 200
    if request.method == "POST":
        f = request.form
        if f.get("action") == "preview":
            preview, errors = _preview(f)
            status = 422 if errors else 200
        else:
            try:
                data = (PlanEdit() if plan else PlanIn()).load(plan_form.body(f))
                if plan:
                    saved = rolling.edit_plan(uow, plan.id, data, principal().subject)
                else:
                    saved = plan_cases.create_plan(uow, data, principal().subject)
                return redirect(url_for("plan_editor.edit", plan_id=saved.id, saved=1), 303)
            except ValidationError as exc:
                errors, status = plan_form.field_errors(exc.messages), 422
            except AppError as exc:
                if exc.status not in (409, 422):
                    raise
                errors = plan_form.field_errors(exc.errors) or {"_": [exc.detail]}
                status = exc.status
    return (
        render_template(
            "manager/plan.html",
            title=plan.name if plan else "New call plan",
            plan=plan,
            f=f,
            errors=errors,
            preview=preview,
            channels=CHANNELS,
            statuses=PLAN_STATUSES,
            saved=request.args.get("saved"),
        ),
        status,
        EDITOR_CSP,
    )


@bp.post("/<string:plan_id>/status")
def set_status(plan_id: str):
    require_roles(*MANAGERS)
    try:
        data = PlanEdit().load({"status": request.form.get("status", "")})
    except ValidationError as exc:
        return pages.message(
            422,
            "Not a plan status",
            "; ".join(map(str, exc.messages.get("status", []))) + " Nothing was changed.",
        )
    rolling.edit_plan(service().uow, plan_id, data, principal().subject)
    return redirect(url_for("plan_editor.edit", plan_id=plan_id, saved=1), 303)


@bp.get("/preview")
def preview():
    """The preview list alone, for the editor's script."""
    require_roles(*MANAGERS)
    shown, errors = _preview(request.args)
    return render_template(
        "manager/_preview.html", preview=shown, errors=errors
    ), 422 if errors else 200


def _preview(form) -> tuple[dict | None, dict]:
    try:
        args = PreviewArgs().load(plan_form.preview_args(form))
        return plan_preview.preview(
            args["rrule"],
            args["timezone"],
            args["starts_at"],
            args["count"],
            args["window"],
            args["allow_holidays"],
            clock.now(),
        ), {}
    except ValidationError as exc:
        return None, plan_form.field_errors(exc.messages)
    except AppError as exc:
        return None, plan_form.field_errors(exc.errors) or {"rrule": [exc.detail]}
