"""Shared fixtures of the Python binding's tests.

meson test sets PYTHONPATH to the build tree's package, REFERRAL_CLI to the
built `referral` tool and REFERRAL_SOURCE_DIR to the source tree.
"""

import json
import os
import pathlib
import subprocess

import pytest

import referral

SOURCE_DIR = pathlib.Path(os.environ.get(
    "REFERRAL_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[3]))
CLI = os.environ.get("REFERRAL_CLI")
SANITIZED = os.environ.get("REFERRAL_SANITIZED") == "1"
EVENTS_DIR = SOURCE_DIR / "examples" / "events"


def read_jsonl(path):
    """The JSON objects of a JSON Lines file, skipping blank and # lines."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip() and not line.lstrip().startswith("#"):
                out.append(json.loads(line))
    return out


def write_jsonl(path, events):
    with open(path, "w", encoding="utf-8") as f:
        for e in events:
            f.write(json.dumps(e, ensure_ascii=False) + "\n")


def run_cli(*args, check=False):
    """Runs the built `referral` tool."""
    if CLI is None:
        pytest.skip("REFERRAL_CLI is not set (run through meson test)")
    return subprocess.run([CLI, *map(str, args)], capture_output=True, text=True, check=check)


def apply_all(engine, events):
    """Applies every event, collecting rejection messages (keep-going)."""
    messages = []
    for e in events:
        try:
            engine.apply(e)
        except referral.Error as exc:
            messages.append(str(exc))
    return messages


@pytest.fixture
def chain21():
    return referral.Engine("chain21")


@pytest.fixture
def demo():
    return referral.Engine("demo")
