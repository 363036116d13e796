"""The Kubernetes manifests (deploy/k8s), checked offline: no cluster is needed.

Each overlay is rendered by kustomize (``kustomize build`` or ``kubectl kustomize``)
and every resource is validated against the Kubernetes API schemas of a pinned
version (kubernetes-validate, strict: an unknown field is an error); KEDA's and the
Prometheus Operator's kinds against schemas of the fields used (crd_schemas/). The
rest holds the manifests to the system they deploy: a Deployment for every process
of every service the launcher runs, probes where those processes answer, requests,
a disruption budget, no root, a migration Job, autoscaling on the right queues.
"""
from __future__ import annotations

import functools
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml
from alembic.config import Config
from alembic.script import ScriptDirectory

from deploy.k8s import generate
from deploy.launcher import System
from deploy.run import SERVICES
from shared.messaging.topology import Names

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "production")
KUBERNETES_VERSION = "1.32"  # the oldest minor release the manifests promise (docs/deployment.md)
CRD_SCHEMAS = {
    (path.name.split("_")[0] + "/" + path.name.split("_")[1], path.stem.split("_")[2]):
        json.loads(path.read_text())
    for path in (Path(__file__).parent / "crd_schemas").glob("*.json")
}
PROCESSES = [(proc.name, proc.service, proc.role, proc.port)
             for proc in System({"RAPPORT_DEV_MODE": "1"}).procs.values()]


def kustomize() -> list[str] | None:
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    return None


def render(overlay: str) -> list[dict]:
    command = kustomize()
    if command is None:
        if os.environ.get("CI"):
            pytest.fail("CI must render the manifests: install kustomize or kubectl")
        pytest.skip("neither kustomize nor kubectl is installed")
    return json.loads(_rendered(tuple(command), overlay))  # a copy of its own for each test


