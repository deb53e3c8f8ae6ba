"""eagerlint on vLLM's real Llama4 files (wheels fetched once into a cache).

0.23.0 is the last release with the bug; 0.24.0 fixed both files by hand.
"""

from __future__ import annotations

import ast
import difflib
import sys
from pathlib import Path

import pytest

from eagerlint.model import Applicability
from eagerlint.pipeline import FixMode
from tests.helpers import run

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import vllm_source

MODELS = "vllm/model_executor/models"


@pytest.fixture(scope="module")
def v23() -> Path:
    return vllm_source.source("0.23.0") / MODELS


@pytest.fixture(scope="module")
def v24() -> Path:
    return vllm_source.source("0.24.0") / MODELS


def method(source: str, cls: str, name: str) -> ast.FunctionDef:
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef) and node.name == cls:
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == name:
                    return item
    raise LookupError(f"{cls}.{name}")


def test_llama4_one_safe_finding_fixed_like_upstream(v23: Path, v24: Path) -> None:
    source = (v23 / "llama4.py").read_text()
    result = run(source, filename="llama4.py")
    assert [(f.code, f.location.row) for f in result.findings] == [("EL001", 802)]
    fix = result.findings[0].fix
    assert fix is not None and fix.applicability is Applicability.SAFE

    fixed = run(source, FixMode.SAFE).fixed_source
    assert fixed is not None
    ours = method(fixed, "Llama4ForCausalLM", "load_weights")
    upstream = method((v24 / "llama4.py").read_text(), "Llama4ForCausalLM", "load_weights")
    # ast.dump ignores comments and layout; the end positions differ only by the comment lines.
    assert ast.dump(ours, include_attributes=False) == ast.dump(upstream, include_attributes=False)

    changed = [
        line
        for line in difflib.unified_diff(source.splitlines(), fixed.splitlines(), lineterm="", n=0)
        if line.startswith(("+", "-")) and not line.startswith(("+++", "---"))
    ]
    assert changed == ["-        weights = [", "+        weights = (", "-        ]", "+        )"]


def test_mllama4_both_helper_drains_reported_at_the_calls(v23: Path) -> None:
    source = (v23 / "mllama4.py").read_text()
    result = run(source, filename="mllama4.py")
    load = method(source, "Llama4ForConditionalGeneration", "load_weights")
    assert load.end_lineno is not None
    drains = [f for f in result.findings if f.code == "EL004"]
    assert [f.location.row for f in drains] == [1103, 1109]
    assert all(load.lineno <= f.location.row <= load.end_lineno for f in drains)
    assert "_separate_and_rename_weights" in drains[0].message
    assert "_handle_expert_scale_broadcasting" in drains[1].message
    # The flow leads from the stream into each helper's keeping loop.
    assert drains[0].flow[0].location.row == 1086
    assert any(step.location.row in range(983, 1004) for step in drains[0].flow)
    assert any(step.location.row in range(1005, 1041) for step in drains[1].flow)


@pytest.mark.parametrize("name", ["llama4.py", "mllama4.py"])
def test_upstream_fixed_files_are_clean(v24: Path, name: str) -> None:
    assert run((v24 / name).read_text(), filename=name).findings == ()


def test_retained_view_finds_the_side_buffers_of_the_024_fix(v24: Path) -> None:
    """Issue 14: 0.24.0's mllama4 streams the language model and keeps the vision/projector
    weights and expert scales as yielded; `bench/llama4_memory` measures 22 of 340
    parameters loading NaN under a reusing loader, and none once they are cloned."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench" / "llama4_memory"))
    import upstream_variant

    def kept(source: str) -> list[str]:
        findings = run(source, filename="mllama4.py", extend=("EL010",)).findings
        return [f.message.split("`")[1] for f in findings if f.code == "EL010"]

    source = (v24 / "mllama4.py").read_text()
    # `_consolidate_qkv_weights` keeps q/k/v until the stream ends, then concatenates them.
    assert kept(source) == ["qkv_weights", "other_weights", "expert_scale_weights"]
    assert kept(upstream_variant.clone_side_buffers(source)) == ["qkv_weights"]
