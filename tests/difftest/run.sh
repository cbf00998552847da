#!/usr/bin/env bash
# The differential test against PostgreSQL: starts a private server (pg.sh), runs difftest.py over
# examples/ and generated queries with fixed seeds plus one random seed, stops the server.
#   tests/difftest/run.sh [more difftest.py options]
# KILN=path selects the compiler (default build/tools/kiln/kiln). Exits with difftest's status.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
kiln=${KILN:-$root/build/tools/kiln/kiln}

python3 "$here/difftest.py" --self-test || exit 1

# A port of our own (runs may overlap): the first one from 55432 that nobody listens on, claimed
# with a lock folder; KILN_PG_PORT forces one.
if [[ -z ${KILN_PG_PORT:-} ]]; then
  for port in $(seq 55432 55531); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
    mkdir "/tmp/kiln-difftest-pg-$port.lock" 2>/dev/null && { export KILN_PG_PORT=$port; break; }
  done
  [[ -n ${KILN_PG_PORT:-} ]] || { echo "run.sh: no free port in 55432-55531" >&2; exit 1; }
  lock=/tmp/kiln-difftest-pg-$KILN_PG_PORT.lock
fi
trap '"$here/pg.sh" stop; rm -rf ${lock:-}' EXIT
"$here/pg.sh" start >/dev/null || exit 1
echo "PostgreSQL on port $KILN_PG_PORT"
random_seed=$(( (RANDOM << 15 | RANDOM) + 1 ))
echo "random seed: $random_seed"
python3 "$here/difftest.py" --kiln "$kiln" --seed 1 2 3 4 5 6 "$random_seed" --ticks 30 --generated 30 --shrink-seconds 30 "$@"
status=$?
exit $status
