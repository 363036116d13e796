"""The manager's plan editor (/workspace/plans): a plan is created and edited by the
API's schemas and use cases, refusals stand next to the fields and nothing is
written, the preview is dateutil's own computation, a plan is paused, resumed and
ended from the page, non-managers and forms without the CSRF field are refused."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from sqlalchemy import func, select

from services.calls.plans.tables import CallPlan, CallPlanVersion
from shared import clock
from tests.calls.helpers import auth
from tests.conftest import make_token

RULE = "FREQ=WEEKLY;BYDAY=TU;BYHOUR=11;BYMINUTE=15"
FORM = {
    "name": "VIP check-in",
    "segments": "vip, smb",
    "channel": "phone",
    "purpose": "service",
    "rrule": RULE,
    "timezone": "Asia/Hong_Kong",
    "windows": "MO,TU,WE,TH,FR 09:00-18:00",
    "starts_at": "2026-01-05T09:00",
    "priority": "2",
    "horizon_days": "30",
}


@pytest.fixture
def signed_in(client):
    client.get("/workspace/plans/", query_string={"token": make_token("manager", "meg")})
    return _csrf(client.get("/workspace/plans/new").get_data(as_text=True))


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([0-9a-f]+)"', html).group(1)


def _plans(app) -> tuple[int, int]:
    with app.extensions["rapport"].db.reader() as s:
        return (
            s.scalar(select(func.count()).select_from(CallPlan)),
            s.scalar(select(func.count()).select_from(CallPlanVersion)),
        )


def _create(client, csrf, **changes) -> str:
    r = client.post("/workspace/plans/new", data={**FORM, "csrf_token": csrf, **changes})
    assert r.status_code == 303, r.get_data(as_text=True)
    return r.headers["Location"].split("/")[-1].split("?")[0]


def test_a_plan_created_on_the_page_is_the_plan_the_api_answers(signed_in, client):
    plan_id = _create(client, signed_in)
    plan = client.get(f"/api/v1/call-plans/{plan_id}", headers=auth()).json
    assert plan["segments"] == ["vip", "smb"] and plan["rrule"] == RULE
    assert plan["windows"] == [
        {"days": ["MO", "TU", "WE", "TH", "FR"], "start": "09:00", "end": "18:00"}
    ]
    assert plan["starts_at"].startswith("2026-01-05T01:00") and plan["priority"] == 2


def test_editing_on_the_page_makes_a_new_version(signed_in, client):
    plan_id = _create(client, signed_in)
    r = client.post(
        f"/workspace/plans/{plan_id}",
        data={**FORM, "csrf_token": signed_in, "rrule": "FREQ=WEEKLY;BYDAY=FR;BYHOUR=15"},
    )
    assert r.status_code == 303
    plan = client.get(f"/api/v1/call-plans/{plan_id}", headers=auth()).json
    assert plan["version"] == 2 and "BYDAY=FR" in plan["rrule"]


def test_bad_input_shows_the_apis_reasons_by_the_fields_and_writes_nothing(app, signed_in, client):
    r = client.post(
        "/workspace/plans/new",
        data={
            **FORM,
            "csrf_token": signed_in,
            "name": " ",
            "rrule": "FREQ=HOURLY",
            "timezone": "Mars/Base",
            "windows": "MO 18:00-09:00",
            "priority": "9",
        },
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "Nothing was saved" in html
    for field in ("name", "rrule", "timezone", "windows", "priority"):
        assert f'id="{field}-error"' in html, field
    assert "Line 1: end: The window never opens" in html
    assert _plans(app) == (0, 0)


def test_the_preview_on_the_page_equals_dateutils_own_computation(signed_in, client):
    r = client.get(
        "/workspace/plans/preview",
        query_string={
            "rrule": RULE,
            "timezone": "America/New_York",
            "starts_at": "2026-01-05T09:00",
        },
    )
    assert r.status_code == 200
    zone = ZoneInfo("America/New_York")
    start = datetime(2026, 1, 5, 9, 0, tzinfo=zone)
    expected = list(
        rrulestr(RULE, dtstart=start).xafter(max(clock.now(), start), inc=True, count=10)
    )
    shown = re.findall(r'data-occurs="([^"]+)"', r.get_data(as_text=True))
    assert [datetime.fromisoformat(s) for s in shown] == expected


def test_the_preview_button_works_without_script_and_saves_nothing(app, signed_in, client):
    r = client.post(
        "/workspace/plans/new", data={**FORM, "csrf_token": signed_in, "action": "preview"}
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and len(re.findall(r"data-occurs=", html)) == 10
    assert "connect-src 'self'" in r.headers["Content-Security-Policy"]  # the live script
    assert _plans(app) == (0, 0)


def test_a_plan_is_paused_resumed_and_ended_from_the_page(signed_in, client):
    plan_id = _create(client, signed_in)
    for status in ("paused", "active", "ended"):
        r = client.post(
            f"/workspace/plans/{plan_id}/status", data={"csrf_token": signed_in, "status": status}
        )
        assert r.status_code == 303
        assert client.get(f"/api/v1/call-plans/{plan_id}", headers=auth()).json["status"] == status
    r = client.post(
        f"/workspace/plans/{plan_id}/status", data={"csrf_token": signed_in, "status": "active"}
    )
    assert r.status_code == 409
    assert client.get(f"/api/v1/call-plans/{plan_id}", headers=auth()).json["status"] == "ended"


def test_a_form_without_the_csrf_token_is_refused_and_writes_nothing(app, signed_in, client):
    r = client.post("/workspace/plans/new", data=FORM)
    assert r.status_code == 403 and _plans(app) == (0, 0)


@pytest.mark.parametrize("role", ["agent", "analyst"])
def test_non_managers_are_refused_the_editor(client, role):
    client.get("/workspace/plans/", query_string={"token": make_token(role, "ann")})
    assert client.get("/workspace/plans/new").status_code == 403
    assert client.get("/workspace/plans/preview", query_string={"rrule": RULE}).status_code == 403
