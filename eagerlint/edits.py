"""Apply fix edits to text (`writeback.py` turns the result into bytes and files).

Edits are applied from the end of the file backwards so earlier positions stay
valid; a fix whose edits overlap an already accepted fix waits for the next
round (the pipeline re-analyses and tries again, as ruff does).  Identical
edits shared by two findings are applied once.
"""

from __future__ import annotations

from collections.abc import Sequence

from eagerlint.model import Fix, Position
from eagerlint.outline import split_lines


def _offsets(source: str) -> list[int]:
    starts = [0]
    for line in split_lines(source):
        starts.append(starts[-1] + len(line))
    return starts


def _offset(starts: list[int], pos: Position) -> int:
    return starts[pos.row - 1] + pos.column - 1


def text_between(lines: Sequence[str], start: Position, end: Position) -> str:
    """The text of `lines` (each with its line ending) from `start` up to `end`."""
    if start.row == end.row:
        return lines[start.row - 1][start.column - 1 : end.column - 1]
    first = lines[start.row - 1][start.column - 1 :]
    middle = "".join(lines[start.row : end.row - 1])
    return first + middle + lines[end.row - 1][: end.column - 1]


def apply_fixes(source: str, fixes: list[Fix]) -> tuple[str, int]:
    """The rewritten source and the number of fixes applied."""
    text, applied = applied_fixes(source, fixes)
    return text, len(applied)


def applied_fixes(source: str, fixes: list[Fix]) -> tuple[str, list[int]]:
    """The rewritten source and the indices (into `fixes`) of the fixes applied."""
    starts = _offsets(source)
    accepted: list[tuple[int, int, str]] = []
    applied: list[int] = []
    for i in sorted(range(len(fixes)), key=lambda i: min(e.location for e in fixes[i].edits)):
        spans = sorted(
            {
                (_offset(starts, e.location), _offset(starts, e.end_location), e.content)
                for e in fixes[i].edits
            }
        )
        fresh = [s for s in spans if s not in accepted]
        if any(_overlaps(s, a) for s in fresh for a in accepted):
            continue
        accepted.extend(fresh)
        applied.append(i)
    text = source
    for start, end, content in sorted(accepted, reverse=True):
        text = text[:start] + content + text[end:]
    return text, sorted(applied)


def _overlaps(a: tuple[int, int, str], b: tuple[int, int, str]) -> bool:
    return (a[0] < b[1] and b[0] < a[1]) or (a[0] == b[0] and a[1] == b[1])
