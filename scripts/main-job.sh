#!/bin/bash
# The main job of libreferral.
#
# On a fresh Debian 12 machine, as root:  bash scripts/main-job.sh
#
# Installs the packages it needs (scripts/install-deps.sh; skipped when they
# are all there), builds the library and the `referral` tool in build-main
# (optimised, without tests), then simulates the chain 2+1 scheme on a
# market of 100,000 people for 60 days (seed 1): it writes every member,
# every posting, the daily metrics and the run's parameters to the SQLite
# database chain21.sqlite (in the root of the checkout, replaced if it
# exists) and prints the report on standard output.  The build's output and
# the progress go to standard error.  Exits with the status of
# `referral simulate`: 0 on success.
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

run=(build-main/tools/referral/referral simulate --scheme chain21
     --members 100000 --days 60 --seed 1 --db chain21.sqlite --force)
echo "== referral ${run[*]:1}" >&2
exec "${run[@]}"
