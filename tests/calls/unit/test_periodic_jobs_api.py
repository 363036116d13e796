"""Operators see and set the periodic work at /periodic-jobs."""

from datetime import datetime, timedelta

import pytest

from services.calls import periodic
from services.calls.db import PeriodicJob
from shared import clock
from shared.periodic import Scheduler
from tests.conftest import auth

URL = "/api/v1/periodic-jobs"


@pytest.fixture
def scheduler(app):
    ctx = app.extensions["rapport"]
    scheduler = Scheduler(
        "calls", ctx.db, PeriodicJob, periodic.jobs(ctx.settings, ctx.db), ctx.settings
    )
    scheduler.register()
    return scheduler


def missed_calls(client) -> dict:
    """The missed-calls job as listed (the service has other jobs beside it)."""
    r = client.get(URL, headers=auth("manager"))
    assert r.status_code == 200
    [job] = [job for job in r.json if job["name"] == "missed-calls"]
    return job


def test_the_jobs_show_their_schedule_and_last_pass(client, scheduler):
    assert "missed-calls" in scheduler.run_due()
    job = missed_calls(client)
    assert job["name"] == "missed-calls" and job["every_seconds"] == 60
    assert (job["runs"], job["failures"], job["last_status"], job["running"]) == (1, 0, "ok", False)


def test_an_admin_pauses_resumes_reschedules_and_runs_a_job_now(client, scheduler):
    scheduler.run_due()
    url = f"{URL}/missed-calls"
    r = client.patch(url, json={"every_seconds": 3600}, headers=auth("admin"))
    assert r.status_code == 200 and r.json["every_seconds"] == 3600
    ahead = clock.now() + timedelta(seconds=3600)
    assert abs((job_time(r.json["next_run_at"]) - ahead).total_seconds()) < 60
    r = client.patch(url, json={"paused": True}, headers=auth("admin"))
    assert r.status_code == 200 and r.json["paused"] is True
    client.patch(url, json={"run_now": True}, headers=auth("admin"))
    assert "missed-calls" not in scheduler.run_due()  # paused: due, but not run
    r = client.patch(url, json={"paused": False}, headers=auth("admin"))
    assert not r.json["paused"]
    assert "missed-calls" in scheduler.run_due()
    assert missed_calls(client)["runs"] == 2


def named(jobs, name):
    """One job of the list (the service has others)."""
    return next(job for job in jobs if job["name"] == name)


def job_time(text):
    return datetime.fromisoformat(text)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"every_seconds": 0}, "every_seconds"),
        ({"every_seconds": "soon"}, "every_seconds"),
        ({"paused": "maybe"}, "paused"),
        ({"tick": 5}, "tick"),
    ],
)
def test_a_bad_change_is_a_422_naming_the_field_and_changes_nothing(client, scheduler, body, field):
    r = client.patch(f"{URL}/missed-calls", json=body, headers=auth("admin"))
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    assert field in str(r.json)
    job = missed_calls(client)
    assert (job["every_seconds"], job["paused"]) == (60, False)


def test_only_an_admin_changes_jobs_and_an_unknown_job_is_404(client, scheduler):
    r = client.patch(f"{URL}/missed-calls", json={"paused": True}, headers=auth("manager"))
    assert r.status_code == 403 and r.mimetype == "application/problem+json"
    assert client.get(URL, headers=auth("agent")).status_code == 403
    r = client.patch(f"{URL}/no-such-job", json={"paused": True}, headers=auth("admin"))
    assert r.status_code == 404 and r.mimetype == "application/problem+json"
