"""Run the whole of Rapport on one machine: every process of all four services.

``python -m deploy.launcher`` (``make run``) checks the broker, migrates each
service's SQLite database, starts an API (gunicorn), a consumer and a relay per
service, restarts any that crash, prints where everything is, and stops them all
cleanly on Ctrl-C, SIGTERM or a closed terminal (SIGHUP). The tests use ``System``
to run the same processes.

No process outlives its supervisor: each is started with the kernel's parent-death
signal (``PR_SET_PDEATHSIG``, Linux), so a launcher that is SIGKILLed, or dies in
any other way that skips its clean-up, takes every process of its system with it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pika
import requests

from deploy.run import SERVICES, command
from shared.config import Settings
from shared.messaging import brokers

ROLES = ("api", "consumer", "relay")
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _die_with(supervisor: int):
    """A ``preexec_fn``: the child gets SIGTERM when ``supervisor`` dies (and exits
    at once if it already has). Elsewhere than Linux, nothing: there the launcher's
    own SIGTERM and SIGHUP handling is what stops its processes."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)

    def arm() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != supervisor:  # died before the signal was armed
            os._exit(1)

    return arm


# Ports handed to a system's processes come from a range below Linux's ephemeral
# one (32768-60999 by default): a port the kernel gives an outgoing connection, or
# a test's server bound to port 0, never lands on one chosen here and released
# before its process binds it. RAPPORT_PORT_RANGE ("20000-25999") narrows it, so
# that test processes running side by side each draw from a block of their own.
DEFAULT_PORT_RANGE = "20000-32000"
_next_port: dict[tuple[int, int], int] = {}


def port_range() -> tuple[int, int]:
    low, _, high = os.environ.get("RAPPORT_PORT_RANGE", DEFAULT_PORT_RANGE).partition("-")
    return int(low), int(high)


def free_ports(count: int) -> list[int]:
    """``count`` distinct TCP ports free on 127.0.0.1 now, from ``port_range()``.
    Ports are taken in turn from where the last call stopped (from a random place
    in the range at first), so a port just released by a stopped system is not
    handed out again at once; each is checked by binding it."""
    low, high = span = port_range()
    size = high - low + 1
    if count > size:
        raise ValueError(f"{count} ports asked of a range of {size}")
    cursor = _next_port.get(span, low + int.from_bytes(os.urandom(2)) % size)
    chosen: list[int] = []
    if not count:
        return chosen
    for _ in range(size):
        port, cursor = cursor, low + (cursor + 1 - low) % size
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        chosen.append(port)
        if len(chosen) == count:
            _next_port[span] = cursor
            return chosen
    raise OSError(f"fewer than {count} free ports in {low}-{high}")


def port_settings(services=SERVICES) -> dict:
    """Settings giving every process of ``services`` a port of its own
    (``<SERVICE>_PORT``, ``_CONSUMER_PORT``, ``_RELAY_PORT``)."""
    keys = [
        f"{service.upper()}_{key}"
        for service in services
        for key in ("PORT", "CONSUMER_PORT", "RELAY_PORT")
    ]
    return dict(zip(keys, map(str, free_ports(len(keys)))))


@dataclass
class Proc:
    service: str
    role: str
    argv: list[str]
    env: dict
    port: int
    popen: subprocess.Popen | None = None
    restarts: int = 0
    replica: int = 0  # 0 the first of its kind; a second consumer or relay is 1

    @property
    def name(self) -> str:
        suffix = f"-{self.replica + 1}" if self.replica else ""
        return f"{self.service}-{self.role}{suffix}"

    @property
    def ready_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/readyz"


