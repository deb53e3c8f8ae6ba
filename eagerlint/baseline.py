"""The baseline: findings recorded once, by fingerprint, that no longer fail a run.

`eagerlint check --write-baseline FILE` records every current finding;
`eagerlint check --baseline FILE` then reports only findings whose fingerprint
(`fingerprint.py`: code, path, function and the statement's tokens, no line
number) is not in it, so a tree can adopt eagerlint at once and fail only on
new code.  Paths in the fingerprints are relative to the project root, so the
file works from any folder of the project.  The file is JSON, one entry per
finding, sorted, so that it reviews well in a diff.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from eagerlint.fingerprint import fingerprints, relative_path
from eagerlint.model import Finding

FORMAT = "eagerlint-baseline"
VERSION = 1


class BaselineError(Exception):
    """The baseline file cannot be read or is not one; the message says which."""


@dataclass(frozen=True)
class Filtered:
    kept: list[Finding]
    known: int  # findings the baseline holds, not reported


def write(path: Path, findings: Sequence[Finding], root: Path) -> int:
    entries = sorted(
        (
            {"fingerprint": p, "code": f.code, "filename": relative_path(f.filename, root), "scope": f.scope}
            for f, p in zip(findings, fingerprints(findings, root), strict=True)
        ),
        key=lambda e: (e["filename"], e["code"], e["scope"], e["fingerprint"]),
    )
    text = json.dumps({"format": FORMAT, "version": VERSION, "findings": entries}, indent=1) + "\n"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise BaselineError(f"{path}: cannot write: {exc.strerror or exc}") from None
    return len(entries)


def load(path: Path) -> frozenset[str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(f"{path}: no such file (write one with --write-baseline)") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise BaselineError(f"{path}: cannot read: {reason}") from None
    except json.JSONDecodeError as exc:
        raise BaselineError(f"{path}: not a baseline (invalid JSON: {exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("version") != VERSION:
        raise BaselineError(f"{path}: not an eagerlint baseline (version {VERSION})")
    entries = data.get("findings")
    if not isinstance(entries, list) or not all(
        isinstance(e, dict) and isinstance(e.get("fingerprint"), str) for e in entries
    ):
        raise BaselineError(f"{path}: `findings` must be a list of entries with a `fingerprint`")
    return frozenset(e["fingerprint"] for e in entries)


def without_known(findings: Sequence[Finding], known: frozenset[str], root: Path) -> Filtered:
    prints = fingerprints(findings, root)
    kept = [f for f, p in zip(findings, prints, strict=True) if p not in known]
    return Filtered(kept, len(findings) - len(kept))
