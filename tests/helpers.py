"""Shared test helpers: run the pipeline on text, read fixture markers."""

from __future__ import annotations

import re
from pathlib import Path

from eagerlint.config import Settings
from eagerlint.model import FileResult
from eagerlint.pipeline import FixMode, check_bytes

# A helper of another module that keeps every element of the stream it is given.
KEEP_ALL_HELPER = """\
def keep_all(weights):
    kept = []
    for name, w in weights:
        kept.append((name, w))
    return kept
"""

MARKER = re.compile(r"#\s*(EL\d{3}(?:\s*,\s*EL\d{3})*)\s*$")


def run(
    source: str, mode: FixMode = FixMode.NONE, filename: str = "t.py", extend: tuple[str, ...] = ()
) -> FileResult:
    """`extend`: rule codes to enable besides the default ones (`extend-select`)."""
    result = check_bytes(source.encode(), filename, Settings(root=Path.cwd(), extend_select=extend), mode)
    assert result.error is None, result.error
    return result


def expected_markers(source: str) -> set[tuple[int, str]]:
    out = set()
    for row, line in enumerate(source.splitlines(), 1):
        match = MARKER.search(line)
        if match:
            for code in re.split(r"\s*,\s*", match.group(1)):
                out.add((row, code))
    return out


def reported(result: FileResult) -> set[tuple[int, str]]:
    return {(f.location.row, f.code) for f in result.findings}


def fixed_text(source: str, mode: FixMode = FixMode.SAFE, extend: tuple[str, ...] = ()) -> str:
    result = run(source, mode, extend=extend)
    return result.fixed_source if result.fixed_source is not None else source


def all_subclasses(cls: type) -> list[type]:
    """Every class that derives from `cls`, however indirectly."""
    found: list[type] = []
    todo = [cls]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.append(sub)
            todo.append(sub)
    return found
