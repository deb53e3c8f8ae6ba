"""The only module that chains the stages for one file.

discover -> parse -> streams -> flow -> materializations -> fix safety ->
suppress -> report | rewrite.  `check_bytes` always returns a `FileResult`:
findings, a read/parse error, or an internal error; it never raises.
"""

from __future__ import annotations

import enum
import traceback

import libcst as cst

from eagerlint import parse, suppress
from eagerlint.analysis import ModuleAnalysis
from eagerlint.config import Settings
from eagerlint.model import Applicability, ErrorKind, FileError, FileResult, Finding
from eagerlint.rewrite import apply_fixes

MAX_FIX_ROUNDS = 10


class FixMode(enum.Enum):
    NONE = "none"
    SAFE = "safe"
    UNSAFE = "unsafe"

    def allows(self, applicability: Applicability) -> bool:
        if self is FixMode.NONE:
            return False
        if applicability is Applicability.SAFE:
            return True
        return self is FixMode.UNSAFE and applicability is Applicability.UNSAFE


def _findings(data: bytes, filename: str, settings: Settings) -> tuple[list[Finding], int, cst.Module | None]:
    if not parse.may_contain_streams(data, settings.analysis):
        return [], 0, None
    parsed = parse.parse(data)
    analysis = ModuleAnalysis(parsed.module, parsed.positions, filename, settings.analysis)
    codes = settings.codes_for(filename)
    found = [f for f in analysis.findings() if f.code in codes]
    kept, silenced = suppress.apply(found, parsed.module.code)
    return kept, silenced, parsed.module


def check_bytes(data: bytes, filename: str, settings: Settings, mode: FixMode = FixMode.NONE) -> FileResult:
    try:
        return _check(data, filename, settings, mode)
    except parse.ParseError as exc:
        return FileResult(filename, error=FileError(filename, ErrorKind.PARSE, str(exc)))
    except RecursionError:
        return FileResult(
            filename, error=FileError(filename, ErrorKind.INTERNAL, "nesting too deep to analyse")
        )
    except Exception as exc:  # one file must never sink the run
        return FileResult(
            filename,
            error=FileError(
                filename, ErrorKind.INTERNAL, f"{type(exc).__name__}: {exc}", traceback.format_exc()
            ),
        )


def _check(data: bytes, filename: str, settings: Settings, mode: FixMode) -> FileResult:
    findings, silenced, module = _findings(data, filename, settings)
    if mode is FixMode.NONE or module is None:
        return FileResult(filename, tuple(findings), suppressed=silenced)
    original = module
    applied_total = 0
    for _ in range(MAX_FIX_ROUNDS):
        fixes = [f.fix for f in findings if f.fix is not None and mode.allows(f.fix.applicability)]
        if not fixes:
            break
        text, applied = apply_fixes(module.code, fixes)
        if applied == 0 or text == module.code:
            break
        try:
            data = text.encode(original.encoding)
            findings, silenced, new_module = _findings(data, filename, settings)
        except parse.ParseError as exc:
            # A fix that does not parse is a bug in eagerlint; keep the file intact.
            raise RuntimeError(f"a fix produced invalid code ({exc}); the file was left unchanged") from None
        module = new_module or cst.parse_module(data)
        applied_total += applied
    if applied_total == 0:
        return FileResult(filename, tuple(findings), suppressed=silenced)
    return FileResult(
        filename,
        tuple(findings),
        fixed_source=module.code,
        applied_fixes=applied_total,
        suppressed=silenced,
        encoding=original.encoding,
    )
