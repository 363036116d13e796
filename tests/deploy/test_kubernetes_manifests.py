"""Every overlay of the Kubernetes manifests is valid, and deploys the system the
launcher runs: a Deployment for every process of every service with its command,
image and port, probes where it answers them, requests, a disruption budget, no
root, a migration Job per service, and Secrets referred to, never committed."""

from __future__ import annotations

import json
import re

import pytest

from deploy.k8s import generate
from deploy.run import SERVICES
from tests.deploy.manifests import (
    OVERLAYS,
    PROCESSES,
    ROOT,
    container,
    env_of,
    of_kind,
    rapport_workloads,
    render,
    schema_problems,
)


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request) -> tuple[str, list[dict]]:
    return request.param, render(request.param)


# The base is the generator's output.


def test_the_committed_base_is_what_the_generator_writes():
    stale = [
        str(path.relative_to(ROOT))
        for path, text in generate.files().items()
        if not path.exists() or path.read_text() != text
    ]
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
    scaled = {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": "x"},
        "spec": {"scaleTargetRef": {"name": "x"}},
    }
    assert schema_problems(deployment) == []
    assert schema_problems(misspelt)
    assert schema_problems(wrong_type)
    assert any("triggers" in line for line in schema_problems(scaled))


# The manifests deploy the system the launcher runs.


def test_every_process_of_every_service_has_a_deployment(overlay):
    _, resources = overlay
    deployments = {
        name: d
        for name, d in of_kind(resources, "Deployment").items()
        if d["metadata"]["labels"].get("app.kubernetes.io/part-of") == "rapport"
    }
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
        for probe, path in (
            ("readinessProbe", "/readyz"),
            ("livenessProbe", "/healthz"),
            ("startupProbe", "/healthz"),
        ):
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
        covering = [
            b
            for b in budgets.values()
            if b["spec"]["selector"]["matchLabels"].items() <= labels.items()
        ]
        assert len(covering) == 1, name
        assert covering[0]["spec"].get("maxUnavailable") == 1, name


def test_every_api_has_a_service_on_its_port(overlay):
    _, resources = overlay
    services = of_kind(resources, "Service")
    for name, service, role, port in PROCESSES:
        if role != "api":
            continue
        svc = services[service]
        pod = of_kind(resources, "Deployment")[name]["spec"]["template"]
        pod_labels = pod["metadata"]["labels"]
        assert svc["spec"]["selector"].items() <= pod_labels.items()
        assert [p["port"] for p in svc["spec"]["ports"]] == [port]


def test_references_resolve_and_production_commits_no_secret(overlay):
    """Dev carries its own development credentials; production refers to Secrets the
    operator creates, each named with its keys in docs/deployment.md."""
    name, resources = overlay
    secrets = set(of_kind(resources, "Secret"))
    config_maps = set(of_kind(resources, "ConfigMap"))
    wanted: dict[str, set[str]] = {}
    for workload in [r for r in resources if r["kind"] in ("Deployment", "Job", "StatefulSet")]:
        for c in workload["spec"]["template"]["spec"]["containers"]:
            for e in c.get("env", []):
                ref = e.get("valueFrom", {}).get("secretKeyRef")
                if ref and not (name == "dev" and ref.get("optional")):  # dev runs without
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
        named = re.sub(
            rf"^rapport-({'|'.join(SERVICES)})-database$", "rapport-$service-database", secret
        )
        assert re.search(rf"create secret generic {re.escape(named)}( |$)", doc, re.M), secret
        for key in keys:
            assert f"--from-literal={key}=" in doc, (secret, key)
