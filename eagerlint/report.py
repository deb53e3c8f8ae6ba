"""Stage 8a: render results as ruff does (full, concise, json, json-lines, github) plus
statistics; SARIF is `sarif.py`."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
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


def fixable(f: Finding, unsafe: bool = False) -> bool:
    """Whether `--fix` applies the finding's fix (with `--unsafe-fixes`: `unsafe`)."""
    if f.fix is None:
        return False
    level = f.fix.applicability
    return level is Applicability.SAFE or (unsafe and level is Applicability.UNSAFE)


def concise_line(f: Finding, unsafe: bool = False) -> str:
    marker = "[*] " if fixable(f, unsafe) else ""
    return f"{display_name(f.filename)}:{f.location.row}:{f.location.column}: {f.code} {marker}{f.message}"


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


def full(f: Finding, lines: Sequence[str], show_flow: bool, unsafe: bool = False) -> list[str]:
    out = [concise_line(f, unsafe), *_frame(f, lines)]
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


def _as_json_all(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    return [as_json(f, p) for f, p in zip(findings, fingerprints(findings), strict=True)]


def json_document(findings: Sequence[Finding]) -> str:
    return json.dumps(_as_json_all(findings), indent=2) + "\n"


def json_lines(findings: Sequence[Finding]) -> str:
    """One JSON object per line, the objects of `json_document`."""
    return "".join(json.dumps(obj) + "\n" for obj in _as_json_all(findings))


# GitHub shows at most this many annotations of one kind for a step.
ANNOTATIONS_SHOWN = 10


def _command_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _command_property(text: str) -> str:
    return _command_data(text).replace(":", "%3A").replace(",", "%2C")


def github_lines(findings: Sequence[Finding]) -> list[str]:
    """One workflow-command annotation per finding, then, past what GitHub shows, how many more."""
    out = []
    for f in findings:
        where = {
            "file": display_name(f.filename),
            "line": f.location.row,
            "col": f.location.column,
            "endLine": f.end_location.row,
            "endColumn": f.end_location.column,
            "title": f.code,
        }
        props = ",".join(f"{k}={_command_property(str(v))}" for k, v in where.items())
        out.append(f"::error {props}::{_command_data(f.message)}")
    if len(findings) > ANNOTATIONS_SHOWN:
        more = len(findings) - ANNOTATIONS_SHOWN
        out.append(
            f"::notice title=eagerlint::{more} more finding{'s' if more != 1 else ''} past the "
            f"{ANNOTATIONS_SHOWN} annotations GitHub shows per step are in this log; upload "
            "`--output-format sarif` to code scanning to see every finding"
        )
    return out


def _findings_of(results: Sequence[FileResult]) -> list[Finding]:
    return [f for r in results for f in r.findings]


def _sarif(results: Sequence[FileResult]) -> str:
    from eagerlint import sarif

    return json.dumps(sarif.document(results), indent=2) + "\n"


# The formats that render the whole run at once (full and concise go finding by finding).
DOCUMENTS: dict[str, Callable[[Sequence[FileResult]], str]] = {
    "json": lambda results: json_document(_findings_of(results)),
    "json-lines": lambda results: json_lines(_findings_of(results)),
    "github": lambda results: "".join(line + "\n" for line in github_lines(_findings_of(results))),
    "sarif": _sarif,
}


def statistics(findings: Sequence[Finding], unsafe: bool = False) -> list[str]:
    counts = Counter((f.code, f.name) for f in findings)
    fixed_by_fix = {f.code for f in findings if fixable(f, unsafe)}
    width = max((len(str(n)) for n in counts.values()), default=1)
    return [
        f"{n:>{width}}\t{code}\t{'[*]' if code in fixed_by_fix else '[ ]'} {name}"
        for (code, name), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def statistics_json(findings: Sequence[Finding]) -> str:
    """`--statistics --output-format json`: ruff's shape, one object per code."""
    counts = Counter((f.code, f.name) for f in findings)
    fixable = {f.code for f in findings if f.fix is not None and f.fix.applicability is Applicability.SAFE}
    entries = [
        {"code": code, "name": name, "count": n, "fixable": code in fixable}
        for (code, name), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    return json.dumps(entries, indent=2) + "\n"


def fixed_lines(results: Sequence[FileResult]) -> list[str]:
    """`--show-fixes`: what `--fix` fixed, per file and code (ruff's enumeration)."""
    fixed = [r for r in results if r.fixed_codes]
    total = sum(len(r.fixed_codes) for r in fixed)
    if not total:
        return []
    out = [f"Fixed {total} error{_s(total)}:"]
    for r in fixed:
        out.append(f"- {display_name(r.filename)}:")
        for code, n in sorted(Counter(r.fixed_codes).items()):
            name = next((f.name for f in r.findings if f.code == code), "") or _name(code)
            out.append(f"    {n} \N{MULTIPLICATION SIGN} {code} ({name})")  # ruff's shape
    out.append("")
    return out


def _name(code: str) -> str:
    from eagerlint.codes import CODES

    return CODES.get(code, "")


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
    # With `--unsafe-fixes`, `--fix` applies the unsafe fixes too (ruff counts them so).
    applies = sum(1 for f in findings if fixable(f, unsafe))
    hidden = sum(1 for f in findings if f.fix is not None and f.fix.applicability is Applicability.UNSAFE)
    if applies and not fixing:
        lines.append(f"[*] {applies} fixable with the `--fix` option.")
    if hidden and not unsafe:
        lines.append(
            f"{hidden} hidden fix{'es' if hidden != 1 else ''} can be enabled with `--unsafe-fixes`."
        )
    return lines


def _s(n: int) -> str:
    return "" if n == 1 else "s"
