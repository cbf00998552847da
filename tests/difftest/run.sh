#!/usr/bin/env bash
# The differential test against PostgreSQL: starts a private server (pg.sh), runs difftest.py over
# examples/ and generated queries with fixed seeds plus one random seed, stops the server.
#   tests/difftest/run.sh [more difftest.py options]
# KILN=path selects the compiler (default build/tools/kiln/kiln). Exits with difftest's status.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
kiln=${KILN:-$root/build/tools/kiln/kiln}

trap '"$here/pg.sh" stop' EXIT
"$here/pg.sh" start >/dev/null || exit 1
random_seed=$(( (RANDOM << 15 | RANDOM) + 1 ))
echo "random seed: $random_seed"
python3 "$here/difftest.py" --kiln "$kiln" --seed 1 2 3 "$random_seed" --shrink-seconds 30 "$@"
status=$?
exit $status
