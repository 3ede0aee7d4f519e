#!/bin/bash
# Install the Debian 12 packages libreferral needs to build, test and run
# its main job.  Does nothing (and needs no network) when every package is
# already installed; otherwise runs apt-get update once, then apt-get install.
# Must run as root, or as a user with sudo, when something is missing.
# Recommends are not installed, so everything needed is named here (gcc
# only recommends libc6-dev).
set -euo pipefail

# Whoever adds a dependency to a meson.build adds its Debian package here.
packages=(
  meson ninja-build pkg-config gcc libc6-dev clang make
  check libglib2.0-dev libjson-glib-dev
  libsqlite3-dev          # the referral tool's SQLite output
  sqlite3                 # to query that output (chain21.sqlite of the main job)
  python3 python3-dev python3-pytest  # the build's scripts; bindings/python
  python3-numpy python3-pandas python3-matplotlib  # bindings/python: arrays, frames, plots
  lua5.4 liblua5.4-dev    # bindings/lua (the interpreter runs its tests)
)

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  if [ "$status" != "install ok installed" ]; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "install-deps: missing packages (${missing[*]}) and not root; run as root" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
