"""A three-node RabbitMQ cluster on this machine, for the cluster test.

Debian's ``rabbitmq-server`` started three times as the current user, each node
with its own name (``rapport-a@localhost`` …), AMQP and distribution ports, data
and log directories, an empty plugin list (no management listener to clash) and
a configuration file of its own; all share one Erlang cookie, kept in ``HOME`` of
the cluster's directory (mode 0400). The second and third nodes join the first
(``stop_app``, ``join_cluster``, ``start_app``). Anything that fails on the way
raises ``ClusterUnavailable`` with the reason, for the test to skip on.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pika

from deploy.launcher import free_ports

SBIN = Path(os.environ.get("RABBITMQ_SBIN", "/usr/lib/rabbitmq/bin"))
NAMES = ("a", "b", "c")


class ClusterUnavailable(RuntimeError):
    """The cluster cannot be started here (no rabbitmq-server, epmd, ports …)."""


@dataclass
class Node:
    name: str  # rapport-a@localhost
    amqp_port: int
    dist_port: int
    popen: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.amqp_port}/%2F"


class RabbitCluster:
    def __init__(self, root: Path, prefix: str = "rapport"):
        self.root = root
        self.home = root / "home"
        ports = free_ports(2 * len(NAMES))
        self.nodes = [
            Node(f"{prefix}-{n}-{secrets.token_hex(3)}@localhost", ports[2 * i], ports[2 * i + 1])
            for i, n in enumerate(NAMES)
        ]

    @property
    def url(self) -> str:
        """Every node's URL, comma-separated: what ``RAPPORT_AMQP_URL`` takes."""
        return ",".join(node.url for node in self.nodes)

    # -- starting and stopping ---------------------------------------------
    def start(self, timeout: float = 120) -> None:
        for tool in ("rabbitmq-server", "rabbitmqctl"):
            if not (SBIN / tool).exists():
                raise ClusterUnavailable(f"no {SBIN / tool} (apt-get install rabbitmq-server)")
        self.home.mkdir(parents=True, exist_ok=True)
        cookie = self.home / ".erlang.cookie"
        cookie.write_text(secrets.token_hex(20).upper())
        cookie.chmod(0o400)
        (self.root / "enabled_plugins").write_text("[].\n")
        (self.root / "rabbitmq-env.conf").write_text("")  # not the system node's settings
        for node in self.nodes:
            self._launch(node)
        deadline = time.monotonic() + timeout
        for node in self.nodes:
            self._await_running(node, deadline)
        first = self.nodes[0]
        for node in self.nodes[1:]:
            self.ctl(node, "stop_app")
            self.ctl(node, "join_cluster", first.name)
            self.ctl(node, "start_app")
        running = self.ctl(first, "eval", "rabbit_nodes:all_running().")
        if any(node.name not in running for node in self.nodes):
            raise ClusterUnavailable(f"the nodes did not form one cluster: {running}")
        for node in self.nodes:
            self.await_amqp(node, deadline)

    def _launch(self, node: Node) -> None:
        short = node.name.split("@")[0]
        config = self.root / f"{short}.conf"
        config.write_text(
            f"listeners.tcp.default = 127.0.0.1:{node.amqp_port}\nloopback_users = none\n"
        )
        env = {
            **self.env(),
            "RABBITMQ_NODENAME": node.name,
            "RABBITMQ_NODE_PORT": str(node.amqp_port),
            "RABBITMQ_DIST_PORT": str(node.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.root / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.root / "log" / short),
            "RABBITMQ_CONFIG_FILE": str(config),
            "RABBITMQ_PID_FILE": str(self.root / f"{short}.pid"),
        }
        # The node's output, written for as long as the node runs.
        out = open(self.root / f"{short}.out", "ab")  # noqa: SIM115
        node.popen = subprocess.Popen(
            [str(SBIN / "rabbitmq-server")],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def env(self) -> dict:
        """What ``rabbitmq-server`` and ``rabbitmqctl`` need to find this cluster."""
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "RABBITMQ_CONF_ENV_FILE": str(self.root / "rabbitmq-env.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.root / "enabled_plugins"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        }

    def _await_running(self, node: Node, deadline: float) -> None:
        while True:
            if node.popen.poll() is not None:
                raise ClusterUnavailable(
                    f"{node.name} exited with {node.popen.returncode}; see {self.root}"
                )
            try:
                self.ctl(node, "await_startup", timeout=10)
                return
            except ClusterUnavailable:
                if time.monotonic() > deadline:
                    raise

    def await_amqp(self, node: Node, deadline: float) -> None:
        while True:
            try:
                params = pika.URLParameters(node.url + "?connection_attempts=1&socket_timeout=3")
                pika.BlockingConnection(params).close()
                return
            except Exception as exc:
                if time.monotonic() > deadline:
                    raise ClusterUnavailable(
                        f"{node.name} takes no AMQP connection: {exc!r}"
                    ) from exc
                time.sleep(0.3)

    def ctl(self, node: Node, *args: str, timeout: float = 60) -> str:
        try:
            done = subprocess.run(
                [str(SBIN / "rabbitmqctl"), "-n", node.name, *args],
                env=self.env(),
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ClusterUnavailable(
                f"rabbitmqctl {' '.join(args)} on {node.name}: {exc!r}"
            ) from exc
        if done.returncode != 0:
            raise ClusterUnavailable(
                f"rabbitmqctl {' '.join(args)} on {node.name} failed: "
                f"{(done.stderr or done.stdout).strip()[-500:]}"
            )
        return done.stdout

    def stop_app(self, node: Node) -> None:
        self.ctl(node, "stop_app")

    def start_app(self, node: Node, timeout: float = 60) -> None:
        self.ctl(node, "start_app", timeout=timeout)
        self.await_amqp(node, time.monotonic() + timeout)

    def stop(self) -> None:
        """Halt every node (its Erlang VM too) and remove what they wrote."""
        for node in self.nodes:
            if node.popen is None or node.popen.poll() is not None:
                continue
            with contextlib.suppress(ClusterUnavailable):
                self.ctl(node, "stop", timeout=30)
            try:
                node.popen.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(node.popen.pid, signal.SIGKILL)
                node.popen.wait()
        shutil.rmtree(self.root / "mnesia", ignore_errors=True)

    # -- looking at the queues -------------------------------------------------
    def queues(self, node: Node, prefix: str) -> dict[str, dict]:
        """The queues of a namespace as ``node`` sees them: type, members, online
        members, leader, and messages ready and unacknowledged."""
        out = self.ctl(
            node,
            "list_queues",
            "--quiet",
            "--no-table-headers",
            "name",
            "type",
            "members",
            "online",
            "leader",
            "messages_ready",
            "messages_unacknowledged",
        )
        found = {}
        for line in out.splitlines():
            parts = line.split("\t")
            if len(parts) != 7 or not parts[0].startswith(prefix):
                continue
            name, kind, members, online, leader, ready, unacked = parts
            found[name] = {
                "type": kind,
                "members": _names(members),
                "online": _names(online),
                "leader": leader,
                "ready": int(ready or 0),
                "unacked": int(unacked or 0),
            }
        return found


def _names(listed: str) -> set[str]:
    """``[rapport-a@localhost,rapport-b@localhost]`` as a set of names."""
    return {name.strip(" '\"") for name in listed.strip("[]").split(",") if name.strip()}
