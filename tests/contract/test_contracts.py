"""The contracts between services: what each consumes is bound, published and defined."""

import importlib

import pytest

from deploy.launcher import SERVICES, broker_problem
from shared.events import CONTRACTS, json_schema, routing_key
from shared.messaging.dispatcher import WILDCARD
from shared.messaging.topology import BINDINGS


def subscriptions(service):
    handlers = importlib.import_module(f"services.{service}.handlers")
    config = importlib.import_module(f"services.{service}.config")
    return handlers.subscriptions(config.load({"DEV_MODE": "1"}))


@pytest.mark.parametrize("service", SERVICES)
def test_every_subscription_is_bound_and_has_a_contract(service):
    keys = set(subscriptions(service))
    bound = set(BINDINGS[service])
    assert WILDCARD in bound or keys <= bound, f"{service} handles keys its queue is not bound to"
    defined = {routing_key(t, v) for t, v in CONTRACTS}
    assert keys - {WILDCARD} <= defined, f"{service} handles events that have no contract"
    assert bound - {WILDCARD} <= defined


def test_every_binding_is_handled():
    for service, keys in BINDINGS.items():
        assert set(keys) <= set(subscriptions(service)), f"{service} binds keys it ignores"


def test_an_unreachable_broker_is_one_clear_line():
    problem = broker_problem("amqp://guest:guest@127.0.0.1:1/%2F")
    assert problem and "\n" not in problem and "RabbitMQ is not reachable" in problem


@pytest.mark.parametrize("key", sorted(CONTRACTS), ids=lambda key: f"{key[0]}.v{key[1]}")
def test_every_contract_exports_its_json_schema(key):
    schema = json_schema(*key)
    assert schema["$defs"][CONTRACTS[key].__name__]["type"] == "object"
