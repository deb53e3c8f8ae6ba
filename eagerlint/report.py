"""Stage 8a: render results as ruff does (full, concise, json) plus statistics."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eagerlint.codes import rule_command, rule_url
from eagerlint.fingerprint import fingerprints
from eagerlint.model import Applicability, Edit, FileResult, Finding, FlowStep, Position


def display_name(filename: str) -> str:
    """Relative to the current directory when the file is under it."""
    path = Path(filename)
    if path.is_absolute():
        try:
            return path.relative_to(Path.cwd()).as_posix()
        except ValueError:
            return filename
    return filename


def _marker(f: Finding) -> str:
    return "[*] " if f.fix is not None and f.fix.applicability is Applicability.SAFE else ""


def concise_line(f: Finding) -> str:
    return (
        f"{display_name(f.filename)}:{f.location.row}:{f.location.column}: {f.code} {_marker(f)}{f.message}"
    )


def _frame(f: Finding, lines: Sequence[str]) -> list[str]:
    if not lines or f.location.row > len(lines):
        return []
    last = min(f.end_location.row, f.location.row + 3)
    width = len(str(last))
    out = [" " * (width + 1) + "|"]
    for row in range(f.location.row, last + 1):
        out.append(f"{row:>{width}} | {lines[row - 1].rstrip()}")
        if row == f.location.row:
            end = f.end_location.column if f.end_location.row == row else len(lines[row - 1].rstrip()) + 1
            carets = "^" * max(1, end - f.location.column)
            out.append(" " * (width + 1) + "| " + " " * (f.location.column - 1) + f"{carets} {f.code}")
    out.append(" " * (width + 1) + "|")
    return out


def flow_lines(flow: Sequence[FlowStep], indent: str = "  ") -> list[str]:
    return [
        f"{indent}{i}. {display_name(s.filename)}:{s.location.row}:{s.location.column}: {s.note}"
        for i, s in enumerate(flow, 1)
    ]


def full(f: Finding, lines: Sequence[str], show_flow: bool) -> list[str]:
    out = [concise_line(f), *_frame(f, lines)]
    if f.fix is not None:
        level = f.fix.applicability.value
        reason = f" ({f.fix_reason})" if f.fix_reason else ""
        out.append(f"  = help: {f.fix.message} [{level} fix{reason}]")
    else:
        out.append(f"  = fix: none — {f.fix_reason}" if f.fix_reason else "  = fix: none")
    out.append(f"  = see: {rule_command(f.code)}")
    if show_flow and f.flow:
        out.append("  = flow:")
        out.extend(flow_lines(f.flow, indent="    "))
    out.append("")
    return out


def _pos(p: Position) -> dict[str, int]:
    return {"row": p.row, "column": p.column}


def _edit(e: Edit) -> dict[str, Any]:
    return {"content": e.content, "location": _pos(e.location), "end_location": _pos(e.end_location)}


def as_json(f: Finding, fingerprint: str) -> dict[str, Any]:
    fix = None
    if f.fix is not None:
        fix = {
            "applicability": f.fix.applicability.value,
            "message": f.fix.message,
            "reason": f.fix_reason or None,
            "edits": [_edit(e) for e in f.fix.edits],
        }
    return {
        "code": f.code,
        "name": f.name,
        "message": f.message,
        "filename": display_name(f.filename),
        "location": _pos(f.location),
        "end_location": _pos(f.end_location),
        "fix": fix,
        "noqa_row": f.statement_row or f.location.row,
        "scope": f.scope,
        "flow": [
            {
                "filename": display_name(s.filename),
                "row": s.location.row,
                "column": s.location.column,
                "note": s.note,
            }
            for s in f.flow
        ],
        "url": rule_url(f.code),
        "no_fix_reason": (f.fix_reason or None) if f.fix is None else None,
        "fingerprint": fingerprint,
    }


def json_document(findings: Sequence[Finding]) -> str:
    prints = fingerprints(findings)
    return json.dumps([as_json(f, p) for f, p in zip(findings, prints, strict=True)], indent=2) + "\n"


def statistics(findings: Sequence[Finding]) -> list[str]:
    counts = Counter((f.code, f.name) for f in findings)
    fixable = {f.code for f in findings if f.fix is not None and f.fix.applicability is Applicability.SAFE}
    width = max((len(str(n)) for n in counts.values()), default=1)
    return [
        f"{n:>{width}}\t{code}\t{'[*]' if code in fixable else '[ ]'} {name}"
        for (code, name), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def summary(
    results: Sequence[FileResult], findings: Sequence[Finding], fixing: bool, unsafe: bool
) -> list[str]:
    fixed = sum(r.applied_fixes for r in results)
    if not findings and not fixed:
        return ["All checks passed!"]
    lines = []
    if fixed:
        total = len(findings) + fixed
        lines.append(f"Found {total} error{_s(total)} ({fixed} fixed, {len(findings)} remaining).")
    else:
        lines.append(f"Found {len(findings)} error{_s(len(findings))}.")
    safe = sum(1 for f in findings if f.fix is not None and f.fix.applicability is Applicability.SAFE)
    hidden = sum(1 for f in findings if f.fix is not None and f.fix.applicability is Applicability.UNSAFE)
    if safe and not fixing:
        lines.append(f"[*] {safe} fixable with the `--fix` option.")
    if hidden and not unsafe:
        lines.append(
            f"{hidden} hidden fix{'es' if hidden != 1 else ''} can be enabled with `--unsafe-fixes`."
        )
    return lines


def _s(n: int) -> str:
    return "" if n == 1 else "s"
