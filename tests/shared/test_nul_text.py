"""A NUL character is text no database here stores (PostgreSQL's text refuses it):
every service answers it with a 422 problem, never a 500, and writes nothing."""

import importlib

import pytest
from sqlalchemy import text

from tests.conftest import auth

PATHS = {
    "customer": "/api/v1/customers/ab%00cd",
    "sales": "/api/v1/products/ab%00cd",
    "reporting": "/api/v1/reports/activity%00",
    "calls": "/api/v1/call-plans/ab%00cd",
}
REQUESTS = {
    "customer": ("post", "/api/v1/customers", {"name": "Chan\u0000", "phone": "+85291234567"}),
    "sales": (
        "post",
        "/api/v1/products",
        {"sku": "A\u00001", "name": "x", "price": "1.00", "unit_cost": "0.50"},
    ),
    "reporting": ("get", "/api/v1/reports/activity?segment=smb%00", None),
    "calls": (
        "post",
        "/api/v1/call-plans",
        {
            "name": "weekly\u0000",
            "segment": "smb",
            "channel": "phone",
            "rrule": "FREQ=WEEKLY;BYDAY=MO",
        },
    ),
}


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_a_nul_character_is_a_422_in_every_service(name, service_app, database_url):
    config = importlib.import_module(f"services.{name}.config")
    app = service_app(
        importlib.import_module(f"services.{name}.app").create_app, config.MIGRATIONS, database_url
    )
    method, path, body = REQUESTS[name]
    client = app.test_client()
    r = getattr(client, method)(path, json=body, headers=auth("admin"))
    assert r.status_code == 422 and r.mimetype == "application/problem+json", r.get_data()
    assert "NUL" in r.json["detail"]
    r = client.get(PATHS[name], headers=auth("admin"))
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    with app.extensions["rapport"].db.reader() as session:
        assert session.execute(text("SELECT count(*) FROM outbox")).scalar() == 0
