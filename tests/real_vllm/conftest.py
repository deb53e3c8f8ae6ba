"""Fixtures for the tests that run real vLLM code (opt-in: EAGERLINT_REAL_VLLM=1; `make test` sets it)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def fixed_llama4_variant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """vLLM 0.23.0's ``llama4.py`` and ``mllama4.py`` as eagerlint fixes them (fixes/regenerate.py)."""
    sys.path.insert(0, str(ROOT / "fixes"))
    try:
        import regenerate
    finally:
        sys.path.remove(str(ROOT / "fixes"))
    target = tmp_path_factory.mktemp("eagerlint-fixed")
    regenerate.apply(target)
    yield target.resolve()
