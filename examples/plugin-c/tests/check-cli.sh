#!/bin/sh
# check-cli.sh REFERRAL SCHEME EVENTS EXPECTED: runs `referral run` on a
# scheme that loads a plugin and compares its --balances output with
# EXPECTED, byte for byte.
set -eu
out=$("$1" run --scheme "$2" --balances - "$3" 2>/dev/null | grep '^{')
expected=$(cat "$4")
if [ "$out" != "$expected" ]; then
  echo "balances differ for $2:" >&2
  echo "$out" >&2
  exit 1
fi
echo "ok: $2"