@functools.cache
def _rendered(command: tuple[str, ...], overlay: str) -> str:
    done = subprocess.run([*command, str(K8S / "overlays" / overlay)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.dumps([doc for doc in yaml.safe_load_all(done.stdout) if doc])


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request) -> tuple[str, list[dict]]:
    return request.param, render(request.param)


@pytest.fixture(scope="module")
def production() -> list[dict]:
    return render("production")


@pytest.fixture(scope="module")
def dev() -> list[dict]:
    return render("dev")


def of_kind(resources: list[dict], kind: str) -> dict[str, dict]:
    return {r["metadata"]["name"]: r for r in resources if r["kind"] == kind}


def schema_problems(resource: dict) -> list[str]:
    """Every way ``resource`` breaks its schema, as lines naming it."""
    name = f"{resource.get('kind')}/{resource.get('metadata', {}).get('name')}"
    crd = CRD_SCHEMAS.get((resource.get("apiVersion"), resource.get("kind", "").lower()))
    if crd is not None:
        validator = jsonschema.Draft202012Validator(crd)
        return [f"{name}: {'.'.join(map(str, e.absolute_path))}: {e.message}"
                for e in validator.iter_errors(resource)]
    try:
        kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return [f"{name}: {'.'.join(map(str, exc.absolute_path))}: {exc.message}"]
    except kubernetes_validate.SchemaNotFoundError as exc:
        return [f"{name}: {exc.message}"]
    return []


def container(workload: dict) -> dict:
    containers = workload["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, workload["metadata"]["name"]
    return containers[0]


def env_of(c: dict) -> dict[str, dict]:
    return {e["name"]: e for e in c.get("env", [])}


def rapport_workloads(resources: list[dict]) -> list[dict]:
    return [r for r in resources if r["kind"] in ("Deployment", "Job")
            and r["metadata"]["labels"].get("app.kubernetes.io/part-of") == "rapport"]


# The base is the generator's output.

def test_the_committed_base_is_what_the_generator_writes():
    stale = [str(path.relative_to(ROOT)) for path, text in generate.files().items()
             if not path.exists() or path.read_text() != text]
    assert not stale, f"run `python -m deploy.k8s.generate`: {stale}"


# Every resource is valid.

def test_every_resource_of_every_overlay_is_valid(overlay):
    _, resources = overlay
    problems = [line for resource in resources for line in schema_problems(resource)]
    assert not problems, "\n".join(problems)


def test_the_validation_refuses_what_a_cluster_would():
    """The checks above can fail: a misspelt field, a wrong type and a CRD's missing
    required field are each reported."""
    deployment = generate.deployment("customer", "api")
    misspelt = json.loads(json.dumps(deployment))
    misspelt["spec"]["template"]["spec"]["containers"][0]["readinessProbes"] = {}
    wrong_type = json.loads(json.dumps(deployment))
    wrong_type["spec"]["replicas"] = "two"
    scaled = {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
              "metadata": {"name": "x"}, "spec": {"scaleTargetRef": {"name": "x"}}}
    assert schema_problems(deployment) == []
    assert schema_problems(misspelt)
    assert schema_problems(wrong_type)
    assert any("triggers" in line for line in schema_problems(scaled))


# The manifests deploy the system the launcher runs.

def test_every_process_of_every_service_has_a_deployment(overlay):
    _, resources = overlay
    deployments = {name: d for name, d in of_kind(resources, "Deployment").items()
                   if d["metadata"]["labels"].get("app.kubernetes.io/part-of") == "rapport"}
    assert set(deployments) == {name for name, *_ in PROCESSES}
    for name, service, role, port in PROCESSES:
        c = container(deployments[name])
        assert c["command"] == ["python", "-m", "deploy.run", role], name
        assert env_of(c)["RAPPORT_SERVICE"]["value"] == service, name
        assert re.search(rf"rapport[-/]{service}(:|$)", c["image"]), (name, c["image"])
        assert [p["containerPort"] for p in c["ports"]] == [port], name
        assert env_of(c)[f"{service.upper()}_DATABASE_URL"]["valueFrom"]["secretKeyRef"]


def test_every_service_migrates_in_a_job_of_its_own(overlay):
    _, resources = overlay
    jobs = of_kind(resources, "Job")
    for service in SERVICES:
        job = jobs[f"{service}-migrate"]
        c = container(job)
        assert c["command"] == ["python", "-m", "deploy.run", "migrate"]
        assert env_of(c)["RAPPORT_SERVICE"]["value"] == service
        assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
        assert job["spec"]["ttlSecondsAfterFinished"] > 0


def test_probes_answer_where_each_process_serves_them(overlay):
    _, resources = overlay
    deployments = of_kind(resources, "Deployment")
    for name, _service, _role, port in PROCESSES:
        c = container(deployments[name])
        named = {p["name"]: p["containerPort"] for p in c["ports"]}
        for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz"),
                            ("startupProbe", "/healthz")):
            get = c[probe]["httpGet"]
            assert get["path"] == path, (name, probe)
            assert named.get(get["port"], get["port"]) == port, (name, probe)


def test_every_pod_asks_for_resources_and_runs_as_no_root(overlay):
    _, resources = overlay
    for workload in rapport_workloads(resources):
        name = workload["metadata"]["name"]
        pod = workload["spec"]["template"]["spec"]
        c = container(workload)
        assert {"cpu", "memory"} <= set(c["resources"]["requests"]), name
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] > 0, name
        assert c["securityContext"]["allowPrivilegeEscalation"] is False, name
        assert c["securityContext"]["readOnlyRootFilesystem"] is True, name
        # A Service named customer would put CUSTOMER_PORT=tcp://… in the environment.
        assert pod["enableServiceLinks"] is False, name
        mounts = {m["mountPath"] for m in c["volumeMounts"]}
        assert {"/tmp", env_of(c)["RAPPORT_DATA_DIR"]["value"]} <= mounts, name


def test_every_deployment_has_a_disruption_budget(overlay):
    _, resources = overlay
    budgets = of_kind(resources, "PodDisruptionBudget")
    for name, deployment in of_kind(resources, "Deployment").items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        covering = [b for b in budgets.values()
                    if b["spec"]["selector"]["matchLabels"].items() <= labels.items()]
        assert len(covering) == 1, name
        assert covering[0]["spec"].get("maxUnavailable") == 1, name


def test_every_api_has_a_service_on_its_port(overlay):
    _, resources = overlay
    services = of_kind(resources, "Service")
    for name, service, role, port in PROCESSES:
        if role != "api":
            continue
        svc = services[service]
        pod_labels = of_kind(resources, "Deployment")[name]["spec"]["template"]["metadata"]["labels"]
        assert svc["spec"]["selector"].items() <= pod_labels.items()
        assert [p["port"] for p in svc["spec"]["ports"]] == [port]


