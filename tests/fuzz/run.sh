#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-19 in build-fuzz/ and runs each for SECONDS (default
# 20), seeded from the repository's models, examples and change records. A crash leaves its
# input in build-fuzz/crashes/ (make it a regression test) and fails the run.
#   tests/fuzz/run.sh            as the test suite runs it
#   tests/fuzz/run.sh 1800       half an hour each
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-20}
build=build-fuzz
if [ ! -f $build/build.ninja ]; then
  cmake -S . -B $build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKILN_FUZZ=ON \
    -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 >/dev/null
fi
ninja -C $build fuzz_model fuzz_records >/dev/null

corpus=$build/corpus
mkdir -p $corpus/model $corpus/records $build/crashes
# Seeds: every model and macro of the tests and examples (split-file sections of .test files
# too), and lines of the change streams.
find examples tests -name '*.sql' -size -8k -exec cp -n {} $corpus/model/ \; 2>/dev/null || true
python3 - "$corpus" <<'PY'
import hashlib, pathlib, sys
corpus = pathlib.Path(sys.argv[1])
def seed(kind, text):
    if text.strip():
        (corpus / kind / hashlib.sha1(text.encode()).hexdigest()).write_text(text)
for test in pathlib.Path('tests').rglob('*.test'):
    parts = test.read_text(errors='replace').split('\n#--- ')
    for part in parts[1:]:
        name, _, body = part.partition('\n')
        if name.endswith('.sql'):
            seed('model', body)
        elif name.endswith('.jsonl'):
            for line in body.split('\n')[:50]:
                seed('records', line)
for data in pathlib.Path('examples').rglob('*.jsonl'):
    for line in data.read_text().split('\n')[:200]:
        seed('records', line)
PY

status=0
for target in model records; do
  echo "fuzz_$target: ${seconds}s"
  if ! ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      $build/tests/fuzz/fuzz_$target -max_total_time=$seconds -timeout=20 -rss_limit_mb=4096 \
      -max_len=4096 -artifact_prefix=$build/crashes/$target- -print_final_stats=1 \
      $corpus/$target > $build/fuzz_$target.log 2>&1; then
    echo "fuzz_$target: FAILED (see $build/fuzz_$target.log and $build/crashes/)"
    tail -40 $build/fuzz_$target.log
    status=1
  fi
  grep -E "^stat::number_of_executed_units|^stat::new_units_added" $build/fuzz_$target.log || true
done
exit $status
