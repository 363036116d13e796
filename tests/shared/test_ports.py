"""Ports for a test or benchmark system: every process gets one of its own."""
import socket

from deploy.launcher import SERVICES, free_ports, port_settings


def test_ports_are_distinct_and_free():
    ports = free_ports(200)
    assert len(set(ports)) == 200
    for port in ports[:20]:
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))  # nothing holds them once chosen


def test_every_process_of_every_service_gets_its_own_port():
    settings = port_settings()
    assert set(settings) == {f"{s.upper()}_{k}" for s in SERVICES
                             for k in ("PORT", "CONSUMER_PORT", "RELAY_PORT")}
    assert len(set(settings.values())) == 3 * len(SERVICES)
