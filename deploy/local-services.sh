#!/usr/bin/env bash
# Make sure the local RabbitMQ (and, for the PostgreSQL half of the tests,
# PostgreSQL) answer; start the Debian-packaged servers if they are installed
# but stopped. Changes nothing when both already answer.
set -u
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! port_open 5672; then
  if command -v rabbitmq-server >/dev/null; then
    echo "starting the local RabbitMQ…"
    rabbitmq-server -detached
    for _ in $(seq 60); do port_open 5672 && break; sleep 1; done
  fi
  port_open 5672 || echo "RabbitMQ is not reachable on 127.0.0.1:5672; the integration tests will fail."
fi
# An open port is not yet a broker that completes handshakes: wait for the node
# to report itself running (it may still be recovering its queues).
if port_open 5672 && command -v rabbitmq-diagnostics >/dev/null; then
  for _ in $(seq 45); do
    timeout 20 rabbitmq-diagnostics -q check_running >/dev/null 2>&1 && break
    sleep 2
  done
  timeout 20 rabbitmq-diagnostics -q check_local_alarms >/dev/null 2>&1 \
    || echo "RabbitMQ reports a resource alarm (memory or disk); publishers will be blocked."
fi

if ! port_open 5432 && command -v pg_ctlcluster >/dev/null; then
  echo "starting the local PostgreSQL…"
  for version in $(ls /etc/postgresql 2>/dev/null); do
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  done
  for _ in $(seq 30); do port_open 5432 && break; sleep 1; done
fi
exit 0
