"""What each overlay adds: dev its own broker and database, production replicas,
limits, a PodMonitor and KEDA autoscaling of every consumer on its own queue."""

from __future__ import annotations

import pytest

from deploy.run import SERVICES
from shared.messaging.topology import Names
from tests.deploy.manifests import PROCESSES, ROOT, container, env_of, of_kind, render


@pytest.fixture(scope="module")
def production() -> list[dict]:
    return render("production")


@pytest.fixture(scope="module")
def dev() -> list[dict]:
    return render("dev")


def test_dev_runs_one_of_each_with_its_own_broker_and_database(dev):
    for deployment in of_kind(dev, "Deployment").values():
        assert deployment["spec"].get("replicas", 1) == 1
    assert {"postgres", "rabbitmq"} <= set(of_kind(dev, "StatefulSet"))
    maps = {name.rsplit("-", 1)[0]: m for name, m in of_kind(dev, "ConfigMap").items()}
    # The dev overlay's copies of the compose files (kustomize reads no file outside it).
    assert (
        maps["postgres-init"]["data"]["postgres-init.sql"]
        == (ROOT / "deploy" / "postgres-init.sql").read_text()
    )
    assert (
        maps["rabbitmq-plugins"]["data"]["enabled_plugins"]
        == (ROOT / "deploy" / "rabbitmq" / "enabled_plugins").read_text()
    )
    assert maps["rapport-config"]["data"]["RAPPORT_DEV_MODE"] == "1"


def test_production_replicates_limits_and_monitors(production):
    deployments = of_kind(production, "Deployment")
    for name, _service, role, _port in PROCESSES:
        deployment = deployments[name]
        if role == "consumer":  # the autoscaler owns its count
            assert "replicas" not in deployment["spec"], name
        else:
            assert deployment["spec"]["replicas"] >= 2, name
        assert {"cpu", "memory"} <= set(container(deployment)["resources"]["limits"]), name
        # a release named, not whatever is latest
        assert ":" in container(deployment)["image"].rsplit("/", 1)[-1], name
    for job in of_kind(production, "Job").values():
        assert {"cpu", "memory"} <= set(container(job)["resources"]["limits"])
    monitor = of_kind(production, "PodMonitor")["rapport"]
    endpoint = monitor["spec"]["podMetricsEndpoints"][0]
    assert (endpoint["port"], endpoint["path"]) == ("http", "/metrics")
    for name, *_ in PROCESSES:
        labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
        assert monitor["spec"]["selector"]["matchLabels"].items() <= labels.items()
        assert (
            labels["app.kubernetes.io/component"]
            in monitor["spec"]["selector"]["matchExpressions"][0]["values"]
        )


def test_production_scales_each_consumer_on_its_own_queue(production):
    config = next(
        m for n, m in of_kind(production, "ConfigMap").items() if n.startswith("rapport-config")
    )
    names = Names(config["data"]["RAPPORT_NAMESPACE"])
    scaled = {
        s["spec"]["scaleTargetRef"]["name"]: s for s in of_kind(production, "ScaledObject").values()
    }
    auths = of_kind(production, "TriggerAuthentication")
    consumer_env = env_of(container(of_kind(production, "Deployment")["customer-consumer"]))
    amqp = consumer_env["RAPPORT_AMQP_URL"]["valueFrom"]["secretKeyRef"]
    assert set(scaled) == {name for name, _s, role, _p in PROCESSES if role == "consumer"}
    for service in SERVICES:
        spec = scaled[f"{service}-consumer"]["spec"]
        assert spec["scaleTargetRef"]["kind"] == "Deployment"
        assert 2 <= spec["minReplicaCount"] <= spec["maxReplicaCount"]
        [trigger] = spec["triggers"]
        assert trigger["type"] == "rabbitmq"
        assert trigger["metadata"]["queueName"] == names.queue(service)
        assert trigger["metadata"]["mode"] == "QueueLength"
        assert int(trigger["metadata"]["value"]) > 0
        auth = auths[trigger["authenticationRef"]["name"]]
        [host] = [r for r in auth["spec"]["secretTargetRef"] if r["parameter"] == "host"]
        assert (host["name"], host["key"]) == (amqp["name"], amqp["key"])
