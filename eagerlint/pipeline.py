"""The only module that chains the stages for one file.

prefilter -> outline -> engine (units, flow, analysis, rules, fix safety) ->
suppress -> the fix loop.  `check_bytes` always returns a `FileResult`:
findings, a read/parse error, or an internal error; it never raises.
"""

from __future__ import annotations

import enum
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from eagerlint import prefilter, suppress
from eagerlint.analysis.project import Project
from eagerlint.config import Settings
from eagerlint.model import Applicability, ErrorKind, FileError, FileResult, Finding

if TYPE_CHECKING:
    from eagerlint.analysis.module import ModuleView

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


def _findings(
    text: str, filename: str, settings: Settings, project: Project | None
) -> tuple[list[Finding], int, tuple[str, ...]]:
    # Imported here so that a run whose files all fail the byte prefilter
    # never pays for importing libcst.
    import libcst as cst

    from eagerlint.engine import analyse
    from eagerlint.outline import outline

    try:
        found, deps = analyse(text, outline(text), filename, settings.analysis, project)
    except cst.ParserSyntaxError as exc:
        message = f"line {exc.raw_line}, column {exc.raw_column + 1}: {exc.message}"
        raise prefilter.ParseError(message) from None
    codes = settings.codes_for(filename)
    kept, silenced = suppress.apply([f for f in found if f.code in codes], text)
    paths = (
        tuple(sorted({p for m in project.closure(deps) for p in project.paths_of_module(m)}))
        if project
        else ()
    )
    return kept, silenced, paths


def is_candidate(data: bytes, settings: Settings) -> bool:
    """The byte prefilter: whether a file can hold a weight stream at all."""
    return prefilter.may_contain_streams(data, settings.analysis)


def check_bytes(
    data: bytes,
    filename: str,
    settings: Settings,
    mode: FixMode = FixMode.NONE,
    project: Project | None = None,
    *,
    candidate: bool | None = None,
) -> FileResult:
    """`candidate`: the prefilter's answer when the caller has it already."""
    try:
        if not (is_candidate(data, settings) if candidate is None else candidate):
            return FileResult(filename)
        return _check(data, filename, settings, mode, project)
    except prefilter.ParseError as exc:
        return FileResult(filename, error=FileError(filename, ErrorKind.PARSE, str(exc)))
    except RecursionError:
        error = FileError(filename, ErrorKind.INTERNAL, "nesting too deep to analyse")
        return FileResult(filename, error=error)
    except Exception as exc:  # one file must never sink the run
        detail = traceback.format_exc()
        error = FileError(filename, ErrorKind.INTERNAL, f"{type(exc).__name__}: {exc}", detail)
        return FileResult(filename, error=error)


def _check(
    data: bytes, filename: str, settings: Settings, mode: FixMode, project: Project | None
) -> FileResult:
    text, encoding = prefilter.decode(data)
    findings, silenced, deps = _findings(text, filename, settings, project)
    if mode is FixMode.NONE:
        return FileResult(filename, tuple(findings), suppressed=silenced, encoding=encoding, deps=deps)
    from eagerlint.edits import apply_fixes

    current, applied_total = text, 0
    for _ in range(MAX_FIX_ROUNDS):
        fixes = [f.fix for f in findings if f.fix is not None and mode.allows(f.fix.applicability)]
        if not fixes:
            break
        candidate, applied = apply_fixes(current, fixes)
        if applied == 0 or candidate == current:
            break
        try:
            findings, silenced, deps = _findings(candidate, filename, settings, project)
            _must_parse(candidate)
        except prefilter.ParseError as exc:
            # A fix that does not parse is a bug in eagerlint; keep the file intact.
            raise RuntimeError(f"a fix produced invalid code ({exc}); the file was left unchanged") from None
        current, applied_total = candidate, applied_total + applied
    if applied_total == 0:
        return FileResult(filename, tuple(findings), suppressed=silenced, encoding=encoding, deps=deps)
    return FileResult(
        filename,
        tuple(findings),
        fixed_source=current,
        applied_fixes=applied_total,
        suppressed=silenced,
        encoding=encoding,
        deps=deps,
    )


def _must_parse(text: str) -> None:
    """Every fix is re-parsed in full before anything is written."""
    import libcst as cst

    try:
        cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        raise prefilter.ParseError(f"line {exc.raw_line}: {exc.message}") from None


def make_project(paths: list[Path], settings: Settings) -> Project:
    """The analysed tree, opening other modules on demand to follow calls across files."""
    project = Project.of(paths)

    def load(module: str, path: Path) -> ModuleView:
        from eagerlint.engine import load_other

        return load_other(settings.analysis, project)(module, path)

    project.loader = load
    return project
