"""Ports for a test or benchmark system: every process gets one of its own."""

import socket

from deploy.launcher import SERVICES, free_ports, port_range, port_settings


def test_ports_are_distinct_and_free():
    ports = free_ports(200)
    assert len(set(ports)) == 200
    low, high = port_range()
    assert all(low <= p <= high < 32768 for p in ports)  # never an ephemeral port
    for port in ports[:20]:
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))  # nothing holds them once chosen


def test_every_process_of_every_service_gets_its_own_port():
    settings = port_settings()
    assert set(settings) == {
        f"{s.upper()}_{k}" for s in SERVICES for k in ("PORT", "CONSUMER_PORT", "RELAY_PORT")
    }
    assert len(set(settings.values())) == 3 * len(SERVICES)


def test_a_range_of_its_own_is_honoured_and_not_handed_out_twice_in_a_row(monkeypatch):
    monkeypatch.setenv("RAPPORT_PORT_RANGE", "21000-21099")
    first, second = free_ports(60), free_ports(40)
    assert all(21000 <= p <= 21099 for p in first + second)
    assert not set(first) & set(second)  # the cursor moves on past a released port


def test_a_port_in_use_is_skipped(monkeypatch):
    monkeypatch.setenv("RAPPORT_PORT_RANGE", "21100-21109")
    with socket.socket() as held:
        held.bind(("127.0.0.1", 21105))
        assert 21105 not in free_ports(9)
