"""A bounded, derandomised schemathesis run over every operation of one service's
OpenAPI document, in process against the real Flask app (WSGI) on a migrated SQLite
database: each answer must be no 5xx and must say what the document says (a status
it documents, its content type, a body its schema accepts).

Each operation gets ``EXAMPLES`` generated requests; where the service has seeded
resources, half of an operation's examples use a real id in the path, so the
answers of found resources are checked too, not only the 404s.
"""
from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings, strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance,
                                               response_schema_conformance,
                                               status_code_conformance)

EXAMPLES = 25
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
DOCUMENT = "/api/docs/openapi.json"
# No shrinking: a failure is reported as first found, so the time stays bounded.
PHASES = (Phase.explicit, Phase.generate)


def fuzz(app, headers_for, ids: dict | None = None, examples: int = EXAMPLES) -> list[str]:
    """Every failure found, one line each (empty when the service keeps its document).

    ``headers_for(path)`` gives the request's headers (a bearer token of the role that
    may call it); ``ids`` maps a path parameter's name to real values."""
    schema = schemathesis.openapi.from_wsgi(DOCUMENT, app)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        failures += _run(operation, headers_for(operation.path), ids or {}, examples)
    return failures


def check_examples(app, headers: dict, path_prefix: str, query: dict) -> list[str]:
    """The answers to one chosen query (the parameters each operation takes) on every
    operation under ``path_prefix``, checked as the run checks them."""
    schema = schemathesis.openapi.from_wsgi(DOCUMENT, app)
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if not operation.path.startswith(path_prefix):
            continue
        known = {parameter.name for parameter in operation.query}
        case = operation.Case(query={k: v for k, v in query.items() if k in known})
        response = case.call(headers=headers)
        if response.status_code != 200:
            failures.append(f"{operation.path}: {response.status_code} {response.text[:300]}")
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (AssertionError, BaseExceptionGroup) as exc:  # schemathesis: a FailureGroup
            failures.append(f"{operation.path}: {exc}")
    return failures


def _strategy(operation, ids: dict):
    generated = operation.as_strategy()
    names = [p.name for p in operation.path_parameters]
    if not names or not all(name in ids for name in names):
        return generated
    real = st.fixed_dictionaries({name: st.sampled_from(ids[name]) for name in names})
    return st.one_of(generated, real.flatmap(
        lambda params: operation.as_strategy(path_parameters=params)))


def _run(operation, headers: dict, ids: dict, examples: int) -> list[str]:
    found: dict[str, str] = {}

    @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck), phases=PHASES)
    @given(case=_strategy(operation, ids))
    def check(case):
        response = case.call(headers=headers)

        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (AssertionError, BaseExceptionGroup) as exc:  # schemathesis: a FailureGroup
            first = str(exc).strip().splitlines()
            key = f"{operation.method.upper()} {operation.path} -> {response.status_code}"
            found.setdefault(key, f"{key}: {' | '.join(first[:30])}")

    check()
    return list(found.values())
