"""A finding's fingerprint: the same finding keeps it while the code around it moves.

It is computed from the rule code, the file's path relative to the project root,
the function holding the finding (`Class.method`) and the statement's text with
comments, line breaks, indentation and a trailing comma before a closing bracket
left out, plus an occurrence index among findings that share all of those.  No
line number and no absolute path goes in: inserting lines above a finding,
reformatting other code and moving the checkout leave it unchanged, while two
identical statements in one function still get two fingerprints.  The baseline
and SARIF's `partialFingerprints` are keyed on it.
"""

from __future__ import annotations

import hashlib
import io
import os
import tokenize
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from eagerlint.model import Finding

# The tokens that only lay code out.
_LAYOUT = frozenset(
    {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
)
_CLOSING = frozenset({")", "]", "}"})
# Where a project's root is marked when a file is outside the current directory.
_ROOT_MARKERS = (".git", "pyproject.toml")


def normalized(text: str) -> str:
    """The statement's tokens, one space apart, without what only lays it out."""
    try:
        tokens = [
            t.string for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type not in _LAYOUT
        ]
    except (tokenize.TokenError, SyntaxError):
        # Not tokenizable alone (never for a whole statement or header): whitespace only.
        return " ".join(text.split())
    kept = [
        t
        for i, t in enumerate(tokens)
        if not (t == "," and tokens[i + 1 : i + 2] and tokens[i + 1] in _CLOSING)
    ]
    return " ".join(kept)


def relative_path(filename: str, root: Path | None = None) -> str:
    """`filename` relative to `root` (default: the current directory) when under it,
    else to the nearest folder above it holding `.git` or `pyproject.toml`, else its
    name alone: never an absolute path, so a moved checkout keeps its fingerprints."""
    path = Path(os.path.abspath(filename))
    base = Path(os.path.abspath(root if root is not None else Path.cwd()))
    if path.is_relative_to(base):
        return path.relative_to(base).as_posix()
    for parent in path.parents:
        if any((parent / marker).exists() for marker in _ROOT_MARKERS):
            return path.relative_to(parent).as_posix()
    return path.name


def _key(finding: Finding, root: Path | None) -> tuple[str, str, str, str]:
    return (finding.code, relative_path(finding.filename, root), finding.scope, normalized(finding.statement))


def fingerprint(finding: Finding, root: Path | None = None, occurrence: int = 0) -> str:
    """16 hex digits; `occurrence` counts the earlier findings with the same key."""
    key = "\0".join((*_key(finding, root), str(occurrence)))
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def fingerprints(findings: Sequence[Finding], root: Path | None = None) -> list[str]:
    """Every finding's fingerprint, in the order given, occurrences counted in file order."""
    keys = [_key(f, root) for f in findings]
    order = sorted(
        range(len(findings)), key=lambda i: (keys[i], findings[i].location, findings[i].end_location)
    )
    seen: Counter[tuple[str, str, str, str]] = Counter()
    out = [""] * len(findings)
    for i in order:
        out[i] = fingerprint(findings[i], root, seen[keys[i]])
        seen[keys[i]] += 1
    return out
