"""The shape of the house: semantics below, rules on top, one engine between.

Read from the source with `ast`, so a lazy import inside a function counts too.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from eagerlint.model import FixPlan
from eagerlint.rules import RULES
from eagerlint.rules.base import Rule

PACKAGE = Path(__file__).resolve().parents[1] / "eagerlint"
MODULES = sorted(PACKAGE.rglob("*.py"))


def dotted(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """Every module `path` imports, anywhere in the file, as absolute names."""
    found: set[str] = set()
    package = dotted(path) if path.name == "__init__.py" else dotted(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*up, base] if base else up)
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return found


def imports_rules(path: Path) -> bool:
    return any(name == "eagerlint.rules" or name.startswith("eagerlint.rules.") for name in imported(path))


@pytest.mark.parametrize("path", [p for p in MODULES if "analysis" in p.parts], ids=dotted)
def test_analysis_imports_no_rule(path: Path) -> None:
    assert not imports_rules(path)


def test_only_the_engine_imports_the_rules() -> None:
    outside = [dotted(p) for p in MODULES if "rules" not in p.parts and imports_rules(p)]
    assert outside == ["eagerlint.engine"]


@pytest.mark.parametrize("path", sorted((PACKAGE / "rules").glob("el[0-9]*.py")), ids=dotted)
def test_no_rule_imports_another_rule(path: Path) -> None:
    rules = {n for n in imported(path) if n.startswith("eagerlint.rules.")}
    assert rules <= {"eagerlint.rules.base", "eagerlint.rules.base.Match", "eagerlint.rules.base.Rule"}


CODE = re.compile(r"\bEL\d{3}\b")


@pytest.mark.parametrize(
    "path", [p for p in MODULES if "rules" not in p.parts and p.name != "codes.py"], ids=dotted
)
def test_no_rule_code_outside_the_rules(path: Path) -> None:
    tree = ast.parse(path.read_text())
    docstrings = {
        id(n.body[0].value)
        for n in ast.walk(tree)
        if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
        and n.body
        and isinstance(n.body[0], ast.Expr)
        and isinstance(n.body[0].value, ast.Constant)
    }
    literals = [
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant)
        and isinstance(n.value, str)
        and id(n) not in docstrings
        and CODE.search(n.value)
    ]
    assert literals == []


def record_types(suffix: str) -> list[str]:
    return sorted(
        n.name
        for p in MODULES
        for n in ast.walk(ast.parse(p.read_text()))
        if isinstance(n, ast.ClassDef) and n.name.endswith(suffix)
    )


def test_one_rule_record_and_one_fix_plan_record() -> None:
    assert record_types("Rule") == ["Rule"]
    assert record_types("Plan") == ["FixPlan"]
    assert all(isinstance(r, Rule) for r in RULES)


def test_every_rewrite_returns_a_fix_plan() -> None:
    import inspect

    from eagerlint.rewrites import genexp, partition, unwrap

    for module in (genexp, partition, unwrap):
        assert inspect.signature(module.plan).return_annotation == FixPlan.__name__, module.__name__


def test_a_rule_needs_a_hook_and_unit_triggers() -> None:
    with pytest.raises(ValueError, match="at least one hook"):
        Rule("EL900", "nothing", "doc", "it costs")
    with pytest.raises(ValueError, match="unit_triggers"):
        Rule("EL900", "nothing", "doc", "it costs", on_unit=lambda func, owner, view: iter(()))
    with pytest.raises(ValueError, match="cost"):
        Rule("EL900", "nothing", "doc", "", on_event=lambda event, view: iter(()))
