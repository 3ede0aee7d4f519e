"""Docstrings everywhere, help(referral) reads well, stubs match the module."""

import ast
import inspect
import pathlib
import pydoc

import referral
from referral import _referral

STUB = pathlib.Path(referral.__file__).with_name("_referral.pyi")


def test_help_reads_well():
    text = pydoc.render_doc(referral, renderer=pydoc.plaintext)
    for expected in ("libreferral for Python", "Quick start", "class Engine",
                     "apply_columns", "class Rule", "class Scheme", "class Error",
                     "class Simulation", "simulate(",
                     "Money is never a float"):
        assert expected in text, expected
    engine_help = pydoc.render_doc(referral.Engine, renderer=pydoc.plaintext)
    assert "balances() -> list[dict]" in engine_help
    assert "Apply one event" in engine_help


def public_members(obj):
    for name, value in inspect.getmembers(obj):
        if not name.startswith("_"):
            yield name, value


def test_every_public_thing_has_a_docstring():
    missing = []
    for name in referral.__all__:
        obj = getattr(referral, name)
        if isinstance(obj, (int, str)) or name in ("Amount", "Member"):
            continue
        if not (obj.__doc__ or "").strip():
            missing.append(name)
        if inspect.isclass(obj) and not issubclass(obj, BaseException) \
                and not issubclass(obj, tuple):
            for member, value in public_members(obj):
                if member in ("name", "description", "params", "calls"):
                    continue  # Rule's class attributes
                if callable(value) or isinstance(value, property) or inspect.isdatadescriptor(
                        value) or inspect.isgetsetdescriptor(value) or inspect.ismemberdescriptor(
                        value):
                    doc = getattr(value, "__doc__", None)
                    if not (doc or "").strip():
                        missing.append(f"{name}.{member}")
    assert missing == []


def stub_tree():
    return ast.parse(STUB.read_text())


def stub_names():
    names = {}
    for node in stub_tree().body:
        if isinstance(node, ast.ClassDef):
            names[node.name] = {n.name for n in node.body
                                if isinstance(n, (ast.FunctionDef, ast.AnnAssign))
                                and not isinstance(n, ast.AnnAssign)} | {
                n.target.id for n in node.body if isinstance(n, ast.AnnAssign)}
        elif isinstance(node, ast.FunctionDef):
            names[node.name] = None
        elif isinstance(node, ast.AnnAssign):
            names[node.target.id] = None
    return names


def test_stub_covers_the_module():
    stubs = stub_names()
    runtime = {n for n in dir(_referral) if not n.startswith("__")}
    assert runtime - set(stubs) == set(), "names missing from _referral.pyi"
    assert {n for n in stubs if not n.startswith("_")} - runtime == set(), \
        "stubbed names that do not exist"
    for cls in ("Engine", "Scheme", "Ctx", "Setup", "Params", "Rate", "Reversal", "Simulation"):
        runtime_members = {n for n in vars(getattr(_referral, cls))
                           if not n.startswith("__") or n in ("__len__", "__contains__",
                                                              "__getitem__")}
        stubbed = {n for n in stubs[cls] if not n.startswith("__")
                   or n in ("__len__", "__contains__", "__getitem__")}
        assert runtime_members - stubbed == set(), f"{cls}: missing from the stub"
        assert stubbed - runtime_members == set(), f"{cls}: stubbed but not in the module"


def test_struct_sequence_fields_match_stub():
    stubs = stub_names()
    for cls in ("ApplyResult", "Posting", "RawPosting", "Order", "RawOrder", "RunSummary"):
        fields = set(getattr(_referral, cls).__match_args__)
        assert fields == stubs[cls], cls
