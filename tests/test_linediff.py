"""The unified diff of `--diff`: difflib's own output on ordinary files, and on big
ones a diff that still turns the old lines into the new ones exactly."""

from __future__ import annotations

import difflib

from hypothesis import given, settings
from hypothesis import strategies as st

from eagerlint import linediff

# Few distinct lines, so that files repeat themselves as generated model code does.
LINES = st.lists(st.sampled_from([b"a\n", b"b\n", b"    x = 1\n", b"\n", b"c\r\n", b"d"]), max_size=60)


def edited(draw: st.DrawFn) -> tuple[list[bytes], list[bytes]]:
    a = draw(LINES)
    b = list(a)
    for _ in range(draw(st.integers(0, 6))):
        at = draw(st.integers(0, len(b)))
        b[at : at + draw(st.integers(0, 3))] = draw(LINES.map(lambda lines: lines[:4]))
    return a, b


pairs = st.composite(edited)


def applied(a: list[bytes], codes: list[linediff.Opcode], b: list[bytes]) -> list[bytes]:
    out: list[bytes] = []
    position = 0
    for tag, i1, i2, j1, j2 in codes:
        assert i1 == position  # the opcodes cover `a` in order
        if tag == "equal":
            assert a[i1:i2] == b[j1:j2]
            out += a[i1:i2]
        else:
            out += b[j1:j2]
        position = i2
    assert position == len(a)
    return out


@settings(max_examples=300, deadline=None)
@given(pairs())
def test_small_files_get_difflibs_own_diff(pair: tuple[list[bytes], list[bytes]]) -> None:
    a, b = pair
    ours = b"".join(linediff.unified(a, b, b"a/x", b"b/x"))
    theirs = b"".join(difflib.diff_bytes(difflib.unified_diff, a, b, b"a/x", b"b/x"))
    assert ours == theirs


@settings(max_examples=300, deadline=None)
@given(
    pairs(), st.lists(st.binary(min_size=1, max_size=3).map(lambda x: b"unique " + x + b"\n"), max_size=20)
)
def test_anchored_opcodes_rebuild_the_new_lines(
    pair: tuple[list[bytes], list[bytes]], uniques: list[bytes]
) -> None:
    a, b = pair
    for k, line in enumerate(uniques):
        a.insert(min(len(a), 3 * k), line)
        b.insert(min(len(b), 3 * k), line)
    # Stretches of 5 lines: anchors (lines once in each file) split every file.
    assert applied(a, linediff.opcodes(a, b, stretch=5), b) == b


def test_a_big_repetitive_file_is_split_at_unique_lines() -> None:
    block = [
        b"class M%d:\n",
        b"    def load_weights(self, weights):\n",
        b"        return [w for w in weights]\n",
    ]
    a = [line % k if b"%d" in line else line for k in range(3000) for line in block]
    b = [line.replace(b"[w for w in weights]", b"(w for w in weights)") if k % 500 == 0 else line
         for k, line in enumerate(a)]  # fmt: skip
    codes = linediff.opcodes(a, b)
    assert applied(a, codes, b) == b
    assert [c for c in codes if c[0] != "equal"] == [
        ("replace", i, i + 1, i, i + 1) for i in range(0, len(a), 500) if a[i] != b[i]
    ]
