#!/bin/bash
# Install test: an installed copy of libreferral is usable through pkg-config
# alone.
#
#   check-install.sh SOURCE_DIR BUILD_DIR IN_TREE_EXAMPLE SANITIZE CC...
#
# 1. `meson install --destdir` the build into a temporary directory;
# 2. point pkg-config at the installed referral.pc (relocated into the
#    destdir when meson wrote an absolute prefix; see below);
# 3. build examples/ledger-demo.c with examples/Makefile, i.e. with nothing
#    but `pkg-config --cflags --libs referral` (plus -fsanitize=SANITIZE in
#    sanitized builds, whose library needs the sanitizer runtime);
# 4. run it against the installed library (checked with ldd) and compare its
#    output with the in-tree build of the same program.
#
# Exit status: 0 pass, 1 fail, 77 skip (only when no C compiler is given).
set -euo pipefail

if [ $# -lt 5 ]; then
  echo "usage: $0 SOURCE_DIR BUILD_DIR IN_TREE_EXAMPLE SANITIZE CC..." >&2
  exit 1
fi
src=$1 build=$2 in_tree=$3 sanitize=$4
shift 4
cc=("$@")

fail() { echo "install test: FAIL: $*" >&2; exit 1; }

if ! command -v "${cc[0]}" >/dev/null 2>&1; then
  echo "install test: SKIP: no C compiler ${cc[0]}"
  exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/referral-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root

# 1. install
if ! meson install -C "$build" --destdir "$root" > "$tmp/install.log" 2>&1; then
  cat "$tmp/install.log" >&2
  fail "meson install --destdir failed"
fi

# 2. pkg-config
pc=$(find "$root" -path '*/pkgconfig/referral.pc' | head -n 1)
[ -n "$pc" ] || fail "no pkgconfig/referral.pc under the destdir"
pcdir=$(dirname "$pc")
echo "installed: ${pc#"$root"}"
if grep -q '^prefix=\${pcfiledir}' "$pc"; then
  # A relocatable .pc (meson -Dpkgconfig.relocatable=true) works in place.
  export PKG_CONFIG_PATH=$pcdir
else
  # meson wrote the configured prefix (say /usr/local) into the .pc, which is
  # right once installed there but not in a staging destdir; pkg-config's
  # own relocation (--define-prefix, PKG_CONFIG_SYSROOT_DIR) would also move
  # glib's paths.  So stage a copy whose prefix is the destdir's.
  prefix=$(sed -n 's/^prefix=//p' "$pc")
  case $prefix in
    /*) ;;
    *) fail "referral.pc has no absolute prefix (prefix=$prefix)" ;;
  esac
  mkdir -p "$tmp/pkgconfig"
  sed "s|^prefix=.*|prefix=$root$prefix|" "$pc" > "$tmp/pkgconfig/referral.pc"
  export PKG_CONFIG_PATH=$tmp/pkgconfig
fi
cflags=$(pkg-config --cflags referral) || fail "pkg-config --cflags referral failed"
libs=$(pkg-config --libs referral) || fail "pkg-config --libs referral failed"
libdir=$(pkg-config --variable=libdir referral)
echo "pkg-config --cflags --libs referral: $cflags $libs"
case " $cflags " in
  *" -I$root/"*) ;;
  *) fail "pkg-config --cflags does not point into the installed copy" ;;
esac
case "$libdir" in
  "$root"/*) ;;
  *) fail "the .pc's libdir $libdir is not in the installed copy" ;;
esac
[ -e "$libdir/libreferral.so" ] || fail "$libdir/libreferral.so was not installed"

# 3. build the example out of tree
extra=()
if [ "$sanitize" != none ]; then
  extra+=("-fsanitize=$sanitize")
fi
mkdir -p "$tmp/work"
if command -v make >/dev/null 2>&1; then
  make -C "$tmp/work" -f "$src/examples/Makefile" \
    CC="${cc[*]}" CFLAGS="-O2 -g -Wall -Wextra -Werror ${extra[*]}" ledger-demo \
    || fail "building the example with examples/Makefile failed"
else
  # shellcheck disable=SC2086 # pkg-config output is a list of words
  "${cc[@]}" -O2 -g -Wall -Wextra -Werror "${extra[@]}" $cflags \
    -o "$tmp/work/ledger-demo" "$src/examples/ledger-demo.c" $libs \
    || fail "compiling the example failed"
fi

# 4. run it against the installed library only
export LD_LIBRARY_PATH=$libdir
resolved=$(ldd "$tmp/work/ledger-demo" | awk '$1 ~ /^libreferral\.so/ { print $3 }')
case "$resolved" in
  "$root"/*) echo "libreferral resolves to ${resolved#"$root"} in the destdir" ;;
  *) fail "libreferral resolves to '$resolved', not to the installed copy" ;;
esac
"$tmp/work/ledger-demo" > "$tmp/installed.out" || fail "the installed-copy example exited $?"
(unset LD_LIBRARY_PATH; "$in_tree" > "$tmp/in-tree.out") \
  || fail "the in-tree example exited $?"
if ! diff -u "$tmp/in-tree.out" "$tmp/installed.out"; then
  fail "the installed-copy example prints something else than the in-tree build"
fi
[ -s "$tmp/installed.out" ] || fail "the example printed nothing"
echo "install test: OK ($(wc -l < "$tmp/installed.out") lines of identical output)"
