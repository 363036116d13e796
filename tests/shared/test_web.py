"""The web pieces every service's API shares: the blueprint's argument schemas and
the JSON provider."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime
from decimal import Decimal

import marshmallow as ma
from flask import Flask, jsonify
from flask.views import MethodView
from flask_smorest import Api

from shared.web.blueprint import Blueprint
from shared.web.json import JSONProvider


class CountingArgs(ma.Schema):
    made = 0
    name = ma.fields.String(required=True)

    def __init__(self, *args, **kwargs):
        type(self).made += 1
        super().__init__(*args, **kwargs)


def _api_app(
    schema=CountingArgs, answer=lambda args: {"hello": args["name"]}, rule: str = ""
) -> Flask:
    """An app of one route, ``GET /things`` + ``rule``, whose query ``schema`` loads
    what ``answer`` (given the path's values too) turns into the response."""
    app = Flask("t")
    app.config.update(API_TITLE="t", API_VERSION="v1", OPENAPI_VERSION="3.0.3")
    api = Api(app)
    blp = Blueprint("things", __name__, url_prefix="/things")

    @blp.route(rule)
    class Things(MethodView):
        @blp.arguments(schema, location="query")
        @blp.response(200)
        def get(self, args, **path):
            return answer(args, **path)

    api.register_blueprint(blp)
    return app


def test_an_argument_schema_named_by_class_is_made_once_not_per_request():
    app = _api_app()
    made = CountingArgs.made
    client = app.test_client()
    for name in ("a", "b", "c"):
        assert client.get(f"/things?name={name}").get_json() == {"hello": name}
    assert client.get("/things").status_code == 422  # still validated on every request
    assert CountingArgs.made == made


def test_the_openapi_document_names_the_schema_as_before():
    spec = _api_app().extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    parameters = spec["paths"]["/things"]["get"]["parameters"]
    assert [p["name"] for p in parameters] == ["name"]
    assert parameters[0]["required"] is True


def test_json_responses_sort_keys_and_write_values_as_the_schemas_do():
    app = Flask("t")
    app.json = JSONProvider(app)
    when = datetime(2026, 11, 30, 8, 5, tzinfo=UTC)
    with app.app_context():
        response = jsonify(
            {"b": Decimal("1.50"), "a": when, "c": date(2026, 1, 2), "d": math.nan, 3: "int key"}
        )
        text = response.get_data(as_text=True)
        assert response.mimetype == "application/json"
        assert list(json.loads(text)) == ["3", "a", "b", "c", "d"]
        assert json.loads(text) == {
            "3": "int key",
            "a": "2026-11-30T08:05:00+00:00",
            "b": "1.50",
            "c": "2026-01-02",
            "d": None,
        }
        assert app.json.dumps({"x": 1}, indent=2) == '{\n  "x": 1\n}'


class WindowArgs(ma.Schema):
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(1, 100))
    as_of = ma.fields.DateTime(load_default=None)


class StampedArgs(ma.Schema):
    at = ma.fields.DateTime(load_default=lambda: datetime.now(UTC))


def _query_app(schema) -> Flask:
    def answer(args):
        args["seen"] = True  # a view changing its arguments changes no later request's
        return {k: str(v) for k, v in args.items()}

    return _api_app(schema, answer)


def test_an_empty_query_loads_to_the_defaults_and_any_other_is_loaded_and_checked():
    client = _query_app(WindowArgs).test_client()
    for _ in range(2):
        assert client.get("/things").get_json() == {"limit": "50", "as_of": "None", "seen": "True"}
    assert client.get("/things?limit=7").get_json()["limit"] == "7"
    assert client.get("/things?limit=0").status_code == 422
    assert client.get("/things?as_of=yesterday").status_code == 422
    assert client.get("/things?other=1").get_json()["limit"] == "50"  # unknown keys ignored


def test_a_default_made_by_a_call_is_made_on_every_request():
    client = _query_app(StampedArgs).test_client()
    first, second = (client.get("/things").get_json()["at"] for _ in range(2))
    assert first != second


def test_an_empty_query_never_reaches_the_parser_and_path_values_still_do(monkeypatch):
    app = _api_app(
        WindowArgs,
        lambda args, thing_id: {"thing": thing_id, **{k: str(v) for k, v in args.items()}},
        "/<string:thing_id>",
    )
    parser, parsed = Blueprint.ARGUMENTS_PARSER, []
    parse = parser.parse
    monkeypatch.setattr(parser, "parse", lambda *a, **k: parsed.append(1) or parse(*a, **k))
    client = app.test_client()
    assert client.get("/things/t1").get_json() == {"thing": "t1", "limit": "50", "as_of": "None"}
    assert parsed == []
    assert client.get("/things/t2?limit=3").get_json() == {
        "thing": "t2",
        "limit": "3",
        "as_of": "None",
    }
    assert client.get("/things/t2?limit=-3").status_code == 422
    assert parsed == [1, 1]
    spec = app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    parameters = spec["paths"]["/things/{thing_id}"]["get"]["parameters"]
    assert {p["name"] for p in parameters} >= {"limit", "as_of"}


def test_jsonify_takes_what_flask_s_own_provider_takes():
    app = Flask("t")
    app.json = JSONProvider(app)
    with app.app_context():
        assert jsonify().get_data() == b"null"
        assert json.loads(jsonify(7).get_data()) == 7
        assert json.loads(jsonify(1, "b").get_data()) == [1, "b"]
        assert json.loads(jsonify(b=2, a=1).get_data()) == {"a": 1, "b": 2}
        assert jsonify(a=1).mimetype == "application/json"
        try:
            jsonify(1, a=1)
        except TypeError:
            pass
        else:
            raise AssertionError("args and kwargs together are refused, as by Flask")


def test_the_service_app_asks_once_per_function_whether_it_is_a_coroutine(monkeypatch):
    import inspect

    from shared.web.app import ServiceApp

    app = ServiceApp("t")
    asked = []
    real = inspect.iscoroutinefunction
    monkeypatch.setattr(inspect, "iscoroutinefunction", lambda f: asked.append(f) or real(f))

    def plain():
        return "plain"

    class View:
        def get(self):
            return "got"

    for _ in range(3):
        assert app.ensure_sync(plain) is plain
        method = View().get  # a new instance each time, as a MethodView's may be
        assert app.ensure_sync(method) is method
    assert len(asked) == 2  # once for the function, once for the method's function
    assert len(app._plain_functions) == 2  # bound methods are kept by their function

    async def coroutine():
        return "awaited"

    # A coroutine function still goes to Flask's own answer, every time (here that
    # is its refusal without the async extra installed, or a wrapper with it).
    for _ in range(2):
        try:
            wrapped = app.ensure_sync(coroutine)
        except RuntimeError as exc:
            assert "async" in str(exc)
        else:
            assert wrapped is not coroutine and wrapped() == "awaited"
