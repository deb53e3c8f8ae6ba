"""Stage 3: a cheap outline of a module, so that only what matters is parsed.

libcst parses about ten times slower than CPython's own parser, and position
metadata for a large module costs more than the parse.  Most of a model file
is irrelevant to weight streams, so the outline finds `def` and `class` blocks
by indentation alone (a regex over lines, no tokenizer), and the analysis
parses just the functions it needs: the loaders, then on demand the helpers
they call.  A block boundary the outline gets wrong (a string literal whose
lines start left of the code) makes its snippet fail to parse, and the caller
falls back to parsing the whole module: the outline may be slow to be right,
never wrong in what it reports.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import overload

# A form feed counts as whitespace before a statement, as in CPython's tokenizer.
_HEADER = re.compile(r"^(?P<indent>[ \t\f]*)(?:async[ \t]+)?(?P<kind>def|class)[ \t]+(?P<name>\w+)")
_DECORATOR = re.compile(r"^[ \t\f]*@")
_BASE = re.compile(r"[A-Za-z_][\w.]*")
_BLANK_OR_COMMENT = re.compile(r"^[ \t\f]*(?:#[^\r\n]*)?\r?\n?$")


@dataclass
class Block:
    kind: str  # "def" or "class"
    name: str
    indent: int
    start: int  # 0-based index of the first line (its first decorator)
    end: int  # 0-based index one past the last line
    header: int  # 0-based index of the `def`/`class` line
    children: list[Block] = field(default_factory=list)
    bases: tuple[str, ...] = ()

    def text(self, lines: Sequence[str]) -> str:
        return "".join(lines[self.start : self.end])

    def method(self, name: str) -> Block | None:
        if self._methods is None:
            self._methods = _first_by_name(self.children, "def")
        return self._methods.get(name)

    # Looked up by name once per call the analysis resolves: a scan would make a
    # module with thousands of functions quadratic.  Built on first use, after the
    # outline is complete.
    _methods: dict[str, Block] | None = field(default=None, repr=False, compare=False)


@dataclass
class Outline:
    lines: Sequence[str]
    blocks: list[Block]  # top-level defs and classes, in order
    _by_kind: dict[str, dict[str, Block]] = field(default_factory=dict, repr=False, compare=False)

    def function(self, name: str) -> Block | None:
        return self._named("def").get(name)

    def cls(self, name: str) -> Block | None:
        return self._named("class").get(name)

    def _named(self, kind: str) -> dict[str, Block]:
        found = self._by_kind.get(kind)
        if found is None:
            found = self._by_kind[kind] = _first_by_name(self.blocks, kind)
        return found


def _first_by_name(blocks: list[Block], kind: str) -> dict[str, Block]:
    """Name -> the first block of that kind and name (as a scan in order would find)."""
    found: dict[str, Block] = {}
    for block in blocks:
        if block.kind == kind:
            found.setdefault(block.name, block)
    return found


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def split_lines(text: str) -> list[str]:
    """Lines with their endings, split only where Python (and libcst) splits.

    The one definition of a line in eagerlint (outline, positions, code frames,
    diffs, `noqa`): `\r\n`, `\r` or `\n`.  `str.splitlines` also splits on form
    feeds, `\x1c`-`\x1e`, `\x85`, `\u2028` and `\u2029`, which Python does not.
    """
    return _LINE.findall(text)


def _indent(line: str) -> int:
    """The indentation CPython sees: a form feed resets the column to 0."""
    lead = line[: len(line) - len(line.lstrip(" \t\f"))]
    return len(lead) - lead.rfind("\f") - 1


def _is_code(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def outline(text: str) -> Outline:
    lines = split_lines(text)
    top: list[Block] = []
    open_blocks: list[Block] = []  # the chain of blocks enclosing the current line
    string: str | None = None  # the delimiter of the triple-quoted string we are in
    for i, line in enumerate(lines):
        starts_in_string = string is not None
        # Most lines hold no triple quote: test with `in` before the regex.
        if (string is not None and string in line) or (string is None and ('"""' in line or "'''" in line)):
            string = _string_state(line, string)
        if starts_in_string:
            continue  # the inside of a docstring is neither a header nor a dedent
        stripped = line.lstrip(" \t\f")
        if not stripped or stripped[0] in "#\r\n":
            continue  # blank (a lone form feed too) or a comment: neither opens nor closes
        lead = len(line) - len(stripped)
        indent = _indent(line) if "\f" in line[:lead] else lead
        while open_blocks and indent <= open_blocks[-1].indent and not _continues(lines, i):
            _close(open_blocks.pop(), i, lines)
        # A header's first word is `def`, `class` or `async`: skip the regex otherwise.
        header = _HEADER.match(line) if stripped[0] in "dca" else None
        if header is None:
            continue
        start = _first_decorator(lines, i, indent)
        block = Block(header["kind"], header["name"], indent, start, len(lines), i)
        if header["kind"] == "class":
            block.bases = _bases(lines, i)
        if open_blocks:
            open_blocks[-1].children.append(block)
        else:
            top.append(block)
        open_blocks.append(block)
    while open_blocks:
        _close(open_blocks.pop(), len(lines), lines)
    return Outline(lines, top)


