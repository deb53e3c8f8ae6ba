"""Stage 7: `# noqa` suppression, ruff-style, and the directives `--add-noqa` writes.

`# noqa: EL001, EL003` silences those codes on its line.  A bare `# noqa` is left to
the tools that read it (flake8's and ruff's blanket suppression) and does not count
here: a memory finding is silenced only by naming it.  A comment counts on the
reported line or on the first line of the statement holding the finding, and, for
such a line that cannot end in a comment (it ends inside a string or with a
backslash), on the line where that string or continuation ends (ruff's reading,
and where `--add-noqa` writes); every
`noqa: codes` in one comment counts (`# noqa  # noqa: EL001` keeps another tool's
blanket and names eagerlint's code).  Comments are found with `tokenize`, so a
`# noqa` inside a string never counts.  A directive naming an enabled code that
silenced nothing is reported (`Unused`, worded by its rule).
"""

from __future__ import annotations

import bisect
import re
import tokenize
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

from eagerlint.codes import OUR_DIRECTIVE
from eagerlint.model import Edit, Finding, Position, Unused
from eagerlint.outline import split_lines

NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.I)
# Whether a text may hold a directive naming one of eagerlint's codes (a cheap no first).
_OURS = re.compile(OUR_DIRECTIVE, re.I)


@dataclass(frozen=True)
class Directive:
    """The `noqa: codes` of one comment: where each code list is (0-based columns)."""

    row: int
    comment: tuple[int, int]  # the comment token's columns
    text: str  # the comment token
    matches: tuple[tuple[int, int, tuple[str, ...]], ...]  # each code list's columns, codes

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(c for _, _, codes in self.matches for c in codes)


@dataclass(frozen=True)
class Directives:
    by_row: dict[int, Directive] = field(default_factory=dict)
    ends: _Ends | None = None

    def silencing(self, finding: Finding) -> list[int]:
        """The rows whose directive names the finding's code."""
        rows = {r for r in (finding.location.row, finding.statement_row) if r > 0}  # 0: not known
        if self.ends is not None:
            rows |= {e for r in rows if (e := self.ends.comment_row(r)) is not None}
        return sorted(r for r in rows if r in self.by_row and finding.code in self.by_row[r].codes)


class _Ends:
    """The rows a comment can end (a line break or a comment token starts there)."""

    def __init__(self, tokens: Iterable[tokenize.TokenInfo]) -> None:
        kinds = (tokenize.NEWLINE, tokenize.NL, tokenize.COMMENT)
        self.rows = sorted({t.start[0] for t in tokens if t.type in kinds})
        self._set = frozenset(self.rows)

    def __contains__(self, row: int) -> bool:
        return row in self._set

    def comment_row(self, row: int) -> int | None:
        """Where a comment for `row` goes: `row`, or for a row ending inside a string or
        with a backslash the next row that can end in one (where that string or
        continuation ends); None past the last."""
        if row in self:
            return row
        at = bisect.bisect_left(self.rows, row)
        return self.rows[at] if at < len(self.rows) else None


def _codes(text: str) -> tuple[str, ...]:
    return tuple(c.upper() for c in re.split(r"[\s,]+", text) if c)


def directives(source: str, lines: Sequence[str] | None = None) -> Directives:
    found: dict[int, Directive] = {}
    # The tokenizer reads the lines the rest of eagerlint counts (`\r`, `\n`, `\r\n`);
    # a StringIO would split on `\n` alone and misnumber a file with `\r` endings.
    tokens = _tokens(split_lines(source) if lines is None else lines)
    for tok in (t for t in tokens if t.type == tokenize.COMMENT):
        matches = tuple(
            (tok.start[1] + m.start("codes"), tok.start[1] + m.end("codes"), _codes(m.group("codes")))
            for m in NOQA.finditer(tok.string)
            if m.group("codes")
        )
        if matches:
            row = tok.start[0]
            found[row] = Directive(row, (tok.start[1], tok.end[1]), tok.string, matches)
    return Directives(found, _Ends(tokens) if found else None)


@dataclass(frozen=True)
class Suppression:
    kept: list[Finding]
    silenced: int
    # Directive codes that silenced nothing, among the codes checked (`Unused`).
    unused: list[Unused]


def apply(
    findings: list[Finding],
    source: str,
    lines: Sequence[str] | None = None,
    checked: Collection[str] = (),
) -> Suppression:
    """The findings left after suppression, how many were silenced, and the unused
    directive codes among `checked` (the codes enabled for the file).

    `lines`: `source` split by `outline.split_lines`, when the caller has it.
    """
    lines = split_lines(source) if lines is None else lines
    if not _may_have_directives(findings, source, lines, bool(checked)):
        return Suppression(findings, 0, [])
    d = directives(source, lines)
    kept: list[Finding] = []
    used: set[tuple[int, str]] = set()
    for f in findings:
        rows = d.silencing(f)
        used.update((r, f.code) for r in rows)
        if not rows:
            kept.append(f)
    unused = [u for directive in d.by_row.values() for u in _unused(directive, used, checked, lines)]
    return Suppression(kept, len(findings) - len(kept), unused)


