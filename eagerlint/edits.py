"""Apply fix edits to text (`writeback.py` turns the result into bytes and files).

Every position is an offset into the text before any edit, and the text is cut at
the accepted edits once; a fix whose edits overlap an already accepted fix waits
for the next round (the pipeline re-analyses and tries again, as ruff does), and a
fix whose own edits overlap is never applied.  Identical edits shared by two
findings are applied once.
"""

from __future__ import annotations

import bisect
import itertools
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
    """The rewritten source and the indices (into `fixes`) of the fixes applied.

    Linear in the text and about F log F in the fixes: the text is cut once at the
    accepted edits and joined, and a fix is tested against the accepted edits
    around its own (rebuilding the text per edit, or testing every accepted edit,
    made a 100 MB file with 1,211 fixes take 641 s here)."""
    starts = _offsets(source)
    accepted = _Accepted()
    applied: list[int] = []
    for i in sorted(range(len(fixes)), key=lambda i: min(e.location for e in fixes[i].edits)):
        spans = sorted(
            {
                (_offset(starts, e.location), _offset(starts, e.end_location), e.content)
                for e in fixes[i].edits
            }
        )
        fresh = [s for s in spans if s not in accepted.edits]
        if _self_overlapping(fresh) or any(accepted.overlaps(s) for s in fresh):
            continue
        for span in fresh:
            accepted.add(span)
        applied.append(i)
    pieces: list[str] = []
    at = 0
    for start, end, content in accepted.in_order():
        pieces += (source[at:start], content)
        at = end
    pieces.append(source[at:])
    return "".join(pieces), sorted(applied)


Span = tuple[int, int, str]  # start and end offsets, the new text


def _overlaps(a: Span, b: Span) -> bool:
    """Two edits that cannot both be applied: their ranges share a character, or they
    replace the same range (two insertions at one place included)."""
    return (a[0] < b[1] and b[0] < a[1]) or (a[0] == b[0] and a[1] == b[1])


def _self_overlapping(spans: list[Span]) -> bool:
    """Whether two edits of one fix overlap (`spans` sorted): such a fix is never applied."""
    return any(_overlaps(a, b) for a, b in itertools.pairwise(spans))


class _Accepted:
    """Accepted edits, no two overlapping, kept in order of their ranges: by start,
    then end.  Since none overlaps another, their ends are in that order too, so an
    edit overlaps one of them only if it overlaps the last one starting before it ends
    (or replaces the same range as one)."""

    def __init__(self) -> None:
        self.edits: set[Span] = set()
        self._ranges: set[tuple[int, int]] = set()
        self._sorted: list[tuple[int, int]] = []

    def overlaps(self, span: Span) -> bool:
        start, end, _ = span
        if (start, end) in self._ranges:
            return True
        before = bisect.bisect_left(self._sorted, (end, -1))  # those starting before `end`
        return before > 0 and self._sorted[before - 1][1] > start

    def add(self, span: Span) -> None:
        self.edits.add(span)
        self._ranges.add((span[0], span[1]))
        bisect.insort(self._sorted, (span[0], span[1]))

    def in_order(self) -> list[Span]:
        return sorted(self.edits)
