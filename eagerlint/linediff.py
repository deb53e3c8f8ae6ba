"""A unified diff of two line lists that stays fast on big files.

`difflib.unified_diff` matches the whole files at once; on a generated 3 MB module
of repeated model classes that took 107 s of a 136 s `--diff`.  Here lines that
occur exactly once in each file anchor the match (patience diff: the longest
increasing run of such pairs), a few thousand lines apart, and
`difflib.SequenceMatcher` only matches the stretches between two anchors.  The
hunks are grouped by difflib's own `get_grouped_opcodes` and printed as
`difflib.unified_diff` prints them.
"""

from __future__ import annotations

import bisect
import difflib
from collections import Counter
from collections.abc import Iterator, Sequence

Opcode = tuple[str, int, int, int, int]


def unified(
    a: Sequence[bytes], b: Sequence[bytes], fromfile: bytes, tofile: bytes, n: int = 3
) -> Iterator[bytes]:
    """The lines of a unified diff `a` -> `b` (each line of `a`/`b` with its ending)."""
    groups = _Matched(opcodes(a, b)).get_grouped_opcodes(n)
    started = False
    for group in groups:
        if not started:
            started = True
            yield b"--- " + fromfile + b"\n"
            yield b"+++ " + tofile + b"\n"
        first, last = group[0], group[-1]
        yield b"@@ -" + _range(first[1], last[2]) + b" +" + _range(first[3], last[4]) + b" @@\n"
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                yield from (b" " + line for line in a[i1:i2])
                continue
            if tag in ("replace", "delete"):
                yield from (b"-" + line for line in a[i1:i2])
            if tag in ("replace", "insert"):
                yield from (b"+" + line for line in b[j1:j2])


# Stretches of about this many lines are matched by difflib alone: a file shorter
# than this gets exactly `difflib.unified_diff`'s hunks.
STRETCH = 2000


def opcodes(a: Sequence[bytes], b: Sequence[bytes], stretch: int = STRETCH) -> list[Opcode]:
    """`SequenceMatcher.get_opcodes()` for `a` -> `b`, matched between unique anchors
    at least `stretch` lines apart."""
    out: list[Opcode] = []
    i0 = j0 = 0
    anchors = _spaced(_anchors(a, b), stretch) if len(a) > stretch else []
    for i, j in [*anchors, (len(a), len(b))]:
        matched = difflib.SequenceMatcher(None, a[i0:i], b[j0:j]).get_opcodes()
        out += [(tag, i1 + i0, i2 + i0, j1 + j0, j2 + j0) for tag, i1, i2, j1, j2 in matched]
        if i < len(a):
            out.append(("equal", i, i + 1, j, j + 1))
        i0, j0 = i + 1, j + 1
    return _merged(out)


def _spaced(anchors: list[tuple[int, int]], stretch: int) -> list[tuple[int, int]]:
    kept: list[tuple[int, int]] = []
    for i, j in anchors:
        if i - (kept[-1][0] if kept else 0) >= stretch:
            kept.append((i, j))
    return kept


def _anchors(a: Sequence[bytes], b: Sequence[bytes]) -> list[tuple[int, int]]:
    """Pairs (i, j) with a[i] == b[j] occurring once in each, the longest run increasing in both."""
    in_a, in_b = Counter(a), Counter(b)
    where_b = {line: j for j, line in enumerate(b) if in_b[line] == 1}
    pairs = [(i, where_b[line]) for i, line in enumerate(a) if in_a[line] == 1 and line in where_b]
    # Longest increasing subsequence of the j's (patience sorting), pairs already by i.
    tails: list[int] = []  # tails[k]: the smallest j ending a run of length k + 1
    tail_at: list[int] = []  # the index in `pairs` of that j
    back: list[int] = []
    for index, (_, j) in enumerate(pairs):
        k = bisect.bisect_left(tails, j)
        back.append(tail_at[k - 1] if k else -1)
        if k == len(tails):
            tails.append(j)
            tail_at.append(index)
        else:
            tails[k] = j
            tail_at[k] = index
    run: list[tuple[int, int]] = []
    index = tail_at[-1] if tail_at else -1
    while index >= 0:
        run.append(pairs[index])
        index = back[index]
    return run[::-1]


def _merged(codes: list[Opcode]) -> list[Opcode]:
    """Adjacent opcodes of the same kind as one; empty ones dropped."""
    out: list[Opcode] = []
    for code in codes:
        tag, i1, i2, j1, j2 = code
        if i1 == i2 and j1 == j2:
            continue
        if out and out[-1][0] == tag == "equal":
            out[-1] = (tag, out[-1][1], i2, out[-1][3], j2)
        else:
            out.append(code)
    return out


class _Matched(difflib.SequenceMatcher[bytes]):
    """A matcher whose opcodes are given (difflib groups them into hunks)."""

    def __init__(self, codes: list[Opcode]) -> None:
        super().__init__(None, [], [])
        self._codes = codes

    def get_opcodes(self) -> list[Opcode]:  # type: ignore[override]
        return self._codes


def _range(start: int, stop: int) -> bytes:
    """A hunk's range as `difflib.unified_diff` writes it."""
    beginning, length = start + 1, stop - start
    if length == 1:
        return b"%d" % beginning
    if not length:
        beginning -= 1
    return b"%d,%d" % (beginning, length)