def _may_have_directives(findings: list[Finding], source: str, lines: Sequence[str], unused: bool) -> bool:
    # Tokenizing in pure Python costs ~2 s per MB: only when a directive may be there.
    if "noqa" not in source.lower():
        return False
    if unused and _OURS.search(source):
        return True
    rows = {r for f in findings for r in (f.location.row, f.statement_row) if 0 < r <= len(lines)}
    return any("noqa" in lines[r - 1].lower() for r in rows)


def _unused(
    d: Directive, used: set[tuple[int, str]], checked: Collection[str], lines: Sequence[str]
) -> Iterable[Unused]:
    # Only codes that ran here can be judged: another tool's and a disabled rule's
    # are left alone.
    stale = tuple(c for _, _, codes in d.matches for c in codes if c in checked and (d.row, c) not in used)
    if stale:
        yield Unused(
            Position(d.row, d.comment[0] + 1),
            Position(d.row, d.comment[1] + 1),
            stale,
            tuple(sorted(d.codes)),
            lines[d.row - 1][: d.comment[0]].strip(),
            _removal(d, set(stale), lines[d.row - 1]),
        )


def _removal(d: Directive, stale: set[str], line: str) -> Edit:
    """The edit that takes the stale codes out of the directive, and the directive
    out of the comment when it names nothing else (the comment out of the line when
    nothing else is left in it)."""
    changed = list(d.text)
    offset = d.comment[0]
    # From the last code list back, so earlier columns stay valid.
    for start, end, codes in reversed(d.matches):
        left = [c for c in codes if c not in stale]
        if left:
            changed[start - offset : end - offset] = ", ".join(left)
            continue
        match = next(m for m in NOQA.finditer(d.text) if m.start("codes") == start - offset)
        a, b = match.start(), match.end()
        if a == 0:  # a directive first: what follows it is the comment
            while b < len(changed) and changed[b] in " \t":
                b += 1
        else:  # a directive after other text: the spaces before it go with it
            while a > 0 and changed[a - 1] in " \t":
                a -= 1
        changed[a:b] = ""
    text = "".join(changed)
    if text.strip() and not text.startswith("#"):  # the text after a removed directive
        text = "# " + text
    start = d.comment[0]
    if not text.strip():
        # Nothing left of the comment: the spaces before it go too.
        while start > 0 and line[start - 1] in " \t":
            start -= 1
    return Edit(Position(d.row, start + 1), Position(d.row, d.comment[1] + 1), text)


@dataclass(frozen=True)
class Added:
    text: str
    rows: int  # lines that got a directive or a code
    missed: list[Finding]  # findings whose lines cannot hold a comment


def add_directives(source: str, findings: Iterable[Finding], lines: Sequence[str] | None = None) -> Added:
    """`source` with each finding's code named in a directive on its line (`--add-noqa`).

    The code goes on the first line of the statement when a comment can end that
    line, else on the reported line, else where the string or backslash continuation
    that keeps the first line from ending in a comment ends (ruff's choice): into
    the line's directive when it has one (`# noqa: E501` -> `# noqa: E501, EL001`),
    else at the end of its comment or code (trailing spaces go).  Nothing else on
    the line changes.  Findings no line can take (a file the tokenizer cannot
    read) are `missed`.
    """
    lines = split_lines(source) if lines is None else lines
    tokens = _tokens(lines)
    ends = _Ends(tokens)
    comments = {t.start[0]: t for t in tokens if t.type == tokenize.COMMENT}
    wanted: dict[int, set[str]] = {}
    missed: list[Finding] = []
    for f in findings:
        rows = [r for r in (f.statement_row, f.location.row) if r > 0]  # 0: not known
        row = next((r for r in rows if r in ends), None) or (ends.comment_row(rows[0]) if rows else None)
        if row is None:
            missed.append(f)
        else:
            wanted.setdefault(row, set()).add(f.code)
    out = list(lines)
    for row, codes in wanted.items():
        out[row - 1] = _with_codes(lines[row - 1], sorted(codes), comments.get(row))
    return Added("".join(out), len(wanted), missed)


def _tokens(lines: Sequence[str]) -> list[tokenize.TokenInfo]:
    try:
        return list(tokenize.generate_tokens(iter(lines).__next__))
    except (tokenize.TokenError, SyntaxError):
        return []


def _with_codes(line: str, codes: list[str], comment: tokenize.TokenInfo | None) -> str:
    body = line.rstrip("\r\n")
    ending = line[len(body) :]
    if comment is not None:
        listed = [m for m in NOQA.finditer(comment.string) if m.group("codes")]
        if listed:
            last = listed[-1]
            known = set(_codes(last.group("codes")))
            new = [c for c in codes if c not in known]
            at = comment.start[1] + last.end("codes")
            return body[:at] + "".join(f", {c}" for c in new) + body[at:] + ending
        at = comment.end[1]
        return body[:at] + f"  # noqa: {', '.join(codes)}" + body[at:] + ending
    # Trailing spaces would end up between the code and the comment: they go.
    return body.rstrip() + f"  # noqa: {', '.join(codes)}" + ending
