"""``/dashboard``: the manager's page, server-rendered HTML with the key charts
(inline PNG, so the page needs no further authenticated requests) and tables.

Besides ``Authorization: Bearer <token>`` it is signed in like every page
(shared/web/pages.py): ``?token=<token>`` once, moved into an HttpOnly,
SameSite=Strict cookie scoped to ``/dashboard``. Only pages read the cookie; the
API never does.
"""

from __future__ import annotations

import base64
import re
from datetime import timedelta
from pathlib import Path

from flask import Blueprint, Flask, render_template, request

from services.reporting import catalogue, config
from services.reporting.reports import charts
from shared import clock
from shared.errors import Invalid
from shared.web import pages
from shared.web.app import require_roles, service

PATH = "/dashboard"
PERIOD_DAYS = 90
CURRENCY = re.compile(r"[A-Z]{3}")

# The service's templates stay at its root (services/reporting/templates).
bp = Blueprint("dashboard", __name__, template_folder=Path(__file__).parents[1] / "templates")


def install(app: Flask) -> None:
    app.register_blueprint(bp)
    pages.install(app, PATH)


def _png(module, report) -> str:
    return base64.b64encode(module.chart(report, charts)).decode()


def _sections(args_by_report: dict) -> dict:
    ctx = service()
    zone = config.timezone(ctx.settings)
    out = {}
    for name, args in args_by_report.items():
        report = catalogue.report(name, ctx.uow, zone, dict(args))
        out[name] = {"data": report, "png": _png(catalogue.REPORTS[name][0], report)}
    return out


def _performance(period: dict) -> dict:
    """The agents report per agent and per partner: the same use case as the API."""
    ctx = service()
    zone = config.timezone(ctx.settings)
    return {
        by: catalogue.report("agents", ctx.uow, zone, {**period, "group_by": by})
        for by in ("agent", "partner")
    }


@bp.get(PATH)
def dashboard():
    require_roles("analyst", "manager")
    zone = config.timezone(service().settings)
    end = clock.now().astimezone(zone).date()
    period = {"start": end - timedelta(days=PERIOD_DAYS - 1), "end": end}
    _refuse_filters()
    currency = request.args.get("currency", "HKD")
    if not CURRENCY.fullmatch(currency):
        raise Invalid("not a currency", errors={"currency": ["An ISO 4217 code, e.g. HKD."]})
    sections = _sections(
        {
            "activity": {**period, "group_by": "week"},
            "findings": {**period, "group_by": "month"},
            "call-effectiveness": {
                "start": end - timedelta(days=182),
                "end": end,
                "currency": currency,
            },
            "outsourcers": period,
            "pnl": {**period, "currency": currency, "group_by": "segment"},
            "coverage": {"min_days": 0, "limit": 20},
            "follow-ups": {"days": 30, "min_propensity": 70, "limit": 20},
            "data-quality": {},
        }
    )
    sections["agents"] = _performance(period)
    html = render_template(
        "dashboard.html",
        s=sections,
        period=period,
        currency=currency,
        generated=clock.now().astimezone(zone),
    )
    # Its own policy: the charts are inline images and its style is inline.
    return (
        html,
        200,
        {
            "Content-Type": "text/html; charset=utf-8",
            "Content-Security-Policy": (
                "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
            ),
        },
    )


def _refuse_filters() -> None:
    """The sections answer fixed periods over every segment, channel and team: a
    filter in the address would be ignored by all of them, so it is refused."""
    refused = sorted(set(request.args) - {"currency"})
    if refused:
        raise Invalid(
            "the dashboard takes no filters",
            errors={
                name: [
                    "The dashboard shows every segment, channel and team over fixed periods; "
                    "only currency can be chosen. Filter the reports under /api/v1/reports."
                ]
                for name in refused
            },
        )
