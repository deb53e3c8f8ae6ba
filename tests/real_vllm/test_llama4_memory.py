"""The fixed Llama4 files stop load_weights from holding the checkpoint in host RAM.

Runs the real vLLM 0.23.0 code on CPU through bench/llama4_memory (a separate
venv, built on first use by its setup.sh, ~1 min) on small random checkpoints,
with the runai loader, whose private copies make materialization visible.
Opt-in: EAGERLINT_REAL_VLLM=1.
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

BENCH = Path(__file__).resolve().parents[2] / "bench" / "llama4_memory"
# Big enough that the stock copy (~= checkpoint size) stands far above the few MiB
# of allocator noise; small enough that the whole test takes about a minute.
SIZE_MIB = 64


def load_driver() -> ModuleType:
    spec = importlib.util.spec_from_file_location("llama4_memory_run", BENCH / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def driver() -> ModuleType:
    return load_driver()


@pytest.fixture(scope="module")
def venv_python(driver: ModuleType) -> str:
    py: str = driver.venv_python()
    return py


@pytest.mark.parametrize("cls", ["causal", "conditional"])
def test_fixed_variant_streams_weights(
    cls: str, driver: ModuleType, venv_python: str, fixed_llama4_variant: Path
) -> None:
    ckpt: dict[str, Any] = driver.ensure_checkpoint(venv_python, cls, SIZE_MIB)
    runai = next(c for c in driver.LOADER_CASES if c.label == "runai")
    stock = driver.measure(venv_python, cls, ckpt["dir"], runai, "stock")
    fixed = driver.measure(venv_python, cls, ckpt["dir"], runai, str(fixed_llama4_variant))

    # The measurement really used the variant's file, not vLLM's own.
    assert Path(fixed["module_file"]).parent == fixed_llama4_variant.resolve(), fixed["module_file"]
    assert not stock["missing_params"] and not fixed["missing_params"]
    # Stock holds a private copy of about the whole checkpoint.
    assert stock["transient_mib"] > 0.5 * ckpt["total_bytes"] / (1 << 20), stock
    assert fixed["transient_mib"] < stock["transient_mib"] / 4, (stock, fixed)
    assert fixed["state_sha256"] == stock["state_sha256"]
