"""``/dashboard``: the manager's page, server-rendered HTML with the key charts
(inline PNG, so the page needs no further authenticated requests) and tables.

A browser cannot send a bearer header on navigation, so besides
``Authorization: Bearer <token>`` the dashboard accepts ``?token=<token>`` once:
the token is moved into an HttpOnly, SameSite=Strict cookie scoped to
``/dashboard`` and the browser is redirected to the same URL without it (so the
token does not stay in the address bar or history). Only ``/dashboard`` reads the
cookie; the API never does.
"""
from __future__ import annotations

import base64
import re
from datetime import timedelta
from urllib.parse import urlencode

from flask import Blueprint, Flask, redirect, render_template, request

from services.reporting import charts, config, services
from shared import clock
from shared.errors import Invalid
from shared.web.app import require_roles, service

COOKIE = "rapport_token"
PATH = "/dashboard"
PERIOD_DAYS = 90
CURRENCY = re.compile(r"[A-Z]{3}")

bp = Blueprint("dashboard", __name__, template_folder="templates")


def install(app: Flask) -> None:
    app.register_blueprint(bp)
    # Ahead of the shared authentication hook, which reads only the header.
    app.before_request_funcs.setdefault(None, []).insert(0, _token_from_browser)


def _token_from_browser():
    if request.path != PATH or request.headers.get("Authorization"):
        return None
    token = request.args.get("token") or request.cookies.get(COOKIE)
    if token:
        request.environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return None


def _png(module, report) -> str:
    return base64.b64encode(module.chart(report, charts)).decode()


def _sections(args_by_report: dict) -> dict:
    ctx = service()
    zone = config.timezone(ctx.settings)
    out = {}
    for name, args in args_by_report.items():
        report = services.report(name, ctx.uow, zone, dict(args))
        out[name] = {"data": report, "png": _png(services.REPORTS[name][0], report)}
    return out


def _performance(period: dict) -> dict:
    """The agents report per agent and per partner: the same use case as the API."""
    ctx = service()
    zone = config.timezone(ctx.settings)
    return {by: services.report("agents", ctx.uow, zone, {**period, "group_by": by})
            for by in ("agent", "partner")}


@bp.get(PATH)
def dashboard():
    if "token" in request.args:
        response = redirect(PATH + _query_without_token(), code=303)
        response.set_cookie(COOKIE, request.args["token"], httponly=True, samesite="Strict",
                            secure=request.is_secure, path=PATH, max_age=8 * 3600)
        return response
    require_roles("analyst", "manager")
    zone = config.timezone(service().settings)
    end = clock.now().astimezone(zone).date()
    period = {"start": end - timedelta(days=PERIOD_DAYS - 1), "end": end}
    _refuse_filters()
    currency = request.args.get("currency", "HKD")
    if not CURRENCY.fullmatch(currency):
        raise Invalid("not a currency", errors={"currency": ["An ISO 4217 code, e.g. HKD."]})
    sections = _sections({
        "activity": {**period, "group_by": "week"},
        "findings": {**period, "group_by": "month"},
        "call-effectiveness": {"start": end - timedelta(days=182), "end": end,
                               "currency": currency},
        "outsourcers": period,
        "pnl": {**period, "currency": currency, "group_by": "segment"},
        "coverage": {"min_days": 0, "limit": 20},
        "follow-ups": {"days": 30, "min_propensity": 70, "limit": 20},
        "data-quality": {},
    })
    sections["agents"] = _performance(period)
    html = render_template("dashboard.html", s=sections, period=period, currency=currency,
                           generated=clock.now().astimezone(zone))
    return html, 200, {"Content-Type": "text/html; charset=utf-8",
                       "Content-Security-Policy": "default-src 'none'; img-src data:; "
                                                  "style-src 'unsafe-inline'",
                       "Cache-Control": "no-store"}


def _refuse_filters() -> None:
    """The sections answer fixed periods over every segment, channel and team: a
    filter in the address would be ignored by all of them, so it is refused."""
    refused = sorted(set(request.args) - {"currency"})
    if refused:
        raise Invalid("the dashboard takes no filters", errors={
            name: ["The dashboard shows every segment, channel and team over fixed periods; "
                   "only currency can be chosen. Filter the reports under /api/v1/reports."]
            for name in refused})


def _query_without_token() -> str:
    rest = [(k, v) for k, v in request.args.items(multi=True) if k != "token"]
    return "?" + urlencode(rest) if rest else ""
