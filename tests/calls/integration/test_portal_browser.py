"""The partner portal in a real headless Chromium: a partner signs in, sees its
agents' queue, opens a call (audited), records an outcome through the form, and
uploads a CSV whose per-row report accepts the good row and refuses the others,
writing only the good one. No console errors, no serious axe-core violations, no
horizontal scroll on a 375 px phone. The upload report's screenshot goes to
docs/screenshots/ (linked from docs/calls.md) with RAPPORT_SCREENSHOTS=1. Signing in,
seeing only one's own work and the neutral page for another partner's call are driven
against the running system in tests/e2e/test_portal_and_board.py."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import select, update

from services.calls.calls.tables import Call
from services.calls.customers.tables import Customer
from services.calls.partner.tables import PartnerRead
from tests.calls.helpers import (
    add_agent,
    add_partner,
    assign,
    build_app,
    calls_of,
    create_plan,
    project,
    schedule,
)
from tests.conftest import make_token

pytestmark = pytest.mark.integration


@pytest.fixture
def served(service_app, sqlite_url):
    from werkzeug.serving import make_server

    app = build_app(service_app, sqlite_url)
    client = app.test_client()
    project(app, "c1", "c2")
    with app.extensions["rapport"].uow() as work:
        work.session.execute(
            update(Customer).values(phone="+852 9123 4567", preferred_language="zh-HK")
        )
    partner = add_partner(client, "A-Call")
    add_agent(client, "agent-a", kind="partner", partner_id=partner["id"])
    schedule(client, create_plan(client, rrule="FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=10")["id"], days=7)
    assign(client)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", app, partner, calls_of(client)
    server.shutdown()


def _outcomes(app) -> dict:
    with app.extensions["rapport"].db.reader() as s:
        return dict(
            s.execute(select(Call.id, Call.outcome).where(Call.status == "completed")).all()
        )


def _reads(app) -> list[str]:
    with app.extensions["rapport"].db.reader() as s:
        return list(s.scalars(select(PartnerRead.endpoint).order_by(PartnerRead.id)))


def _choose_file(page, path: Path) -> None:
    found = page.send("Runtime.evaluate", expression="document.getElementById('file')")
    page.send("DOM.setFileInputFiles", files=[str(path)], objectId=found["result"]["objectId"])


def test_a_partner_works_its_queue_and_uploads_outcomes_in_the_browser(
    served, chromium, axe_source, tmp_path, shots
):
    url, app, partner, calls = served
    first, second, third = calls[0], calls[1], calls[2]
    page = chromium
    page.goto(f"{url}/portal/?token={make_token('partner', 'supervisor', partner['id'])}")
    assert "token=" not in page.js("location.href") and "Your agents' calls" in page.text()
    assert page.axe(axe_source) == []

    page.load(lambda: page.js(f"document.querySelector('a[href$=\"{first['id']}\"]').click()"))
    assert "+852 9123 4567" in page.text() and "zh-HK" in page.text()
    assert _reads(app)[-1] == "read"
    page.fill({"outcome": "reached", "satisfaction": "4", "propensity": "150"})
    page.submit()
    assert "Nothing was saved" in page.text() and _outcomes(app) == {}
    assert page.js("document.getElementById('propensity').getAttribute('aria-invalid')") == "true"
    assert page.axe(axe_source) == []
    page.fill({"outcome": "reached", "satisfaction": "4", "propensity": "70"})
    page.submit()
    assert "Outcome recorded: reached" in page.text()
    assert _outcomes(app) == {first["id"]: "reached"}

    page.goto(f"{url}/portal/outcomes")
    assert page.axe(axe_source) == []
    csv = tmp_path / "outcomes.csv"
    csv.write_text(
        "call_id,outcome,satisfaction,propensity,duration_seconds,notes\n"
        f"{second['id']},no_answer,,,30,rang out\n"
        f"{third['id']},reached,9,,,\n"
        "someone-elses,busy,,,,\n",
        encoding="utf-8",
    )
    _choose_file(page, csv)
    page.submit("main form")
    text = page.text()
    assert "1 of 3 rows recorded; 2 refused" in text
    assert "This call is not in your work." in text and "satisfaction:" in text
    assert _outcomes(app) == {first["id"]: "reached", second["id"]: "no_answer"}
    assert page.axe(axe_source) == []
    page.screenshot(shots / "portal-upload-report.png")

    page.viewport(375, 800, mobile=True)
    assert not page.scrolls_sideways()
    page.viewport(1280, 800)
    assert page.errors() == []
