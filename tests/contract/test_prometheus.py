"""The monitoring stack's configuration: Prometheus scrapes RabbitMQ's per-queue
depth, and its alert rules pass promtool's checks and their unit tests
(``deploy/prometheus/alerts_test.yml``). Skips where promtool is not installed
(Debian: ``apt-get install prometheus``)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed")


def promtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([PROMTOOL, *args], cwd=PROMETHEUS, capture_output=True, text=True,
                          timeout=120)


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
    alerts = {rule["alert"] for name in rule_files
              for group in yaml.safe_load((PROMETHEUS / name).read_text())["groups"]
              for rule in group["rules"] if "alert" in rule}
    tests = yaml.safe_load((PROMETHEUS / "alerts_test.yml").read_text())
    firing = {case["alertname"] for test in tests["tests"] for case in test["alert_rule_test"]
              if case.get("exp_alerts")}
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
