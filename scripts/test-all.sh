#!/bin/bash
# The test command of libreferral.
#
# On a fresh Debian 12 machine, as root:  bash scripts/test-all.sh
#
# 1. installs the packages it needs (scripts/install-deps.sh; skipped when
#    they are all there),
# 2. builds with gcc (-Dwerror=true -Dinvariants=true) and runs every test,
# 3. builds with gcc under AddressSanitizer + UndefinedBehaviorSanitizer and
#    runs every test again,
# 4. compiles everything (library, CLI, tests, examples) with clang and
#    -Dwerror=true, without running the tests a third time,
# 4b. builds the libFuzzer targets with clang (-Dfuzzing=true) and runs
#    each for 30 s from its seed corpus (tests/fuzz); each run is one test,
# 5. reads both runs' meson-logs/testlog.json and ends with one line
#    "N passed, N failed" (", N skipped" appended when tests were skipped).
#
# Exit status 0 only when every build succeeded and every test passed.  A
# build that fails counts as one failed test.  Runnable from any directory;
# build directories are reused, so a second run only rebuilds what changed.
set -uo pipefail

cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." || exit 1
# Debian's tools first: the build's python3 is Debian's, not another on PATH.
export PATH="/usr/bin:/bin:/usr/sbin:/sbin:$PATH"
unset CFLAGS LDFLAGS CPPFLAGS

if ! bash scripts/install-deps.sh; then
  echo "test-all: installing the dependencies failed" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

# "label:outcome[:builddir]" for each stage, read by the summary below.
stages=()

step() { printf '\n===== %s =====\n' "$*"; }

# configure DIR CC OPTION...: meson setup, reusing DIR when it is already
# configured, wiping it when that fails.
configure() {
  local dir=$1 cc=$2
  shift 2
  if [ -f "$dir/meson-private/coredata.dat" ]; then
    if CC=$cc meson setup --reconfigure "$dir" "$@"; then
      return 0
    fi
    echo "test-all: reconfiguring $dir failed; configuring it afresh"
  fi
  rm -rf "$dir"
  CC=$cc meson setup "$dir" "$@"
}

# build_and_test LABEL DIR CC RUN_TESTS OPTION...
build_and_test() {
  local label=$1 dir=$2 cc=$3 run_tests=$4
  shift 4
  step "$label: configure $dir (CC=$cc $*)"
  if ! configure "$dir" "$cc" "$@"; then
    stages+=("$label:setup-failed")
    return
  fi
  step "$label: build"
  if ! ninja -C "$dir"; then
    stages+=("$label:build-failed")
    return
  fi
  if [ "$run_tests" != yes ]; then
    stages+=("$label:built")
    return
  fi
  step "$label: test"
  rm -f "$dir/meson-logs/testlog.json"
  local rc=0
  env "${test_env[@]}" meson test -C "$dir" --print-errorlogs "${test_args[@]}" || rc=$?
  stages+=("$label:tested-rc$rc:$dir")
}

# (a) the normal build
test_env=()
test_args=()
build_and_test normal build-ci-normal gcc yes \
  -Dwerror=true -Dinvariants=true

# (b) AddressSanitizer + UndefinedBehaviorSanitizer.  LeakSanitizer needs
# ptrace-like rights some containers lack: probe it, and say so if it is off.
leaks=1
probe_dir=$(mktemp -d)
printf 'int main(void) { return 0; }\n' > "$probe_dir/probe.c"
if gcc -fsanitize=address "$probe_dir/probe.c" -o "$probe_dir/probe" 2>/dev/null; then
  if ! ASAN_OPTIONS=detect_leaks=1 "$probe_dir/probe" >/dev/null 2>&1; then
    leaks=0
    echo "test-all: WARNING: LeakSanitizer does not work here; running ASan without leak detection"
  fi
fi
rm -rf "$probe_dir"
test_env=(ASAN_OPTIONS="detect_leaks=$leaks"
          UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
          G_SLICE=always-malloc G_DEBUG=gc-friendly
          CK_TIMEOUT_MULTIPLIER=4)
# Sanitized code runs a few times slower: stretch meson's timeouts and, with
# CK_TIMEOUT_MULTIPLIER above, Check's own per-test-case timeouts alike.
test_args=(--timeout-multiplier 4)
build_and_test sanitize build-ci-sanitize gcc yes \
  -Db_sanitize=address,undefined -Db_lundef=false -Dwerror=true -Dinvariants=true

# (c) clang: everything must compile warning-free; the tests ran above.
test_env=()
test_args=()
build_and_test clang build-ci-clang clang no \
  -Dwerror=true -Dinvariants=true

