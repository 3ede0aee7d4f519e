#!/bin/bash
# The main job of libreferral.
#
# On a fresh Debian 12 machine, as root:  bash scripts/main-job.sh
#
# Installs the packages it needs (scripts/install-deps.sh; skipped when they
# are all there), builds the library and the `referral` tool in build-main
# (optimised, without tests), then folds the example event stream
# examples/events/demo.jsonl under the example scheme examples/schemes/demo.ini
# and prints every member's balances as JSON Lines on standard output.  The
# build's output and the run's summary go to standard error.  Exits with the
# status of `referral run`: 0 when every event applied.
set -euo pipefail

cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."
export PATH="/usr/bin:/bin:/usr/sbin:/sbin:$PATH"

bash scripts/install-deps.sh >&2

options=(--buildtype=release -Dtests=false -Dexamples=false)
if [ -f build-main/meson-private/coredata.dat ]; then
  meson setup --reconfigure build-main "${options[@]}" >&2 \
    || { rm -rf build-main; meson setup build-main "${options[@]}" >&2; }
else
  rm -rf build-main
  meson setup build-main "${options[@]}" >&2
fi
ninja -C build-main >&2

echo "== referral run --scheme examples/schemes/demo.ini examples/events/demo.jsonl --balances -" >&2
exec build-main/tools/referral/referral run \
  --scheme examples/schemes/demo.ini examples/events/demo.jsonl --balances -
