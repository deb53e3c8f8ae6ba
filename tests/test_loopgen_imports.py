"""The loop -> generator fix keeps the module's imports true to its annotations.

A new user's trial: `filtered: List[T] = []` turned into a generator lost its
annotation (no `Iterable` imported), and `List` stayed imported for nothing:
ruff's F401 on the fixed file.  Each fixed text here is checked with ruff too.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from eagerlint.pipeline import FixMode
from tests.helpers import run

LOOP = """
import torch


class Model:
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def load_weights(self, weights):
        filtered: {annotation} = []
        for name, w in weights:
            if name.startswith("vae."):
                continue
            filtered.append((name, w))
        return self.loader.load_weights(filtered)
"""
GENERATOR = """\
        def filtered() -> Iterable[Tuple[str, torch.Tensor]]:
            for name, w in weights:
                if name.startswith("vae."):
                    continue
                yield (name, w)

        return self.loader.load_weights(filtered())
"""


def ruff_findings(text: str) -> set[str]:
    """Ruff's import and line-length findings, without their positions."""
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--isolated", "--select", "F401,I001,E501",
         "--output-format", "concise", "--stdin-filename", "m.py", "-"],
        input=text, capture_output=True, text=True, check=False,
    )  # fmt: skip
    return {line.split(": ", 1)[1] for line in done.stdout.splitlines() if line.startswith("m.py:")}


def fixed(imports: str, annotation: str = "List[Tuple[str, torch.Tensor]]", extra: str = "") -> str:
    """The fixed text, which must give ruff nothing to say that the original did not."""
    source = imports + LOOP.format(annotation=annotation) + extra
    result = run(source, FixMode.SAFE)
    assert result.applied_fixes == 1 and result.fixed_source is not None
    assert ruff_findings(result.fixed_source) <= ruff_findings(source)
    return result.fixed_source


def test_list_gives_its_import_to_iterable() -> None:
    text = fixed("from typing import List, Tuple\n")
    assert text.startswith("from typing import Iterable, Tuple\n")
    assert GENERATOR in text


def test_iterable_goes_to_collections_abc_and_an_emptied_typing_import_goes() -> None:
    text = fixed("from collections.abc import Sequence\nfrom typing import List, Tuple\n")
    assert text.startswith("from collections.abc import Iterable, Sequence\nfrom typing import Tuple\n")
    text = fixed("from collections.abc import Sequence\nfrom typing import List\n", "List[tuple]")
    assert text.startswith("from collections.abc import Iterable, Sequence\n\nimport torch\n")
    assert "def filtered() -> Iterable[tuple]:" in text


def test_list_used_elsewhere_stays_imported() -> None:
    text = fixed("from typing import List, Tuple\n", extra="\n\ndef names() -> List[str]:\n    return []\n")
    assert text.startswith("from typing import Iterable, List, Tuple\n")
    assert GENERATOR in text


@pytest.mark.parametrize(
    ("imports", "first"),
    [
        (
            "from typing import TYPE_CHECKING, Any, List, Tuple, cast\n",
            "TYPE_CHECKING, Any, Iterable, Tuple, cast",
        ),
        ("from typing import Dict, List, Tuple  # types\n", "Dict, Iterable, Tuple  # types"),
    ],
)
def test_iterable_goes_where_isort_puts_it(imports: str, first: str) -> None:
    text = fixed(imports)
    assert text.startswith(f"from typing import {first}\n")


def test_with_nothing_to_import_into_the_annotation_goes_as_before() -> None:
    # A builtin `list[...]`: no import names it, none is added.
    text = fixed("", "list[tuple[str, torch.Tensor]]")
    assert "        def filtered():\n" in text


def test_the_title_says_what_the_imports_get() -> None:
    source = "from typing import List, Tuple\n" + LOOP.format(annotation="List[Tuple[str, torch.Tensor]]")
    (finding,) = run(source).findings
    assert finding.fix is not None
    assert finding.fix.message == (
        "Turn the loop into a generator `filtered()` that yields what it appended"
        " (importing `Iterable` for it in place of `List`)"
    )
