"""The small version of bench/tree_memory: eagerlint fixes the whole vLLM 0.23.0 tree,
and a few real model classes are loaded from random checkpoints, stock against fixed.

Runs the real vLLM code on CPU in the harness venv (bench/llama4_memory/setup.sh),
every measurement in a fresh process, through ``runai_safetensors_weights_iterator``
with RUNAI_STREAMER_MEMORY_LIMIT=0. Opt-in: EAGERLINT_REAL_VLLM=1. About 3 minutes.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

pytestmark = pytest.mark.skipif(
    os.environ.get("EAGERLINT_REAL_VLLM") != "1", reason="set EAGERLINT_REAL_VLLM=1 to run real vLLM"
)

BENCH = Path(__file__).resolve().parents[2] / "bench" / "tree_memory"
# Far above allocator noise for a full copy, small enough for a few fresh processes a minute.
SIZE_MIB = 48
MIB = 1 << 20


def load_driver() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tree_memory_run", BENCH / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def driver() -> ModuleType:
    return load_driver()


@pytest.fixture(scope="module")
def setup(driver: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    changes: dict[str, Any] = driver.trees.changes("0.23.0")
    py: str = driver.L4.venv_python()
    changes_file = tmp_path_factory.mktemp("tree-memory") / "changes.json"
    changes_file.write_text(driver.json.dumps(changes))
    affected = driver.run_venv(py, "affected.py", "--changes", str(changes_file))
    assert "error" not in affected, affected
    catalogue = driver.run_venv(py, "checkpoints.py", "--list")
    return {"py": py, "changes": changes, "affected": affected, "catalogue": catalogue}


def measured(driver: ModuleType, setup: dict[str, Any], family: str) -> dict[str, Any]:
    fam = next(f for f in setup["catalogue"]["families"] if f["family"] == family)
    args = driver.argparse.Namespace(size_mib=SIZE_MIB, malloc="pinned")
    row: dict[str, Any] = driver.measure_family(setup["py"], fam, setup["changes"], setup["affected"], args)
    assert "error" not in row, row.get("error")
    return row


def test_the_fixed_tree_changes_llama4(setup: dict[str, Any]) -> None:
    changed = {f"{f['path']}:{f['qualname']}" for f in setup["changes"]["levels"]["fix"]["functions"]}
    assert "vllm/model_executor/models/llama4.py:Llama4ForCausalLM.load_weights" in changed
    unsafe = {f["qualname"] for f in setup["changes"]["levels"]["unsafe"]["functions"]}
    assert "Llama4ForConditionalGeneration.load_weights" in unsafe
    assert "Llama4ForCausalLM" in setup["affected"]["levels"]["fix"]


def test_llama4_fixed_streams(driver: ModuleType, setup: dict[str, Any]) -> None:
    row = measured(driver, setup, "llama4-causal")
    stock, fixed = row["stock"], row["fix"]["result"]
    assert stock["transient_mib"] > 0.8 * row["checkpoint"]["total_bytes"] / MIB, stock
    assert fixed["transient_mib"] < stock["transient_mib"] / 4, (stock, fixed)
    assert fixed["state_sha256"] == stock["state_sha256"]
    # The fixed file's code is what ran.
    assert "vllm/model_executor/models/llama4.py:Llama4ForCausalLM.load_weights" in fixed["ran"]
    assert any("llama4.py" in f for f in fixed["variant_files"])
    assert not stock["untouched_params"] and not fixed["untouched_params"]


def test_bagel_loop_becomes_a_generator_and_streams(driver: ModuleType, setup: dict[str, Any]) -> None:
    """Bagel's loop that filters the generation tensors out into one list for
    AutoWeightsLoader becomes a generator under plain --fix (EL003, safe)."""
    row = measured(driver, setup, "bagel")
    stock, fix = row["stock"], row["fix"]
    assert fix is not None and fix["codes"] == ["EL003 (safe)"], fix
    fixed = fix["result"]
    assert stock["transient_mib"] > 0.8 * row["checkpoint"]["total_bytes"] / MIB, stock
    assert fixed["transient_mib"] < stock["transient_mib"] / 4, (stock, fixed)
    assert fixed["state_sha256"] == stock["state_sha256"]
    assert not fixed["untouched_params"]


def test_bert_splade_partition_is_unsafe_and_keeps_state(driver: ModuleType, setup: dict[str, Any]) -> None:
    """Plain --fix leaves BertSplade alone: its `list(weights)` is a step of the loop
    that splits every tensor into two lists (one finding, EL003), and that loop's
    rewrite into a generator with a side list is unsafe. With --unsafe-fixes the state
    is the same (the memory barely moves: BertModel.load_weights lists what it gets)."""
    row = measured(driver, setup, "bert-splade")
    assert row["fix"] is None
    unsafe = row["unsafe"]
    assert unsafe is not None and unsafe["codes"] == ["EL003 (unsafe)"], unsafe
    assert unsafe["result"]["state_sha256"] == row["stock"]["state_sha256"]
    assert not unsafe["result"]["untouched_params"]


@pytest.mark.parametrize("family", ["bert-embed", "eagle3-llama"])
def test_stock_materializes(driver: ModuleType, setup: dict[str, Any], family: str) -> None:
    row = measured(driver, setup, family)
    stock = row["stock"]
    assert stock["transient_mib"] > 0.8 * row["checkpoint"]["total_bytes"] / MIB, stock
    assert not stock["untouched_params"], stock["untouched_params"]
