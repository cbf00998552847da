# Shared by the bench/ scripts (sourced, not run): building, a private PostgreSQL server, timing.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build-bench}
JOBS=${JOBS:-2}  # the machine is shared: never more
PG_PORT=${PG_PORT:-55433}
KILN=$BUILD_DIR/tools/kiln/kiln
GEN=$BUILD_DIR/bench/shop_gen
BASELINE=$BUILD_DIR/bench/shop_baseline
PG_REPLAY=$BUILD_DIR/bench/pg_replay

# Configures (once) and builds the compiler and the bench programs.
bench_build() {
  if [ ! -f "$BUILD_DIR/build.ninja" ]; then
    cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  ninja -C "$BUILD_DIR" -j"$JOBS" kiln shop_gen shop_baseline pg_replay nexmark_gen \
    nexmark_baseline >/dev/null
}

# median of the numbers on stdin
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# repeat_timed N FILE CMD...: runs CMD N times, writes "WALL CPU MAXRSS" lines to FILE
repeat_timed() {
  local n=$1 file=$2
  shift 2
  : > "$file"
  for _ in $(seq "$n"); do timed "$@" >> "$file"; done
}
# col FILE N: the median of column N of FILE
col() { awk -v c="$2" '{ print $c }' "$1" | median; }

# The sink names of a generated binary, from its --help.
sinks_of() {
  "$1" --help | sed -n 's/^sinks: //p' | tr -d ',' 
}

# Starts a private PostgreSQL server as the postgres user (it refuses to run as root): data under
# /tmp, 127.0.0.1:$PG_PORT, no fsync. Sets PG_CONNINFO; pg_stop stops it and removes the data.
pg_start() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$bin" ] || { echo "bench: no PostgreSQL server installed" >&2; return 1; }
  PG_BIN=$bin
  PG_DATA=$(mktemp -d /tmp/kiln-bench-pg.XXXXXX)
  chown postgres "$PG_DATA"
  runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_DATA/data" -E UTF8 --locale=C -A trust >/dev/null
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA/data" -l "$PG_DATA/data/server.log" -w \
    -o "-p $PG_PORT -k $PG_DATA -c listen_addresses=127.0.0.1 -c fsync=off \
        -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=512MB \
        -c work_mem=64MB -c max_parallel_workers_per_gather=0" start >/dev/null || {
    echo "bench: PostgreSQL did not start (is port $PG_PORT taken?); log:" >&2
    cat "$PG_DATA/data/server.log" >&2
    return 1
  }
  PG_CONNINFO="host=127.0.0.1 port=$PG_PORT user=postgres dbname=postgres"
}

pg_stop() {
  if [ -n "${PG_DATA:-}" ] && [ -d "$PG_DATA/data" ]; then
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_DATA"
  fi
  PG_DATA=
}

# Runs a command with its output discarded, and prints "WALL CPU MAXRSS" (seconds; CPU = user +
# system of the command and its children; the largest resident set, in MB) via GNU time.
timed() {
  local t
  t=$(mktemp /tmp/kiln-bench-time.XXXXXX)
  if ! /usr/bin/time -f "%e %U %S %M" -o "$t" "$@" >/dev/null; then
    echo "bench: failed: $* ($(head -1 "$t"))" >&2
    rm -f "$t"
    return 1
  fi
  awk '{ printf "%.3f %.3f %.1f\n", $1, $2 + $3, $4 / 1024 }' "$t"
  rm -f "$t"
}
