#!/usr/bin/env bash
# Installs Kiln's build and test dependencies (Debian bookworm) and builds Kiln into build/.
# Idempotent: re-running only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build
  llvm-19-dev llvm-19-tools clang-19 lld-19 libclang-rt-19-dev libzstd-dev zlib1g-dev clang-format-19
  libpg-query-dev libabsl-dev libsimdjson-dev libyaml-cpp-dev
  librdkafka-dev liblz4-dev libsasl2-dev libssl-dev kcat libcpp-httplib-dev libpq-dev libpcre2-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  postgresql python3 python3-jinja2 python3-yaml tzdata
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The postgresql package starts a cluster on port 5432; Kiln's tests run their own.
  if command -v pg_ctlcluster >/dev/null && pg_lsclusters -h 2>/dev/null | grep -q online; then
    pg_lsclusters -h | awk '{print $1, $2}' | while read -r v c; do pg_ctlcluster "$v" "$c" stop || true; done
  fi
fi

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build -j"${KILN_JOBS:-2}"
