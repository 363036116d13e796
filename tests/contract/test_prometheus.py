"""The monitoring stack's configuration: Prometheus scrapes RabbitMQ's per-queue
depth, and its alert rules pass promtool's checks and their unit tests
(``deploy/prometheus/alerts_test.yml``). Skips where promtool is not installed
(Debian: ``apt-get install prometheus``)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed")


def promtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PROMTOOL, *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=120
    )


@needs_promtool
def test_the_prometheus_config_and_its_alert_rules_are_valid():
    checked = promtool("check", "config", "prometheus.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout


@needs_promtool
def test_every_rule_file_passes_promtool_check_rules():
    config = pytest.importorskip("yaml").safe_load((PROMETHEUS / "prometheus.yml").read_text())
    checked = promtool("check", "rules", *config["rule_files"])
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "operations.yml" in config["rule_files"]


def test_every_alert_has_a_unit_test_and_the_tests_load_every_rule_file():
    yaml = pytest.importorskip("yaml")
    rule_files = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())["rule_files"]
    alerts = {
        rule["alert"]
        for name in rule_files
        for group in yaml.safe_load((PROMETHEUS / name).read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }
    tests = yaml.safe_load((PROMETHEUS / "alerts_test.yml").read_text())
    firing = {
        case["alertname"]
        for test in tests["tests"]
        for case in test["alert_rule_test"]
        if case.get("exp_alerts")
    }
    assert sorted(tests["rule_files"]) == sorted(rule_files)
    assert alerts - firing == set(), "alerts no test sees firing"


@needs_promtool
def test_the_alert_rules_pass_their_unit_tests():
    tested = promtool("test", "rules", "alerts_test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_rabbitmq_serves_per_queue_metrics_that_prometheus_scrapes():
    yaml = pytest.importorskip("yaml")
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["rabbitmq"]
    assert "15692:15692" in compose["ports"]
    [mount] = [v for v in compose["volumes"] if v.endswith(":/etc/rabbitmq/enabled_plugins:ro")]
    plugins = (ROOT / mount.split(":")[0]).read_text()
    assert "rabbitmq_prometheus" in plugins and plugins.strip().endswith("].")
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    [job] = [j for j in config["scrape_configs"] if j["job_name"] == "rabbitmq"]
    assert job["metrics_path"] == "/metrics/detailed"
    assert job["params"] == {"family": ["queue_coarse_metrics"]}
    assert job["static_configs"][0]["targets"] == ["rabbitmq:15692"]


def _metric_names(expr: str) -> set[str]:
    return set(re.findall(r"\brapport[_:][a-z0-9_:]+", expr))


def test_every_operations_alert_has_a_grafana_panel_on_its_metric():
    yaml = pytest.importorskip("yaml")
    groups = yaml.safe_load((PROMETHEUS / "operations.yml").read_text())["groups"]
    alerts = {
        rule["alert"]: _metric_names(rule["expr"])
        for group in groups
        for rule in group["rules"]
        if "alert" in rule
    }
    dashboard = json.loads(
        (ROOT / "deploy" / "grafana" / "dashboards" / "rapport.json").read_text()
    )
    charted = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in _metric_names(target["expr"])
    }
    assert {alert for alert, names in alerts.items() if not names & charted} == set()


def test_the_rules_and_panels_read_the_names_the_processes_expose(sqlite_url, tmp_path):
    """A renamed metric would silence its alert or empty its panel: every rapport_ name
    the rules and the dashboard read is exposed, with its service label, by the
    shared counters, the outbox and periodic collectors, the calls relay's own and the
    customer relay's import jobs."""
    from prometheus_client.parser import text_string_to_metric_families

    from services.calls import config, metrics
    from services.calls.db import Outbox, PeriodicJob
    from services.calls.notifications import delivery as deliveries
    from shared import clock, migrations, periodic
    from shared.db import Database
    from shared.metrics import OutboxCollector, PeriodicJobsCollector, exposition, metrics_for

    migrations.upgrade(sqlite_url, config.MIGRATIONS)
    db = Database(sqlite_url)
    try:
        with db.transaction() as session:
            session.add(
                PeriodicJob(
                    name="x",
                    every_seconds=60,
                    paused=False,
                    next_run_at=clock.now(),
                    runs=0,
                    failures=0,
                )
            )
        periodic.LAST_SUCCESS.labels("calls", "x").set(0)
        periodic.RUNS.labels("calls", "x", "ok")
        deliveries.FAILED.labels("calls", "call.assigned")
        shared = metrics_for("calls")
        shared.http_requests.labels("GET", "/x", 200)
        shared.http_latency.labels("GET", "/x").observe(0.1)
        for counter in (shared.published, shared.consumed, shared.failed, shared.duplicate):
            counter.labels("call.assigned")
        shared.dead_lettered.labels("malformed")
        body, _ = exposition(
            [
                metrics.CallsCollector("calls", db, 0, 0),
                PeriodicJobsCollector("calls", db, PeriodicJob),
                OutboxCollector("calls", db, Outbox),
            ]
        )
    finally:
        db.dispose()
    from services.customer import config as customer_config
    from services.customer import periodic as customer_periodic

    customer_url = f"sqlite:///{tmp_path / 'customer.db'}"
    migrations.upgrade(customer_url, customer_config.MIGRATIONS)
    customer_db = Database(customer_url)
    try:
        settings = customer_config.load({"DATABASE_URL": customer_url, "DEV_MODE": "1"})
        body += exposition(customer_periodic.collectors(settings, customer_db))[0]
    finally:
        customer_db.dispose()
    families = list(text_string_to_metric_families(body.decode()))
    exposed = {
        f.name + suffix
        for f in families
        for suffix in {
            "counter": ("_total",),
            "histogram": ("_bucket",),
            "gaugehistogram": ("_bucket",),
        }.get(f.type, ("",))
    }
    ours = [f for f in families if f.name.startswith("rapport_")]
    assert ours and all(sample.labels.get("service") for f in ours for sample in f.samples)
    yaml = pytest.importorskip("yaml")
    rule_files = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())["rule_files"]
    exprs = [
        rule["expr"]
        for name in rule_files
        for group in yaml.safe_load((PROMETHEUS / name).read_text())["groups"]
        for rule in group["rules"]
    ]
    dashboard = json.loads(
        (ROOT / "deploy" / "grafana" / "dashboards" / "rapport.json").read_text()
    )
    exprs += [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    read = {name for expr in exprs for name in _metric_names(expr) if ":" not in name}
    assert {
        "rapport_http_request_duration_seconds_bucket",
        "rapport_events_failed_total",
        "rapport_outbox_oldest_pending_age_seconds",
    } <= read
    assert read - exposed == set()
    assert not [expr for expr in exprs if "__name__" in expr], "no regex on metric names"


def test_every_metric_the_services_define_is_rapport_with_a_service_label():
    """Any process's metrics, the service's own included: one name for every service,
    told apart by the label. (The python_ and process_ ones are prometheus-client's.)"""
    import importlib

    from prometheus_client import REGISTRY
    from prometheus_client.metrics import MetricWrapperBase

    from deploy.run import SERVICES
    from shared.metrics import metrics_for

    for service in SERVICES:
        metrics_for(service)  # what each process binds to its service
        for module in ("app", "entrypoints.consumer", "entrypoints.relay", "periodic"):
            try:
                importlib.import_module(f"services.{service}.{module}")
            except ModuleNotFoundError as exc:
                assert exc.name == f"services.{service}.{module}", exc
    ours = [c for c in REGISTRY._collector_to_names if isinstance(c, MetricWrapperBase)]
    assert len(ours) >= 15
    assert {c._name for c in ours if not c._name.startswith("rapport_")} == set()
    assert {c._name for c in ours if "service" not in c._labelnames} == set()
    names = {f.name for f in REGISTRY.collect()}
    assert {n for n in names if not n.startswith(("rapport_", "python_", "process_"))} == set()