class System:
    def __init__(
        self, env: dict, services=SERVICES, log_dir: Path | None = None, replicas: int = 1
    ):
        """``replicas`` of each consumer and relay (one API each): several share a
        queue and an outbox, which PostgreSQL allows and SQLite does not."""
        self.env = env
        self.settings = {s: Settings.from_env(s, env) for s in services}
        self.log_dir = log_dir
        self.replicas = replicas
        self.procs = {p.name: p for p in self._procs()}

    def _procs(self):
        extra = iter(free_ports(2 * len(self.settings) * (self.replicas - 1)))
        for service, settings in self.settings.items():
            host = settings.get("HOST", "127.0.0.1")
            for role in ROLES:
                for replica in range(1 if role == "api" else self.replicas):
                    env = {**self.env, "RAPPORT_SERVICE": service}
                    port = settings.port if role == "api" else settings.process_port(role)
                    if replica:
                        port = next(extra)
                        env[f"{service.upper()}_{role.upper()}_PORT"] = str(port)
                    if role == "api":
                        env["PROMETHEUS_MULTIPROC_DIR"] = str(
                            settings.data_dir / "prometheus" / service
                        )
                        env["RAPPORT_BIND"] = f"{host}:{port}"
                    yield Proc(
                        service,
                        role,
                        command(service, role, host, port),
                        env,
                        port,
                        replica=replica,
                    )

    def migrate(self) -> None:
        import importlib

        from shared import migrations

        for service, settings in self.settings.items():
            config = importlib.import_module(f"services.{service}.config")
            migrations.upgrade(settings.database_url, config.MIGRATIONS)

    def start(self, name: str | None = None) -> None:
        for proc in [self.procs[name]] if name else self.procs.values():
            out = subprocess.DEVNULL
            if self.log_dir is not None:
                self.log_dir.mkdir(parents=True, exist_ok=True)
                # The process's log, held for as long as the process writes to it.
                out = open(self.log_dir / f"{proc.name}.log", "ab")  # noqa: SIM115
            proc.popen = subprocess.Popen(
                proc.argv,
                env=proc.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with(os.getpid()),
            )

    def signal(self, name: str, sig: int) -> None:
        proc = self.procs[name]
        if proc.popen is not None and proc.popen.poll() is None:
            os.killpg(proc.popen.pid, sig)

    def stop(self, name: str | None = None, timeout: float = 15.0) -> None:
        procs = [self.procs[name]] if name else list(self.procs.values())
        for proc in procs:
            self.signal(proc.name, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in procs:
            if proc.popen is None:
                continue
            try:
                proc.popen.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.signal(proc.name, signal.SIGKILL)
                proc.popen.wait()

    def wait_ready(self, timeout: float = 60.0, names=None) -> None:
        pending = set(names or self.procs)
        deadline = time.monotonic() + timeout
        while pending:
            for name in list(pending):
                proc = self.procs[name]
                if proc.popen is not None and proc.popen.poll() is not None:
                    raise RuntimeError(
                        f"{name} exited with {proc.popen.returncode}" + self._log_hint(name)
                    )
                try:
                    if requests.get(proc.ready_url, timeout=1).status_code == 200:
                        pending.discard(name)
                except requests.RequestException:
                    pass
            if pending and time.monotonic() > deadline:
                raise RuntimeError(f"not ready after {timeout}s: {', '.join(sorted(pending))}")
            time.sleep(0.1)

    def _log_hint(self, name: str) -> str:
        return f"; see {self.log_dir / (name + '.log')}" if self.log_dir else ""

    def api_url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.settings[service].port}"

    def supervise_once(self) -> list[str]:
        """Restart crashed processes; return the names restarted."""
        restarted = []
        for proc in self.procs.values():
            if proc.popen is not None and proc.popen.poll() is not None:
                proc.restarts += 1
                restarted.append(proc.name)
                self.start(proc.name)
        return restarted


def broker_problem(amqp_url: str) -> str | None:
    """None if a node of ``amqp_url`` (one URL, or a cluster's, comma-separated)
    answers, else what to do about it."""
    nodes = brokers.parameters(amqp_url, connection_attempts=1, socket_timeout=3)
    try:
        pika.BlockingConnection(nodes).close()
        return None
    except Exception as exc:  # noqa: BLE001 - reported in one line
        where = ", ".join(brokers.where(params) for params in nodes)
        return (
            f"RabbitMQ is not reachable at {where} ({type(exc).__name__}). "
            "Start one: `apt-get install rabbitmq-server && rabbitmq-server -detached`, "
            "or `docker compose up -d rabbitmq`, or set RAPPORT_AMQP_URL."
        )


def main() -> int:
    env = dict(os.environ)
    if not env.get("RAPPORT_AUTH_SECRET"):
        env.setdefault("RAPPORT_DEV_MODE", "1")
    system = System(env, log_dir=Path(env.get("RAPPORT_LOG_DIR", "var/log")).resolve())
    problem = broker_problem(system.settings["customer"].amqp_url)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    stopping = []
    for sig in (signal.SIGTERM, signal.SIGHUP):  # SIGHUP: its terminal was closed
        signal.signal(sig, lambda *_: stopping.append(True))
    try:
        system.migrate()
        system.start()
        system.wait_ready(90)
        _print_welcome(system, env)
        while not stopping:
            for name in system.supervise_once():
                print(f"{name} exited; restarted it (see {system.log_dir}/{name}.log)")
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    except RuntimeError as exc:
        print(f"Rapport did not start: {exc}", file=sys.stderr)
        system.stop()
        return 1
    print("\nstopping every process…")
    system.stop()
    print("stopped.")
    return 0


def _print_welcome(system: System, env: dict) -> None:
    from shared.auth import issue_token

    print("\nRapport is running (Ctrl-C stops everything):\n")
    for service in system.settings:
        url = system.api_url(service)
        print(f"  {service:<10} API {url}/api/v1   docs {url}/api/docs/")
    print(f"\n  logs: {system.log_dir}/   data: {system.settings['customer'].data_dir}/")
    if env.get("RAPPORT_DEV_MODE") == "1":
        token = issue_token(system.settings["customer"].auth_secret, "dev", "admin")
        print("\n  development mode: a built-in secret signs tokens. An admin token for trying it:")
        print(f"  export TOKEN={token}")
        customers = f"{system.api_url('customer')}/api/v1/customers"
        print(f'  curl -H "Authorization: Bearer $TOKEN" {customers}')
        print("\n  pages (a token in the address signs you in once; see docs/pages.md):")
        print(
            f"  workspace {system.api_url('calls')}/workspace/?token=$TOKEN"
            "   (agents: a token of role agent; managers: the board and plans)"
        )
        print(f"  portal    {system.api_url('calls')}/portal/?token=<partner token>")
        print(f"  dashboard {system.api_url('reporting')}/dashboard?token=$TOKEN")
    print(flush=True)


if __name__ == "__main__":
    sys.exit(main())
