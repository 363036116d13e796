"""GET /customers?q=: one search box over names, phones, e-mails and external
references, paged; and unknown query parameters refused on the customer API."""

import itertools

import pytest

from services.customer import config
from services.customer.app import create_app
from tests.conftest import auth

_serial = itertools.count()


@pytest.fixture
def client(service_app, sqlite_url):
    return service_app(create_app, config.MIGRATIONS, sqlite_url).test_client()


def register(client, name, **extra):
    if "phone" not in extra and "email" not in extra:
        extra["email"] = f"c{next(_serial)}@example.org"
    r = client.post(
        "/api/v1/customers",
        headers=auth(),
        json={"name": name, "segment": "smb", "confirm_duplicate": True, **extra},
    )
    assert r.status_code == 201, r.json
    return r.json["id"]


def search(client, **args):
    r = client.get("/api/v1/customers", headers=auth("agent"), query_string=args)
    assert r.status_code == 200, r.json
    return r.json


def names(client, **args):
    return [c["name"] for c in search(client, **args)["items"]]


def test_a_partial_name_finds_it_whatever_the_accents_case_and_word_order(client):
    register(client, "CHÂN Tài Man")
    register(client, "Wong Siu Ming")
    register(client, "Chang Wai Ltd")
    assert names(client, q="Chan Tai") == ["CHÂN Tài Man"]
    assert names(client, q="tai chân") == ["CHÂN Tài Man"]
    assert names(client, q="chan")[0] == "CHÂN Tài Man"
    assert set(names(client, q="chan")) == {"CHÂN Tài Man", "Chang Wai Ltd"}
    assert names(client, q="siu") == ["Wong Siu Ming"]
    assert names(client, q="Lee") == []


def test_an_exact_name_ranks_before_a_partial_one(client):
    register(client, "Chan Tai Man Junior")
    register(client, "Chan Tai Man")
    assert names(client, q="chan tai man") == ["Chan Tai Man", "Chan Tai Man Junior"]


@pytest.mark.parametrize("q", ["9123 4567", "+852 9123-4567", "(852) 91234567", "91234567"])
def test_a_phone_in_any_format_finds_its_customer(client, q):
    wanted = register(client, "Chan Tai Man", phone="+85291234567")
    register(client, "Wong Siu Ming", phone="+85261234567")
    assert [c["id"] for c in search(client, q=q)["items"]] == [wanted]


def test_an_email_is_found_whatever_its_case(client):
    wanted = register(client, "Chan Tai Man", email="tai.man@example.com")
    register(client, "Wong Siu Ming", email="siu@example.com")
    assert [c["id"] for c in search(client, q="Tai.Man@Example.COM")["items"]] == [wanted]


def test_an_external_reference_is_found_exactly(client):
    wanted = register(client, "Chan Tai Man", external_ref="ERP-0042")
    register(client, "Wong Siu Ming", external_ref="ERP-00421")
    assert [c["id"] for c in search(client, q="ERP-0042")["items"]] == [wanted]


def test_search_combines_with_the_other_filters(client):
    register(client, "Chan Tai Man", lifecycle_status="active")
    register(client, "Chan Siu Ming", lifecycle_status="prospect")
    assert names(client, q="chan", lifecycle_status="prospect") == ["Chan Siu Ming"]


def test_many_results_are_paged_in_order_without_loss_or_repeat(client):
    for i in range(7):
        register(client, f"Chan Customer {i:02d}")
    register(client, "Wong Other")
    seen, cursor = [], None
    while True:
        body = search(client, q="chan", limit=3, **({"cursor": cursor} if cursor else {}))
        assert len(body["items"]) <= 3
        seen += [c["name"] for c in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == [f"Chan Customer {i:02d}" for i in range(7)]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/customers",
        "/api/v1/customers/x",
        "/api/v1/customers/x/history",
        "/api/v1/customers/x/activities",
        "/api/v1/customers/x/consents",
        "/api/v1/customers/x/export",
        "/api/v1/customers/x/exports/y",
        "/api/v1/segments",
        "/api/v1/segments/smb",
        "/api/v1/duplicates",
        "/api/v1/data-quality",
        "/api/v1/customers/import/x",
        "/api/v1/customers/import/x/rejections",
        "/api/v1/customers/export",
    ],
)
def test_an_unknown_query_parameter_is_a_422_naming_it(client, path):
    r = client.get(path, headers=auth("manager"), query_string={"name": "Chan"})
    assert r.status_code == 422
    assert r.content_type == "application/problem+json"
    assert "name" in str(r.json["errors"])


@pytest.mark.parametrize("args", [{"q": ""}, {"q": "x" * 201}, {"q": "chan", "cursor": "bad"}])
def test_a_bad_search_is_a_422_problem(client, args):
    register(client, "Chan Tai Man")
    r = client.get("/api/v1/customers", headers=auth("agent"), query_string=args)
    assert r.status_code == 422 and r.content_type == "application/problem+json"
