#!/usr/bin/env bash
# Formats Kiln's C and C++ sources with clang-format 19 and the repository's .clang-format
# (LLVM's style). --check changes nothing and fails, naming the files, if any is not formatted.
set -euo pipefail
cd "$(dirname "$0")/.."
format=$(command -v clang-format-19 || echo /usr/lib/llvm-19/bin/clang-format)
if [ ! -x "$format" ]; then
  echo "format: clang-format-19 is not installed (scripts/setup.sh installs it)" >&2
  exit 1
fi
mapfile -t files < <(git ls-files 'compiler/*.cpp' 'compiler/*.h' 'runtime/*.cpp' 'runtime/*.h' \
  'stdlib/*.c' 'stdlib/*.h' 'tools/*.cpp' 'tools/*.h' 'tests/unit/*.cpp' 'bench/*.cpp')
if [ "${1:-}" = "--check" ]; then
  if ! "$format" --dry-run --Werror "${files[@]}" 2>/tmp/kiln-format.log; then
    grep -o '^[^:]*:' /tmp/kiln-format.log | sort -u | sed 's/:$//; s/^/format: not formatted: /' >&2
    echo "format: run bash scripts/format.sh" >&2
    exit 1
  fi
  echo "format: ${#files[@]} files formatted"
else
  "$format" -i "${files[@]}"
fi
