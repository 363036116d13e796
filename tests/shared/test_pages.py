"""The page machinery every service's pages share (shared/web/pages.py): sign-in by
token into a cookie, CSRF on forms, sign-out, the base template and headers."""

from __future__ import annotations

import re

import pytest
from flask import Blueprint, render_template_string, request

from shared.config import Settings
from shared.web import pages
from shared.web.app import create_service_app, principal
from tests.conftest import make_token
from tests.shared.messaging_app import Outbox

SAVED: list[str] = []
PAGE = """{% extends "pages/base.html" %}{% block content %}<h1>Hello {{ who }}</h1>
<form method="post">{{ csrf_field() }}<label for="n">Name</label>
<input id="n" name="name"><button>Save</button></form>{% endblock %}"""


@pytest.fixture
def client(sqlite_url):
    bp = Blueprint("things", __name__)

    @bp.route("/things/", methods=["GET", "POST"])
    def things():
        if request.method == "POST":
            SAVED.append(request.form["name"])
        return render_template_string(PAGE, title="Things", who=principal().subject)

    settings = Settings.from_env("customer", {"DATABASE_URL": sqlite_url, "DEV_MODE": "1"})
    app = create_service_app(
        settings,
        title="t",
        description="t",
        blueprints=[],
        outbox_model=Outbox,
        setup=lambda a: (a.register_blueprint(bp), pages.install(a, "/things")),
    )
    SAVED.clear()
    return app.test_client()


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([0-9a-f]+)"', html).group(1)


def test_a_page_without_a_token_asks_to_sign_in_and_a_bad_token_is_refused(client):
    r = client.get("/things/")
    html = r.get_data(as_text=True)
    assert r.status_code == 401 and 'type="password"' in html and 'for="token"' in html
    assert client.get("/things/", query_string={"token": "forged"}).status_code == 401
    assert "rapport_token" not in (client.get_cookie("rapport_token") or "")


def test_the_token_moves_into_a_strict_httponly_cookie_and_leaves_the_address(client):
    r = client.get("/things/", query_string={"token": make_token("agent", "ann"), "x": "1"})
    assert r.status_code == 303 and r.headers["Location"].endswith("/things/?x=1")
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/things" in cookie
    page = client.get("/things/")
    assert page.status_code == 200 and "Hello ann" in page.get_data(as_text=True)
    assert client.get("/api/docs/openapi.json").status_code == 200


def test_the_base_template_has_a_skip_link_landmarks_a_viewport_and_strict_headers(client):
    client.get("/things/", query_string={"token": make_token("agent")})
    r = client.get("/things/")
    html = r.get_data(as_text=True)
    assert 'href="#main"' in html and '<main id="main"' in html and "<header" in html
    assert 'name="viewport"' in html and 'lang="en"' in html
    assert "default-src 'none'" in r.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in r.headers["Content-Security-Policy"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Cache-Control"] == "no-store"
    css = client.get("/pages-static/pages.css")
    assert css.status_code == 200 and "@media" in css.get_data(as_text=True)


def test_a_form_without_or_with_a_wrong_csrf_token_is_refused_and_saves_nothing(client):
    client.get("/things/", query_string={"token": make_token("agent")})
    token = _csrf(client.get("/things/").get_data(as_text=True))
    r = client.post("/things/", data={"name": "x"})
    assert r.status_code == 403 and "nothing was saved" in r.get_data(as_text=True)
    assert client.post("/things/", data={"name": "x", "csrf_token": "0" * 64}).status_code == 403
    assert SAVED == []
    assert client.post("/things/", data={"name": "y", "csrf_token": token}).status_code == 200
    assert SAVED == ["y"]


def test_a_csrf_token_belongs_to_the_signed_in_token(client):
    client.get("/things/", query_string={"token": make_token("agent", "ann")})
    ann = _csrf(client.get("/things/").get_data(as_text=True))
    client.get("/things/", query_string={"token": make_token("agent", "bob")})
    assert client.post("/things/", data={"name": "x", "csrf_token": ann}).status_code == 403


def test_sign_out_needs_the_csrf_token_and_clears_the_cookie(client):
    client.get("/things/", query_string={"token": make_token("agent")})
    token = _csrf(client.get("/things/").get_data(as_text=True))
    assert client.post("/things/sign-out").status_code == 403
    r = client.post("/things/sign-out", data={"csrf_token": token})
    assert r.status_code == 200 and "Signed out" in r.get_data(as_text=True)
    assert client.get("/things/").status_code == 401


def test_a_bearer_header_signs_a_page_in_without_cookie_or_csrf(client):
    headers = {"Authorization": f"Bearer {make_token('agent')}"}
    assert client.post("/things/", data={"name": "z"}, headers=headers).status_code == 200
    assert SAVED == ["z"]
