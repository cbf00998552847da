#!/usr/bin/env bash
# A private PostgreSQL 15 server for the differential tests.
#   pg.sh start   start it (fresh data folder) unless it already runs; prints its URL
#   pg.sh stop    shut it down and remove its folder
#   pg.sh url     print its URL (postgresql://postgres@127.0.0.1:PORT/postgres)
# It listens on 127.0.0.1 and a unix socket in its folder under /tmp, on port $KILN_PG_PORT
# (default 55432), with fsync off. PostgreSQL refuses to run as root: as root it runs as the
# `postgres` user. Installs nothing.
set -euo pipefail

PORT=${KILN_PG_PORT:-55432}
BIN=${KILN_PG_BIN:-/usr/lib/postgresql/15/bin}
BASE=/tmp/kiln-difftest-pg-$PORT
DATA=$BASE/data
URL="postgresql://postgres@127.0.0.1:$PORT/postgres"

if [[ $(id -u) == 0 ]]; then
  OWNER=postgres
  as_owner() { runuser -u postgres -- "$@"; }
else
  OWNER=$(id -un)
  as_owner() { "$@"; }
fi
cd /tmp  # the server's user may not be able to read the caller's folder

running() { [[ -f $DATA/PG_VERSION ]] && as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

start() {
  [[ -x $BIN/postgres ]] || { echo "pg.sh: no PostgreSQL 15 at $BIN" >&2; exit 1; }
  if running; then echo "$URL"; return; fi
  rm -rf "$BASE"
  mkdir -p "$BASE/socket"
  chown -R "$OWNER" "$BASE"
  as_owner "$BIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C \
    --no-sync >"$BASE/initdb.log" 2>&1 || { cat "$BASE/initdb.log" >&2; exit 1; }
  if ! as_owner "$BIN/pg_ctl" -D "$DATA" -l "$BASE/server.log" -w -t 60 start -o \
      "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$BASE/socket \
       -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
       -c max_connections=20 -c shared_buffers=32MB -c wal_level=logical \
       -c max_replication_slots=10 -c max_wal_senders=10" >/dev/null; then
    echo "pg.sh: PostgreSQL did not start (is port $PORT taken?); its log:" >&2
    cat "$BASE/server.log" >&2
    exit 1
  fi
  echo "$URL"
}

stop() {
  if running; then as_owner "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null; fi
  rm -rf "$BASE"
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  url) echo "$URL" ;;
  *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
