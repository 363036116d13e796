"""Each service's OpenAPI document is valid OpenAPI 3.0 and tells the truth: a bounded
schemathesis run against the real app (in process, WSGI, a migrated SQLite database,
seeded with a few real resources, real tokens of every role) finds no 5xx and no
answer that contradicts the document."""

import importlib

import pytest
from openapi_spec_validator import validate

from tests.conftest import auth, make_token
from tests.contract import seeds
from tests.contract.fuzz import DOCUMENT, check_examples, fuzz

SERVICES = ("customer", "calls", "sales", "reporting")


def _app(service, service_app, url):
    config = importlib.import_module(f"services.{service}.config")
    create_app = importlib.import_module(f"services.{service}.app").create_app
    return service_app(create_app, config.MIGRATIONS, url)


@pytest.mark.parametrize("service", SERVICES)
def test_the_document_is_valid_openapi(service, service_app, sqlite_url):
    document = _app(service, service_app, sqlite_url).test_client().get(DOCUMENT).get_json()
    validate(document)  # raises on the first thing OpenAPI 3.0.3 does not allow
    errors = document["components"]["responses"]
    assert errors and all(
        list(r["content"]) == ["application/problem+json"]
        for r in errors.values()
        if "content" in r
    )
    assert errors["DEFAULT_ERROR"]["content"]["application/problem+json"]["schema"] == {
        "$ref": "#/components/schemas/Problem"
    }
    # Any operation may find its database (or the identity provider) not answering:
    # 503 with Retry-After, documented.
    assert "Retry-After" in errors["SERVICE_UNAVAILABLE"]["headers"]
    operations = [
        operation
        for item in document["paths"].values()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]
    assert operations and all(
        operation["responses"]["503"] == {"$ref": "#/components/responses/SERVICE_UNAVAILABLE"}
        for operation in operations
    )


# POSTs that create a credential shown once: a stored answer would keep it in clear
# (the service keeps only its hash). A retry makes another: a calendar token replaces
# the first, and a partner's first client can be revoked.
CREDENTIALS = {
    "/api/v1/agents/{agent_id}/calendar-token",
    "/api/v1/partners/{partner_id}/clients",
}


@pytest.mark.parametrize("service", SERVICES)
def test_every_creating_post_documents_its_idempotency_key(service, service_app, sqlite_url):
    """Spec, section 4: every POST that creates something (answers 201 or 202) takes
    an Idempotency-Key, and its document says so, with the answers a key may give."""
    document = _app(service, service_app, sqlite_url).test_client().get(DOCUMENT).get_json()
    keyed = []
    for path, item in document["paths"].items():
        post = item.get("post")
        if post is None:
            continue
        header = [p for p in post.get("parameters", []) if p["name"] == "Idempotency-Key"]
        creates = {"201", "202"} & set(post["responses"])
        if creates and path not in CREDENTIALS:
            assert header, f"POST {path} creates something and takes no Idempotency-Key"
        if header:
            keyed.append(path)
            assert header[0]["in"] == "header" and not header[0]["required"]
            assert {"409", "410", "422"} <= set(post["responses"]), path
            for status in creates:
                assert "Idempotent-Replayed" in post["responses"][status]["headers"], path
    assert bool(keyed) == (service != "reporting")


@pytest.mark.parametrize("service", SERVICES)
def test_every_list_is_a_page_with_a_cursor(service, service_app, sqlite_url):
    """Spec, section 4: cursor pagination on every list. The one list that is not a
    page is the service's periodic jobs, a handful the code defines, not data."""
    document = _app(service, service_app, sqlite_url).test_client().get(DOCUMENT).get_json()
    for path, item in document["paths"].items():
        get = item.get("get")
        ok = (get or {}).get("responses", {}).get("200", {})
        schema = ok.get("content", {}).get("application/json", {}).get("schema", {})
        if schema.get("type") == "array":
            assert path == "/api/v1/periodic-jobs", f"GET {path} answers a list that is no page"
        ref = schema.get("$ref", "")
        if ref.endswith("Page"):
            names = {p["name"] for p in get.get("parameters", []) if p["in"] == "query"}
            assert {"limit", "cursor"} <= names, path


def test_every_report_documents_its_parameters_and_answers(service_app, sqlite_url):
    document = _app("reporting", service_app, sqlite_url).test_client().get(DOCUMENT).get_json()
    reports = {
        path: item["get"]
        for path, item in document["paths"].items()
        if path.startswith("/api/v1/reports/")
    }
    from services.reporting.api import ROUTES

    assert set(reports) == {f"/api/v1/reports/{name}" for name in ROUTES} and len(reports) == 10
    for path, operation in reports.items():
        assert "format" in {p["name"] for p in operation["parameters"]}, path
        answers = operation["responses"]["200"]["content"]
        assert set(answers) == {"application/json", "text/csv", "image/png"}, path
        schema = answers["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        assert document["components"]["schemas"][schema]["required"], path


ROLES = ("admin", "manager", "agent", "analyst")


def _callers(ids: dict):
    """Every role's real token, the one that may do most (admin) first; a partner's
    token is for the seeded partner."""
    partner = ids.get("partner_id", ["p-none"])[0]
    tokens = [(role, auth(role)) for role in ROLES] + [
        ("partner", {"Authorization": f"Bearer {make_token('partner', 'sup', partner)}"})
    ]

    def callers(path: str) -> list:
        if path.startswith("/api/v1/partner/"):  # a partner's own routes: its token first
            return [tokens[-1], *tokens[:-1]]
        return tokens

    return callers


@pytest.mark.parametrize("service", SERVICES)
def test_every_answer_keeps_to_the_document(service, service_app, sqlite_url):
    app = _app(service, service_app, sqlite_url)
    ids, bodies = getattr(seeds, service)(app, sqlite_url)
    failures = fuzz(app, _callers(ids), ids, bodies)
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("query", [{}, {"from": "2024-12-01", "to": "2025-12-31"}])
def test_reports_on_seeded_data_keep_to_the_document(query, service_app, sqlite_url):
    """Generated periods rarely fall where the seeded events lie: these do, so every
    report's answer is checked with figures, statistics and groups in it."""
    app = _app("reporting", service_app, sqlite_url)
    seeds.reporting(app, sqlite_url)
    failures = check_examples(app, auth("analyst"), "/api/v1/reports/", query)
    assert not failures, "\n\n".join(failures)
