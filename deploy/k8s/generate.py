"""Write the Kubernetes base (``deploy/k8s/base``) from the system's own process list.

``python -m deploy.k8s.generate`` rewrites every file of the base: per service a
Deployment for each process type the launcher runs (api, consumer, relay), a Service
in front of the API, a PodDisruptionBudget per Deployment and the migration Job.
Names, commands and ports come from ``deploy.run`` and ``shared.config``, the same
place the launcher takes them from, so a new service or process type cannot be
forgotten here; ``tests/deploy`` fails when the committed base is not what this
writes. The overlays (``deploy/k8s/overlays``) are written by hand.

``--check`` writes nothing and exits 1 if a committed file differs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from deploy.run import ROLES, SERVICES
from shared.config import Settings

BASE = Path(__file__).parent / "base"
HEADER = (
    "# Written by `python -m deploy.k8s.generate` from deploy/run.py and shared/config.py:\n"
    "# change the generator, not this file.\n"
)
USER = 10001  # the images' own user (services/*/Dockerfile)
DATA_DIR = "/var/lib/rapport"  # imports' uploads, scratch only (kept in the database too)
PART_OF = "rapport"

# What a process asks of a node; limits are the overlays' business (production).
REQUESTS = {
    "api": {"cpu": "250m", "memory": "256Mi"},
    "consumer": {"cpu": "100m", "memory": "192Mi"},
    "relay": {"cpu": "100m", "memory": "192Mi"},
    "migrate": {"cpu": "100m", "memory": "128Mi"},
}
# Seconds between SIGTERM and SIGKILL: gunicorn's graceful timeout is 10 s (an API
# worker hands back its import jobs within 8); a consumer or relay finishes its window,
# hands back the import jobs it runs (up to 10 s) and joins its threads (up to 30 s).
GRACE = {"api": 30, "consumer": 45, "relay": 45}


def labels(service: str, component: str) -> dict:
    return {
        "app.kubernetes.io/name": service,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": PART_OF,
    }


def port(service: str, role: str) -> int:
    settings = Settings.from_env(service, {"RAPPORT_DEV_MODE": "1"})
    return settings.port if role == "api" else settings.process_port(role)


def env(service: str, role: str) -> list[dict]:
    prefix = service.upper()
    values = [
        {"name": "RAPPORT_SERVICE", "value": service},
        {"name": "RAPPORT_HOST", "value": "0.0.0.0"},
        {"name": "RAPPORT_DATA_DIR", "value": DATA_DIR},
        {"name": f"{prefix}_PORT", "value": str(port(service, "api"))},
    ]
    if role in ("consumer", "relay"):
        values.append({"name": f"{prefix}_{role.upper()}_PORT", "value": str(port(service, role))})
    if role == "api":
        values.append({"name": "PROMETHEUS_MULTIPROC_DIR", "value": "/tmp/prometheus"})
    secrets = [
        ("RAPPORT_AUTH_SECRET", "rapport", "auth-secret"),
        ("RAPPORT_AMQP_URL", "rapport", "amqp-url"),
        (f"{prefix}_DATABASE_URL", f"rapport-{service}-database", "url"),
    ]
    values += [
        {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}
        for name, secret, key in secrets
    ]
    # Redis holds the rate-limit counts and revoked partner clients every replica
    # shares (docs/security.md); without the key, no limits apply.
    values.append(
        {
            "name": "RAPPORT_REDIS_URL",
            "valueFrom": {
                "secretKeyRef": {"name": "rapport", "key": "redis-url", "optional": True}
            },
        }
    )
    return values


def pod_spec(service: str, role: str) -> dict:
    container = {
        "name": role,
        "image": f"rapport-{service}",
        "command": ["python", "-m", "deploy.run", role],
        "envFrom": [{"configMapRef": {"name": "rapport-config"}}],
        "env": env(service, role),
        "resources": {"requests": dict(REQUESTS[role])},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [
            {"name": "tmp", "mountPath": "/tmp"},
            {"name": "data", "mountPath": DATA_DIR},
        ],
    }
    if role != "migrate":
        http = port(service, role)
        container["ports"] = [{"name": "http", "containerPort": http, "protocol": "TCP"}]
        probe = lambda path, period, failures: {  # noqa: E731
            "httpGet": {"path": path, "port": "http"},
            "periodSeconds": period,
            "timeoutSeconds": 5,
            "failureThreshold": failures,
        }
        # Start-up includes the migrations, which may wait on another process's lock.
        container["startupProbe"] = probe("/healthz", 5, 120)
        container["readinessProbe"] = probe("/readyz", 10, 3)
        container["livenessProbe"] = probe("/healthz", 20, 3)
    spec = {
        # Service links would put CUSTOMER_PORT=tcp://… (the Service named customer)
        # into every pod's environment, where it is read as the customer API's port.
        "enableServiceLinks": False,
        "automountServiceAccountToken": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": USER,
            "runAsGroup": USER,
            "fsGroup": USER,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container],
        "volumes": [
            {"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}},
            {"name": "data", "emptyDir": {"sizeLimit": "2Gi"}},
        ],
    }
    if role == "migrate":
        spec["restartPolicy"] = "Never"
    else:
        spec["terminationGracePeriodSeconds"] = GRACE[role]
        spec["topologySpreadConstraints"] = [
            {
                "maxSkew": 1,
                "topologyKey": "kubernetes.io/hostname",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": labels(service, role)},
            }
        ]
    return spec


def deployment(service: str, role: str) -> dict:
    http = port(service, role)
    spec = {
        "selector": {"matchLabels": labels(service, role)},
        "strategy": {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
        },
        "template": {
            "metadata": {
                "labels": labels(service, role),
                # For a Prometheus that discovers pods by annotation; the production
                # overlay's PodMonitor does the same for the Prometheus Operator.
                "annotations": {
                    "prometheus.io/scrape": "true",
                    "prometheus.io/port": str(http),
                    "prometheus.io/path": "/metrics",
                },
            },
            "spec": pod_spec(service, role),
        },
    }
    if role != "consumer":  # a consumer's count is the autoscaler's (production overlay)
        spec = {"replicas": 1, **spec}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": f"{service}-{role}", "labels": labels(service, role)},
        "spec": spec,
    }


def api_service(service: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": service, "labels": labels(service, "api")},
        "spec": {
            "type": "ClusterIP",
            "selector": labels(service, "api"),
            "ports": [
                {
                    "name": "http",
                    "port": port(service, "api"),
                    "targetPort": "http",
                    "protocol": "TCP",
                }
            ],
        },
    }


def disruption_budget(service: str, role: str) -> dict:
    # maxUnavailable rather than minAvailable: a single replica (the dev overlay) must
    # not block a node's drain forever; with two or more, one always stays up.
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": f"{service}-{role}", "labels": labels(service, role)},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": labels(service, role)}},
    }


def migration_job(service: str) -> dict:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": f"{service}-migrate", "labels": labels(service, "migrate")},
        "spec": {
            "backoffLimit": 4,
            "activeDeadlineSeconds": 1800,
            # A finished Job is removed, so the next `kubectl apply` of a new image
            # creates it again instead of failing on its immutable template.
            "ttlSecondsAfterFinished": 600,
            "template": {
                "metadata": {"labels": labels(service, "migrate")},
                "spec": pod_spec(service, "migrate"),
            },
        },
    }


def service_resources(service: str) -> list[dict]:
    resources = []
    for role in ROLES:
        resources.append(deployment(service, role))
        if role == "api":
            resources.append(api_service(service))
        resources.append(disruption_budget(service, role))
    resources.append(migration_job(service))
    return resources


def kustomization() -> dict:
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [f"{service}.yaml" for service in SERVICES],
        # Settings every process reads (shared/config.py); a change rolls every pod.
        "configMapGenerator": [
            {
                "name": "rapport-config",
                "literals": [
                    "RAPPORT_NAMESPACE=rapport",
                    "RAPPORT_LOG_LEVEL=INFO",
                    "RAPPORT_WEB_WORKERS=2",
                    "RAPPORT_WEB_THREADS=1",
                    # Longer than an ingress's idle upstream connections (deploy/gunicorn_conf.py).
                    "RAPPORT_WEB_KEEPALIVE=75",
                ],
            }
        ],
    }


def files() -> dict[Path, str]:
    def dump(docs) -> str:
        return HEADER + yaml.safe_dump_all(
            docs, sort_keys=False, default_flow_style=False, width=100
        )

    out = {BASE / f"{service}.yaml": dump(service_resources(service)) for service in SERVICES}
    out[BASE / "kustomization.yaml"] = dump([kustomization()])
    return out


def main(argv: list[str]) -> int:
    stale = [
        path for path, text in files().items() if not path.exists() or path.read_text() != text
    ]
    if argv == ["--check"]:
        for path in stale:
            print(f"{path} is not what `python -m deploy.k8s.generate` writes", file=sys.stderr)
        return 1 if stale else 0
    if argv:
        print("usage: python -m deploy.k8s.generate [--check]", file=sys.stderr)
        return 2
    BASE.mkdir(exist_ok=True)
    for path, text in files().items():
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
