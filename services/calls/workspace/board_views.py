"""The manager's assignment board (``/workspace/board``): the board's read use case
and the bulk reassignment form, judged by the API's ``BulkReassignIn`` and done by
``reassignment.reassign_many`` exactly as POST /calls/reassign does."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from marshmallow import ValidationError

from services.calls.people import reassignment
from services.calls.people.assignment_schemas import BulkReassignIn
from services.calls.workspace import board
from services.calls.workspace.form import ZONE, ZONE_LABEL
from shared import clock
from shared.errors import AppError
from shared.web import pages
from shared.web.app import principal, require_roles, service

bp = Blueprint("board", __name__, url_prefix="/workspace/board", template_folder="../templates")
MANAGERS = ("manager",)
RESULT = ("matched", "reassigned", "unassignable", "more")


pages.refusals_as_pages(bp)


@bp.route("/", methods=["GET", "POST"])
def show():
    require_roles(*MANAGERS)
    errors, posted, status = {}, {}, 200
    if request.method == "POST":
        posted = request.form
        try:
            data = BulkReassignIn().load(board.body(request.form))
            filters = {name: data.get(name) for name in board.FILTERS}
            done = reassignment.reassign_many(
                service().uow,
                filters,
                data["to_agent_id"],
                data["reason"],
                principal().subject,
                data["limit"],
            )
            return redirect(url_for("board.show", **{k: int(done[k]) for k in RESULT}), code=303)
        except ValidationError as exc:
            errors, status = board.field_errors(exc.messages), 422
        except AppError as exc:
            if exc.status not in (409, 422):
                raise
            errors = board.field_errors(exc.errors) or {"filters": [exc.detail]}
            status = exc.status
    done = {k: request.args.get(k, type=int) for k in RESULT}
    return render_template(
        "manager/board.html",
        title="Assignment board",
        errors=errors,
        f=posted,
        done=done if done["matched"] is not None else None,
        zone=ZONE,
        zone_label=ZONE_LABEL,
        **board.board(service().uow, clock.now()),
    ), status
