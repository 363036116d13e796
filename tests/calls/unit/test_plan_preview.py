"""GET /call-plans/preview: the next dates a rule gives in the plan's time zone are
dateutil's own, and the windows place each call where planning would."""

from datetime import datetime
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from shared import clock
from tests.calls.helpers import auth

RULE = "FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=19;BYMINUTE=30"


def test_the_preview_equals_dateutils_own_rrule_computation(client):
    r = client.get(
        "/api/v1/call-plans/preview",
        headers=auth(),
        query_string={
            "rrule": RULE,
            "timezone": "Europe/London",
            "count": 10,
            "starts_at": "2026-03-01T00:00:00+00:00",
        },
    )
    assert r.status_code == 200, r.json
    zone = ZoneInfo("Europe/London")
    start = datetime(2026, 3, 1, tzinfo=zone)
    expected = list(
        rrulestr(RULE, dtstart=start.astimezone(zone)).xafter(
            max(clock.now(), start), inc=True, count=10
        )
    )
    got = [datetime.fromisoformat(i["occurs_at"]) for i in r.json["items"]]
    assert got == expected and len(got) == 10
    assert all(g.astimezone(zone).hour == 19 for g in got)  # local across DST


def test_windows_move_a_call_out_of_hours_and_a_holiday_is_named(client):
    r = client.get(
        "/api/v1/call-plans/preview",
        headers=auth(),
        query_string={
            "rrule": "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=25;BYHOUR=8",
            "count": 2,
            "window": ["MO,TU,WE,TH,FR 09:00-18:00"],
        },
    )
    assert r.status_code == 200, r.json
    first = r.json["items"][0]
    assert first["moved"] and first["holiday"]
    due = datetime.fromisoformat(first["due_at"])
    assert due.weekday() < 5 and due.hour >= 9 and due.date().day != 25


def test_a_bad_rule_zone_or_window_is_refused_by_field(client):
    r = client.get(
        "/api/v1/call-plans/preview",
        headers=auth(),
        query_string={"rrule": "FREQ=SECONDLY", "timezone": "Mars/Base", "window": "XX 9-5"},
    )
    assert r.status_code == 422
    errors = r.json["errors"]
    assert {"rrule", "timezone", "window"} <= set(errors)