def test_references_resolve_and_production_commits_no_secret(overlay):
    """Dev carries its own development credentials; production refers to Secrets the
    operator creates, each named with its keys in docs/deployment.md."""
    name, resources = overlay
    secrets = {n for n in of_kind(resources, "Secret")}
    config_maps = set(of_kind(resources, "ConfigMap"))
    wanted: dict[str, set[str]] = {}
    for workload in [r for r in resources if r["kind"] in ("Deployment", "Job", "StatefulSet")]:
        for c in workload["spec"]["template"]["spec"]["containers"]:
            for e in c.get("env", []):
                ref = e.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    wanted.setdefault(ref["name"], set()).add(ref["key"])
            for source in c.get("envFrom", []):
                assert source["configMapRef"]["name"] in config_maps
    if name == "dev":
        assert set(wanted) <= secrets
        for secret in of_kind(resources, "Secret").values():
            assert set(wanted.get(secret["metadata"]["name"], ())) <= set(secret["data"])
        return
    assert not secrets, "production must not carry a Secret"
    assert set(wanted) == {"rapport"} | {f"rapport-{s}-database" for s in SERVICES}
    doc = (ROOT / "docs" / "deployment.md").read_text()
    for secret, keys in wanted.items():
        named = re.sub(r"^rapport-(%s)-database$" % "|".join(SERVICES), "rapport-$service-database",
                       secret)
        assert re.search(rf"create secret generic {re.escape(named)}( |$)", doc, re.M), secret
        for key in keys:
            assert f"--from-literal={key}=" in doc, (secret, key)


# The overlays.

def test_dev_runs_one_of_each_with_its_own_broker_and_database(dev):
    for deployment in of_kind(dev, "Deployment").values():
        assert deployment["spec"].get("replicas", 1) == 1
    assert {"postgres", "rabbitmq"} <= set(of_kind(dev, "StatefulSet"))
    maps = {name.rsplit("-", 1)[0]: m for name, m in of_kind(dev, "ConfigMap").items()}
    # The dev overlay's copies of the compose files (kustomize reads no file outside it).
    assert maps["postgres-init"]["data"]["postgres-init.sql"] == \
        (ROOT / "deploy" / "postgres-init.sql").read_text()
    assert maps["rabbitmq-plugins"]["data"]["enabled_plugins"] == \
        (ROOT / "deploy" / "rabbitmq" / "enabled_plugins").read_text()
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
        assert ":" in container(deployment)["image"].rsplit("/", 1)[-1], name  # a release, not latest
    for job in of_kind(production, "Job").values():
        assert {"cpu", "memory"} <= set(container(job)["resources"]["limits"])
    monitor = of_kind(production, "PodMonitor")["rapport"]
    endpoint = monitor["spec"]["podMetricsEndpoints"][0]
    assert (endpoint["port"], endpoint["path"]) == ("http", "/metrics")
    for name, *_ in PROCESSES:
        labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
        assert monitor["spec"]["selector"]["matchLabels"].items() <= labels.items()
        assert labels["app.kubernetes.io/component"] in \
            monitor["spec"]["selector"]["matchExpressions"][0]["values"]


def test_production_scales_each_consumer_on_its_own_queue(production):
    config = next(m for n, m in of_kind(production, "ConfigMap").items()
                  if n.startswith("rapport-config"))
    names = Names(config["data"]["RAPPORT_NAMESPACE"])
    scaled = {s["spec"]["scaleTargetRef"]["name"]: s for s in of_kind(production, "ScaledObject").values()}
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
        assert trigger["metadata"]["mode"] == "QueueLength" and int(trigger["metadata"]["value"]) > 0
        auth = auths[trigger["authenticationRef"]["name"]]
        [host] = [r for r in auth["spec"]["secretTargetRef"] if r["parameter"] == "host"]
        assert (host["name"], host["key"]) == (amqp["name"], amqp["key"])


# The migration command the Jobs run.

@pytest.mark.parametrize("service", SERVICES)
def test_deploy_run_migrate_brings_the_database_to_head_and_exits(service, tmp_path):
    database = tmp_path / f"{service}.db"
    env = {**os.environ, "RAPPORT_SERVICE": service, "RAPPORT_DEV_MODE": "1",
           f"{service.upper()}_DATABASE_URL": f"sqlite:///{database}"}
    done = subprocess.run([sys.executable, "-m", "deploy.run", "migrate"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    config = Config()
    config.set_main_option("script_location", str(ROOT / "services" / service / "migrations"))
    head = ScriptDirectory.from_config(config).get_current_head()
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [(head,)]


def test_deploy_run_refuses_an_unknown_command():
    done = subprocess.run([sys.executable, "-m", "deploy.run", "migrated"], cwd=ROOT,
                          env={**os.environ, "RAPPORT_SERVICE": "sales"},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "api|consumer|relay|migrate" in done.stderr
