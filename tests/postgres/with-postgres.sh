#!/usr/bin/env bash
# Runs a command beside a private PostgreSQL 15 server with wal_level=logical
# (tests/difftest/pg.sh, on port $KILN_PG_REPLICATION_PORT, default 55461: tests that run at the
# same time take different ones), with PG_URL set to
# its URL; stops the server afterwards. Exits with the command's status.
#   with-postgres.sh COMMAND [ARGS...]
set -uo pipefail
export KILN_PG_PORT=${KILN_PG_REPLICATION_PORT:-55461}
pg="$(dirname "$0")/../difftest/pg.sh"
bash "$pg" stop >/dev/null 2>&1
PG_URL=$(bash "$pg" start) || exit 1
export PG_URL
trap 'bash "$pg" stop >/dev/null 2>&1' EXIT
"$@"
