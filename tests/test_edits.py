"""Applying fixes to text: which fixes go in together, and the text they give.

`applied_fixes` cuts the text once and tests each fix only against the accepted edits
around it; `reference` below is the plain way (every accepted edit tested, the text
rebuilt per edit, back to front) that it must agree with.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eagerlint import edits
from eagerlint.model import Applicability, Edit, Fix, Position

TEXT = "ab\ncd\r\n\nefg\r"  # CRLF and a lone CR: rows as the rest of eagerlint counts them


def reference(source: str, fixes: list[Fix]) -> tuple[str, list[int]]:
    starts = edits._offsets(source)
    accepted: list[edits.Span] = []
    applied: list[int] = []
    for i in sorted(range(len(fixes)), key=lambda i: min(e.location for e in fixes[i].edits)):
        spans = sorted(
            {
                (edits._offset(starts, e.location), edits._offset(starts, e.end_location), e.content)
                for e in fixes[i].edits
            }
        )
        fresh = [s for s in spans if s not in accepted]
        own = any(edits._overlaps(a, b) for k, a in enumerate(fresh) for b in fresh[k + 1 :])
        if own or any(edits._overlaps(s, a) for s in fresh for a in accepted):
            continue
        accepted.extend(fresh)
        applied.append(i)
    text = source
    for start, end, content in sorted(accepted, reverse=True):
        text = text[:start] + content + text[end:]
    return text, sorted(applied)


def positions(source: str) -> list[Position]:
    lines = edits.split_lines(source)
    # Every column of every line, and the column just past its end (before the ending).
    found = [
        Position(row, column)
        for row, line in enumerate(lines, 1)
        for column in range(1, len(line.rstrip("\r\n")) + 2)
    ]
    return sorted(found)


@st.composite
def fix(draw: st.DrawFn, places: list[Position]) -> Fix:
    out = []
    for _ in range(draw(st.integers(1, 3))):
        a, b = sorted((draw(st.sampled_from(places)), draw(st.sampled_from(places))))
        out.append(Edit(a, b, draw(st.sampled_from(["", "(", ")", "xy", "\n"]))))
    return Fix(Applicability.SAFE, "t", tuple(out))


@settings(max_examples=400, deadline=None)
@given(st.lists(fix(positions(TEXT)), max_size=8))
def test_the_same_text_and_fixes_as_applying_every_edit_back_to_front(fixes: list[Fix]) -> None:
    assert edits.applied_fixes(TEXT, fixes) == reference(TEXT, fixes)


def edit(row: int, start: int, end: int, content: str) -> Edit:
    return Edit(Position(row, start), Position(row, end), content)


def test_overlapping_fixes_wait_and_shared_edits_are_applied_once() -> None:
    source = "x = [a for a in b]\ny = [c]\n"
    genexp = Fix(Applicability.SAFE, "g", (edit(1, 5, 6, "("), edit(1, 18, 19, ")")))
    same = Fix(Applicability.SAFE, "s", (edit(1, 5, 6, "("),))  # one edit of `genexp`, again
    clash = Fix(Applicability.SAFE, "c", (edit(1, 5, 19, "b"),))  # over both brackets
    other = Fix(Applicability.SAFE, "o", (edit(2, 5, 6, ""), edit(2, 7, 8, "")))
    text, applied = edits.applied_fixes(source, [clash, genexp, same, other])
    assert text == "x = b\ny = c\n" and applied == [0, 3]
    text, applied = edits.applied_fixes(source, [genexp, same, clash, other])
    assert text == "x = (a for a in b)\ny = c\n" and applied == [0, 1, 3]


def test_two_insertions_at_one_place_are_two_fixes_that_overlap() -> None:
    first = Fix(Applicability.SAFE, "a", (edit(1, 3, 3, "#"),))
    second = Fix(Applicability.SAFE, "b", (edit(1, 3, 3, "!"),))
    after = Fix(Applicability.SAFE, "c", (edit(1, 3, 4, "Z"),))  # starts where they insert
    assert edits.applied_fixes("abcd\n", [first, second, after]) == ("ab#Zd\n", [0, 2])


def test_a_fix_whose_own_edits_overlap_is_not_applied() -> None:
    source = "abcdef\n"
    broken = Fix(Applicability.SAFE, "b", (edit(1, 1, 4, "X"), edit(1, 3, 5, "Y")))
    fine = Fix(Applicability.SAFE, "f", (edit(1, 6, 7, "Z"),))
    assert edits.applied_fixes(source, [broken, fine]) == ("abcdeZ\n", [1])


def test_each_fix_is_tested_against_its_neighbours_only(monkeypatch: pytest.MonkeyPatch) -> None:
    # Testing every fix against every accepted edit made 10,000 fixes take 40 s.
    calls = 0
    real = edits._overlaps

    def counting(*args: Any) -> bool:
        nonlocal calls
        calls += 1
        return real(*args)

    monkeypatch.setattr(edits, "_overlaps", counting)
    rows = 2_000
    source = "x = [a for a in b]\n" * rows
    fixes = [
        Fix(Applicability.SAFE, "g", (edit(row, 5, 6, "("), edit(row, 18, 19, ")")))
        for row in range(1, rows + 1)
    ]
    text, applied = edits.applied_fixes(source, fixes)
    assert text == "x = (a for a in b)\n" * rows and len(applied) == rows
    assert calls <= rows  # one per pair of a fix's own edits, none against the others
