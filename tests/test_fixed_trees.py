"""A fix is judged by what remains: on whole engine releases, every function that
`eagerlint --fix` (and `--fix --unsafe-fixes`) changes no longer keeps its stream
when the fixed tree is checked again, and the fixed files still parse.

The releases come from their PyPI wheels (bench/vllm_source.py, cached outside
the repository); each is copied to a scratch folder before it is fixed.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import vllm_source  # noqa: E402

RELEASES = [("vllm", "0.33.0"), ("sglang", "0.5.23")]
# The rules whose findings say that a stream is kept (the ones fixes act on).
KEEPING = {"EL001", "EL002", "EL003", "EL004"}


def eagerlint(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "eagerlint", "check", "--no-cache", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )


def functions(source: str) -> dict[str, str]:
    """`Class.method` / `function` -> its source text, for every def in a module."""
    tree = ast.parse(source)
    found: dict[str, str] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found[f"{prefix}{child.name}"] = ast.get_source_segment(source, child) or ""

    visit(tree, "")
    return found


def stream(finding: dict[str, object]) -> tuple[str, str, str]:
    """A finding's stream: its file, its function, and where the stream came from."""
    flow = finding["flow"]
    assert isinstance(flow, list) and flow
    return str(finding["filename"]), str(finding["scope"]), str(flow[0]["note"])


def changed_functions(before: Path, after: Path) -> set[tuple[str, str]]:
    changed: set[tuple[str, str]] = set()
    for fixed in after.rglob("*.py"):
        rel = fixed.relative_to(after)
        old, new = (before / rel).read_text(), fixed.read_text()
        if old == new:
            continue
        ast.parse(new)  # every fixed file still parses
        a, b = functions(old), functions(new)
        changed |= {(rel.as_posix(), name) for name in a.keys() & b.keys() if a[name] != b[name]}
    return changed


@pytest.mark.parametrize("unsafe", [False, True], ids=["fix", "unsafe-fixes"])
@pytest.mark.parametrize(("project", "version"), RELEASES)
def test_fixed_functions_no_longer_keep_their_stream(
    project: str, version: str, unsafe: bool, tmp_path: Path
) -> None:
    package = vllm_source.package(project)
    src = vllm_source.source(version, project)
    levels = {"safe", "unsafe"} if unsafe else {"safe"}
    before = json.loads(eagerlint(package, "--output-format", "json", "--exit-zero", cwd=src).stdout)
    fixed_streams = {stream(f) for f in before if f["fix"] and f["fix"]["applicability"] in levels}
    shutil.copytree(src / package, tmp_path / "fixed" / package)
    fixed = tmp_path / "fixed"
    flags = ["--fix", "--unsafe-fixes"] if unsafe else ["--fix"]
    run = eagerlint(package, *flags, "--exit-zero", "--quiet", "--output-format", "concise", cwd=fixed)
    assert run.returncode == 0, run.stderr
    changed = changed_functions(src, fixed)
    assert changed and fixed_streams, "the fix changed nothing: this test would prove nothing"
    after = json.loads(eagerlint(package, "--output-format", "json", "--exit-zero", cwd=fixed).stdout)
    kept = [f for f in after if f["code"] in KEEPING]
    # No stream that was fixed is still reported as kept...
    assert not {stream(f) for f in kept} & fixed_streams
    # ...and no function the fix changed keeps a stream.
    assert not {(f["filename"], f["scope"]) for f in kept} & changed
    # Nothing that was fixed is offered again: a second run changes nothing.
    second = eagerlint(package, *flags, "--exit-zero", "--quiet", "--diff", cwd=fixed)
    assert second.stdout == "", second.stdout[:2000]