_TRIPLE = re.compile(r"\"\"\"|'\'\'|#")


def _string_state(line: str, string: str | None) -> str | None:
    """Whether a triple-quoted string is still open after `line` (and its delimiter).

    A regex over triple quotes and `#`, not a tokenizer: a triple quote inside a
    one-line string can fool it, and then the snippet it cuts fails to parse
    and the whole module is parsed instead.
    """
    for match in _TRIPLE.finditer(line):
        token = match.group(0)
        if string is None:
            if token == "#":
                break  # the rest of the line is a comment
            string = token
        elif token == string:
            string = None
    return string


def _continues(lines: list[str], i: int) -> bool:
    # A closing bracket at the block's indentation (`)` of a wrapped call), or
    # a line after a backslash continuation, continues the statement above.
    return lines[i].lstrip()[:1] in (")", "]", "}") or (i > 0 and lines[i - 1].rstrip("\r\n").endswith("\\"))


def _close(block: Block, end: int, lines: list[str]) -> None:
    # Trailing blank and comment lines belong to whatever follows.
    while end > block.header + 1 and not _is_code(lines[end - 1]):
        end -= 1
    block.end = end


def _bases(lines: list[str], i: int) -> tuple[str, ...]:
    header = "".join(lines[i : i + 10])
    opening = header.find("(")
    colon = header.find(":")
    if opening < 0 or (0 <= colon < opening):
        return ()
    closing = header.find(")", opening)
    inner = header[opening + 1 : closing if closing >= 0 else None]
    names = (_BASE.match(part.strip()) for part in inner.split(",") if "=" not in part)
    return tuple(m.group(0) for m in names if m)


def _first_decorator(lines: list[str], header: int, indent: int) -> int:
    """The line of the first decorator of the `def`/`class` at `header` (itself when
    it has none); blank and comment lines may sit between decorators and the header."""
    start, i = header, header - 1
    while i >= 0:
        if _DECORATOR.match(lines[i]) and _indent(lines[i]) == indent:
            start = i
        elif not _BLANK_OR_COMMENT.match(lines[i]):
            break
        i -= 1
    return start


def reoutline(old: Outline, first: int, count: int, new: list[str]) -> Outline:
    """The outline of `old`'s lines with `old.lines[first : first + count]` replaced by
    `new`, reusing `old`'s blocks when the edit cannot change them: as many lines, and
    every changed line keeps its indentation and is, before and after, code that
    neither opens nor closes anything the outline tracks (a header, a decorator, a
    triple quote, a backslash or a closing bracket at its start).  Otherwise a fresh
    outline of the whole text."""
    lines = Spliced(old.lines, first, count, new)
    if len(new) == count and all(
        a == b or (_inert_line(a) and _inert_line(b) and _lead(a) == _lead(b))
        for a, b in zip(old.lines[first : first + count], new, strict=True)
    ):
        return Outline(lines, old.blocks, old._by_kind)  # the same blocks: the same lookups
    return outline("".join(lines))


class Spliced(Sequence[str]):
    """`lines` with `lines[first : first + count]` replaced by `new`, without copying
    the rest: judging each of a file's fixes would otherwise copy every line of the
    file once per fix."""

    def __init__(self, lines: Sequence[str], first: int, count: int, new: list[str]) -> None:
        self._lines, self._first, self._new = lines, first, new
        self._shift = count - len(new)  # old index - new index, past the new lines
        self._len = len(lines) - self._shift

    def __len__(self) -> int:
        return self._len

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...
    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            start, stop, step = index.indices(self._len)
            if step != 1:
                return [self[i] for i in range(start, stop, step)]
            a, b = self._first, self._first + len(self._new)
            out = list(self._lines[start : min(stop, a)])
            out += self._new[max(start, a) - a : max(min(stop, b) - a, 0)]
            out += self._lines[max(start, b) + self._shift : max(stop, b) + self._shift]
            return out
        i = index + self._len if index < 0 else index
        if not 0 <= i < self._len:
            raise IndexError(index)
        if i < self._first:
            return self._lines[i]
        if i < self._first + len(self._new):
            return self._new[i - self._first]
        return self._lines[i + self._shift]

    def __iter__(self) -> Iterator[str]:
        end = self._first + len(self._new) + self._shift
        return chain(self._lines[: self._first], self._new, self._lines[end:])


def _lead(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t\f"))]


def _inert_line(line: str) -> bool:
    body = line.rstrip("\r\n")
    return (
        _is_code(line)
        and not _HEADER.match(line)
        and not _DECORATOR.match(line)
        and '"""' not in line
        and "'''" not in line
        and not body.endswith("\\")
        and body.lstrip()[:1] not in (")", "]", "}")
    )
