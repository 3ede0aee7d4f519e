"""`meson install` puts a package Debian's python3 imports and that works."""

import os
import shutil
import subprocess
import sys

import pytest

BUILD = os.environ.get("REFERRAL_BUILD_DIR")
PYDIR = os.environ.get("REFERRAL_PY_INSTALL_DIR")
LIBDIR = os.environ.get("REFERRAL_LIBDIR")

pytestmark = pytest.mark.skipif(None in (BUILD, PYDIR, LIBDIR) or shutil.which("meson") is None,
                                reason="run through meson test")


def test_installed_package_imports(tmp_path):
    dest = tmp_path / "dest"
    out = subprocess.run(["meson", "install", "-C", BUILD, "--no-rebuild", "--quiet",
                          "--destdir", str(dest)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    package = dest / PYDIR.lstrip("/")
    assert sorted(p.name for p in package.iterdir()) == sorted([
        "__init__.py", "_referral.pyi", "py.typed",
        next(p.name for p in package.iterdir() if p.name.startswith("_referral.cpython"))])
    # The install directory is one Debian's interpreter searches (for this
    # prefix), so nothing but DESTDIR has to be added here.
    probe = subprocess.run([sys.executable, "-c", "import sys; print('\\n'.join(sys.path))"],
                           capture_output=True, text=True, check=True)
    assert os.path.dirname(PYDIR) in probe.stdout.split("\n")
    env = dict(os.environ, PYTHONPATH=str(package.parent),
               LD_LIBRARY_PATH=str(dest / LIBDIR.lstrip("/")))
    script = ("import referral, sys\n"
              "assert referral.__file__.startswith(sys.argv[1]), referral.__file__\n"
              "e = referral.Engine('chain21')\n"
              "e.join('A'); e.promote('A', 'partner'); e.join('B', 'A')\n"
              "e.order('o1', 'B', '699.00', sku='gift')\n"
              "print(e.available('A'))\n")
    run = subprocess.run([sys.executable, "-c", script, str(dest)], capture_output=True,
                         text=True, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "240.00"
