"""Stage 7: `# noqa` suppression, ruff-style.

`# noqa` silences every code on its line, `# noqa: EL001, EL003` only those.  A
comment counts on the reported line or on the first line of the statement
holding the finding.  Comments are found with `tokenize`, so a `# noqa` inside a
string never counts.
"""

from __future__ import annotations

import re
import tokenize
from dataclasses import dataclass

from eagerlint.model import Finding
from eagerlint.outline import split_lines

NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.I)
ALL = frozenset({"*"})


@dataclass(frozen=True)
class Directives:
    by_row: dict[int, frozenset[str]]

    def silences(self, finding: Finding) -> bool:
        for row in {finding.location.row, finding.statement_row}:
            codes = self.by_row.get(row)
            if codes is not None and (codes is ALL or finding.code in codes):
                return True
        return False


def directives(source: str, lines: list[str] | None = None) -> Directives:
    found: dict[int, frozenset[str]] = {}
    # The tokenizer reads the lines the rest of eagerlint counts (`\r`, `\n`, `\r\n`);
    # a StringIO would split on `\n` alone and misnumber a file with `\r` endings.
    readline = iter(split_lines(source) if lines is None else lines).__next__
    try:
        tokens = list(tokenize.generate_tokens(readline))
    except (tokenize.TokenError, SyntaxError):
        return Directives(found)
    for tok in tokens:
        if tok.type != tokenize.COMMENT:
            continue
        match = NOQA.search(tok.string)
        if match is None:
            continue
        codes = match.group("codes")
        row = tok.start[0]
        found[row] = ALL if codes is None else frozenset(c.upper() for c in re.split(r"[\s,]+", codes) if c)
    return Directives(found)


def apply(findings: list[Finding], source: str, lines: list[str] | None = None) -> tuple[list[Finding], int]:
    """The findings left after suppression, and how many were silenced.

    `lines`: `source` split by `outline.split_lines`, when the caller has it.
    """
    if not findings or "noqa" not in source.lower():
        return findings, 0  # tokenizing is only worth it when a directive may be there
    lines = split_lines(source) if lines is None else lines
    rows = {r for f in findings for r in (f.location.row, f.statement_row) if 0 < r <= len(lines)}
    if not any("noqa" in lines[r - 1].lower() for r in rows):
        # A directive silences only its own line: none of these lines holds one.
        # (Tokenizing in pure Python costs ~2 s per MB.)
        return findings, 0
    d = directives(source, lines)
    kept = [f for f in findings if not d.silences(f)]
    return kept, len(findings) - len(kept)
