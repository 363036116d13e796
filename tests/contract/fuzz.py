"""A bounded, derandomised schemathesis run over every operation of one service's
OpenAPI document, in process against the real Flask app (WSGI) on a migrated SQLite
database: each answer must be no 5xx and must say what the document says (a status
it documents, its content type, a body its schema accepts).

Each operation gets ``EXAMPLES`` requests; where the service has seeded resources,
about half of them use a real id in the path (or a body that can succeed), so the
answers of found and made resources are checked too, not only the 404s and 422s.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES = 60
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
DOCUMENT = "/api/docs/openapi.json"
# No shrinking: a failure is reported as first found, so the time stays bounded.
PHASES = (Phase.explicit, Phase.generate)


def fuzz(
    app, callers, ids: dict | None = None, bodies: dict | None = None, examples: int = EXAMPLES
) -> list[str]:
    """Every failure found, one line each (empty when the service keeps its document).

    ``callers(path)`` gives (role, headers) pairs, each example sent as one of them
    (real bearer tokens; the first is drawn most); ``ids`` maps a path parameter's
    name to real values; ``bodies`` maps an operation (``"POST /api/v1/customers"``)
    to bodies that can succeed, so that its success answers are checked too."""
    schema = schemathesis.openapi.from_wsgi(DOCUMENT, app)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        strategy = _strategy(
            operation, ids or {}, (bodies or {}).get(f"{operation.method.upper()} {operation.path}")
        )
        failures += _run(operation, strategy, callers(operation.path), examples)
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


def _strategy(operation, ids: dict, bodies: list | None):
    """Generated requests, and as many again on seeded ids and bodies where there are."""
    names = [p.name for p in operation.path_parameters]
    real_ids = bool(names) and all(name in ids for name in names)
    if not real_ids and not bodies:
        return operation.as_strategy()
    params = (
        st.fixed_dictionaries({name: st.sampled_from(ids[name]) for name in names})
        if real_ids
        else st.just(None)
    )
    body = st.sampled_from(bodies) if bodies else st.just(None)
    seeded = st.tuples(params, body).flatmap(
        lambda chosen: operation.as_strategy(
            **{
                name: value
                for name, value in zip(("path_parameters", "body"), chosen)
                if value is not None
            }
        )
    )
    return st.one_of(operation.as_strategy(), seeded)


def _run(operation, strategy, callers: list, examples: int) -> list[str]:
    found: dict[str, str] = {}

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=PHASES,
    )
    # Half the examples as the first caller (who may do most), half as any.
    @given(case=strategy, caller=st.one_of(st.just(callers[0]), st.sampled_from(callers)))
    def check(case, caller):
        role, headers = caller
        response = case.call(headers=headers)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (AssertionError, BaseExceptionGroup) as exc:  # schemathesis: a FailureGroup
            first = str(exc).strip().splitlines()
            key = f"{operation.method.upper()} {operation.path} as {role} -> {response.status_code}"
            found.setdefault(key, f"{key}: {' | '.join(first[:30])}")

    check()
    return list(found.values())