# (d) fuzzing (issue 5): a clang build with -Dfuzzing=true (libFuzzer, ASan,
# UBSan), then each target in tests/fuzz runs for 30 s from its seeds, the
# three at once to keep the stage short.  Each target's run counts as one
# test: a crash, a sanitizer report, a failed assertion or a hang is a
# failure, and its input is kept in build-ci-fuzz/artifacts/.
fuzz_dir=build-ci-fuzz
step "fuzz: configure and build $fuzz_dir"
if configure "$fuzz_dir" clang -Dfuzzing=true -Dtests=false -Dexamples=false \
     -Dpython=disabled -Dlua=disabled -Db_lundef=false -Dwerror=true && ninja -C "$fuzz_dir"; then
  mkdir -p "$fuzz_dir/artifacts"
  fuzz_pids=()
  for target in jsonl scheme pipeline; do
    seeds=("tests/fuzz/corpus/$target")
    [ "$target" = jsonl ] && seeds+=(examples/events)
    [ "$target" = scheme ] && seeds+=(examples/schemes)
    mkdir -p "$fuzz_dir/corpus/$target"  # new inputs go here (kept between runs)
    ASAN_OPTIONS="detect_leaks=$leaks" UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
      "$fuzz_dir/tests/fuzz/fuzz-$target" -max_total_time=30 -timeout=25 -detect_leaks="$leaks" \
      -print_final_stats=1 -artifact_prefix="$fuzz_dir/artifacts/$target-" \
      "$fuzz_dir/corpus/$target" "${seeds[@]}" > "$fuzz_dir/fuzz-$target.log" 2>&1 &
    fuzz_pids+=("$target:$!")
  done
  for entry in "${fuzz_pids[@]}"; do
    target=${entry%%:*}
    step "fuzz: $target (30 s; log $fuzz_dir/fuzz-$target.log)"
    if wait "${entry#*:}"; then
      grep -E '^(Done|stat::number_of_executed_units)' "$fuzz_dir/fuzz-$target.log"
      stages+=("fuzz-$target:fuzz-ok")
    else
      tail -n 40 "$fuzz_dir/fuzz-$target.log"
      stages+=("fuzz-$target:fuzz-crashed")
    fi
  done
else
  stages+=("fuzz:build-failed")
fi

step "summary"
/usr/bin/python3 - "${stages[@]}" <<'PY'
import json
import os
import re
import sys

passed = failed = skipped = 0
for stage in sys.argv[1:]:
    label, outcome, *rest = stage.split(':')
    if outcome in ('setup-failed', 'build-failed'):
        print(f'{label}: {outcome} (counted as 1 failed)')
        failed += 1
        continue
    if outcome in ('fuzz-ok', 'fuzz-crashed'):  # one libFuzzer target's run
        ok = outcome == 'fuzz-ok'
        print(f'{label}: {"1 passed (no crash)" if ok else "1 failed (crash; see above)"}')
        passed += ok
        failed += not ok
        continue
    if outcome == 'built':
        print(f'{label}: built (tests not run in this build)')
        continue
    rc = int(outcome[len('tested-rc'):])
    log = os.path.join(rest[0], 'meson-logs', 'testlog.json')
    p = f = s = 0
    cases_ok = cases_bad = 0
    bad_names = []
    try:
        with open(log, encoding='utf-8') as fh:
            for line in fh:
                if not line.strip():
                    continue
                try:
                    test = json.loads(line)
                except ValueError:
                    test = {'name': 'unreadable testlog.json line', 'result': 'ERROR'}
                result = test.get('result')
                if result in ('OK', 'EXPECTEDFAIL'):
                    p += 1
                elif result == 'SKIP':
                    s += 1
                else:
                    f += 1
                    bad_names.append(f"{test.get('name')} ({result})")
                # TAP test cases inside each test, for information only.
                for out in (test.get('stdout') or '').splitlines():
                    if re.match(r'ok \d', out):
                        cases_ok += 1
                    elif re.match(r'not ok \d', out):
                        cases_bad += 1
    except FileNotFoundError:
        print(f'{label}: {log} is missing (counted as 1 failed)')
        f += 1
    if rc != 0 and f == 0:
        print(f'{label}: meson test exited {rc} with no failed test logged (counted as 1 failed)')
        f += 1
    if p + f + s == 0:
        print(f'{label}: no test ran (counted as 1 failed)')
        f += 1
    print(f'{label}: {p} passed, {f} failed, {s} skipped'
          f' (TAP cases: {cases_ok} ok, {cases_bad} not ok)')
    for name in bad_names:
        print(f'{label}:   failed: {name}')
    passed += p
    failed += f
    skipped += s

line = f'{passed} passed, {failed} failed'
if skipped:
    line += f', {skipped} skipped'
print(line)
sys.exit(1 if failed else 0)
PY
