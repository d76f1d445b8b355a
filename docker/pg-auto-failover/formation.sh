#!/usr/bin/env bash
# A local pg_auto_failover formation on loopback: a monitor, a primary and a synchronous
# standby, each a PostgreSQL 15 managed by its own `pg_autoctl run` (Debian's
# postgresql-15-auto-failover). docs/operations.md ("High availability") and the failover
# tests (tests/support/formation.py) both start it with this script.
#
#   formation.sh start DIR BASE_PORT   monitor on BASE_PORT, nodes on BASE_PORT+1 and +2;
#                                      prints the gateway's multi-host database URL
#   formation.sh state DIR             pg_autoctl show state
#   formation.sh stop DIR              stop every process by the pid it recorded
#
# Trust authentication on 127.0.0.1 and no TLS: a test bench, never a deployment. PostgreSQL
# refuses to run as root, so as root the script re-runs itself as the `postgres` user.
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
RUN_AS=${PPSGATE_FORMATION_USER:-postgres}
DATABASE=ppsgate

command=${1:?usage: formation.sh start|state|stop DIR [BASE_PORT]}
dir=${2:?usage: formation.sh start|state|stop DIR [BASE_PORT]}

if [ "$(id -u)" = 0 ]; then
  mkdir -p "$dir"
  chown "$RUN_AS" "$dir"
  exec runuser -u "$RUN_AS" -- "$0" "$@"
fi

dir=$(cd "$dir" && pwd)
export XDG_CONFIG_HOME=$dir/config XDG_DATA_HOME=$dir/share XDG_RUNTIME_DIR=$dir/run
export PG_CONFIG=$PG_BIN/pg_config PATH=$PG_BIN:$PATH
mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR"

monitor_url() { echo "postgres://autoctl_node@127.0.0.1:$(cat "$dir/monitor.port")/pg_auto_failover?sslmode=disable"; }

run_node() {  # name: start `pg_autoctl run` in the background, record its pid
  nohup pg_autoctl run --pgdata "$dir/$1" >>"$dir/$1.log" 2>&1 &
  echo $! >"$dir/$1.pid"
}

wait_for() {  # seconds, then a command that must succeed
  local seconds=$1
  shift
  for _ in $(seq 1 "$((seconds * 5))"); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "formation: timed out waiting for: $*" >&2
  return 1
}

node_state_is() {  # node name, wanted state
  pg_autoctl show state --pgdata "$dir/monitor" --json 2>/dev/null |
    python3 -c 'import json,sys; nodes={n["nodename"]: n for n in json.load(sys.stdin)};
n=nodes.get(sys.argv[1]); sys.exit(0 if n and n["current_group_state"]==n["assigned_group_state"]==sys.argv[2] else 1)' "$1" "$2"
}

start() {
  local base=${1:?BASE_PORT}
  echo "$base" >"$dir/monitor.port"
  pg_autoctl create monitor --pgdata "$dir/monitor" --pgport "$base" --hostname 127.0.0.1 \
    --auth trust --no-ssl >>"$dir/monitor.log" 2>&1
  run_node monitor
  wait_for 60 pg_isready -h 127.0.0.1 -p "$base" -q
  # Fail over within seconds, not the default tens of seconds (a test bench on loopback).
  psql -h 127.0.0.1 -p "$base" -d pg_auto_failover -U "$(id -un)" -v ON_ERROR_STOP=1 -q \
    >/dev/null <<'SQL'
ALTER SYSTEM SET pgautofailover.health_check_period = 1000;
ALTER SYSTEM SET pgautofailover.health_check_timeout = 1000;
ALTER SYSTEM SET pgautofailover.health_check_max_retries = 1;
ALTER SYSTEM SET pgautofailover.health_check_retry_delay = 500;
ALTER SYSTEM SET pgautofailover.node_considered_unhealthy_timeout = 3000;
ALTER SYSTEM SET pgautofailover.primary_demote_timeout = 3000;
SELECT pg_reload_conf();
SQL
  for n in 1 2; do
    pg_autoctl create postgres --pgdata "$dir/node$n" --pgport "$((base + n))" \
      --hostname 127.0.0.1 --listen 127.0.0.1 --name "node$n" --dbname "$DATABASE" \
      --monitor "$(monitor_url)" --auth trust --no-ssl --pgctl "$PG_BIN/pg_ctl" \
      >>"$dir/node$n.log" 2>&1
    run_node "node$n"
    if [ "$n" = 1 ]; then wait_for 90 node_state_is node1 single; fi
  done
  wait_for 120 node_state_is node1 primary
  wait_for 120 node_state_is node2 secondary
  echo "postgresql+psycopg://postgres@/$DATABASE?host=127.0.0.1:$((base + 1))&host=127.0.0.1:$((base + 2))&target_session_attrs=read-write"
}

stop() {
  for name in node1 node2 monitor; do
    [ -f "$dir/$name.pid" ] || continue
    kill -TERM "$(cat "$dir/$name.pid")" 2>/dev/null || true
  done
  for name in node1 node2 monitor; do
    [ -f "$dir/$name.pid" ] || continue
    pid=$(cat "$dir/$name.pid")
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
    if [ -f "$dir/$name/postmaster.pid" ]; then
      kill -QUIT "$(head -1 "$dir/$name/postmaster.pid")" 2>/dev/null || true
    fi
  done
}

case $command in
  start) start "${3:?BASE_PORT}" ;;
  state) pg_autoctl show state --pgdata "$dir/monitor" ;;
  stop) stop ;;
  *) echo "unknown command $command" >&2; exit 2 ;;
esac
