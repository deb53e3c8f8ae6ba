"""Fixtures for the tests that run real vLLM code (opt-in: EAGERLINT_REAL_VLLM=1)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def fixed_llama4_variant() -> Path:
    """A directory holding fixed vLLM 0.23.0 ``llama4.py`` and ``mllama4.py``.

    For now taken from EAGERLINT_FIXED_VARIANT; to be replaced by running eagerlint's
    fixer on the 0.23.0 sources.
    """
    path = os.environ.get("EAGERLINT_FIXED_VARIANT")
    if not path:
        pytest.skip("EAGERLINT_FIXED_VARIANT is not set")
    variant = Path(path)
    if not all((variant / f).is_file() for f in ("llama4.py", "mllama4.py")):
        pytest.fail(f"EAGERLINT_FIXED_VARIANT={path} must hold llama4.py and mllama4.py")
    return variant
