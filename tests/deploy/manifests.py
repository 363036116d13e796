"""Rendering and checking the Kubernetes manifests (deploy/k8s) offline.

Each overlay is rendered by kustomize (``kustomize build`` or ``kubectl kustomize``);
a resource is validated against the Kubernetes API schemas of a pinned version
(kubernetes-validate, strict: an unknown field is an error), and KEDA's and the
Prometheus Operator's kinds against schemas of the fields used (crd_schemas/).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from deploy.launcher import System

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "production")
KUBERNETES_VERSION = "1.32"  # the oldest minor release the manifests promise (docs/deployment.md)
CRD_SCHEMAS = {
    (path.name.split("_")[0] + "/" + path.name.split("_")[1], path.stem.split("_")[2]): json.loads(
        path.read_text()
    )
    for path in (Path(__file__).parent / "crd_schemas").glob("*.json")
}
# (name, service, role, port) of every process the launcher runs
PROCESSES = [
    (proc.name, proc.service, proc.role, proc.port)
    for proc in System({"RAPPORT_DEV_MODE": "1"}).procs.values()
]


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
    done = subprocess.run(
        [*command, str(K8S / "overlays" / overlay)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.dumps([doc for doc in yaml.safe_load_all(done.stdout) if doc])


def of_kind(resources: list[dict], kind: str) -> dict[str, dict]:
    return {r["metadata"]["name"]: r for r in resources if r["kind"] == kind}


def schema_problems(resource: dict) -> list[str]:
    """Every way ``resource`` breaks its schema, as lines naming it."""
    name = f"{resource.get('kind')}/{resource.get('metadata', {}).get('name')}"
    crd = CRD_SCHEMAS.get((resource.get("apiVersion"), resource.get("kind", "").lower()))
    if crd is not None:
        validator = jsonschema.Draft202012Validator(crd)
        return [
            f"{name}: {'.'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(resource)
        ]
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
    return [
        r
        for r in resources
        if r["kind"] in ("Deployment", "Job")
        and r["metadata"]["labels"].get("app.kubernetes.io/part-of") == "rapport"
    ]
