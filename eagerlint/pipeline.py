"""The only module that chains the stages for one file.

prefilter -> CPython's syntax check -> outline -> engine (units, flow, analysis,
rules, fix safety) -> suppress -> the fix loop.  `check_bytes` always returns a
`FileResult`: findings, a read/parse error, or an internal error; it never raises.
"""

from __future__ import annotations

import bisect
import enum
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from eagerlint import parsing, prefilter, suppress
from eagerlint.analysis.project import Project
from eagerlint.config import Settings
from eagerlint.model import Applicability, ErrorKind, FileError, FileResult, Finding, Fix

if TYPE_CHECKING:
    from eagerlint.analysis.module import ModuleView
    from eagerlint.analysis.source import Parses

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

    def applies(self, finding: Finding) -> bool:
        """Whether this mode applies `finding`'s fix (it has one, at a level allowed)."""
        return finding.fix is not None and self.allows(finding.fix.applicability)


def _findings(
    text: str,
    filename: str,
    settings: Settings,
    project: Project | None,
    parses: Parses | None = None,
) -> tuple[list[Finding], int, tuple[str, ...]]:
    # Imported here so that a run whose files all fail the byte prefilter
    # never pays for importing libcst.
    import libcst as cst

    from eagerlint.analysis import walk
    from eagerlint.engine import analyse, directive_codes, noqa_findings
    from eagerlint.outline import outline

    shape = outline(text)
    try:
        found, deps = analyse(text, shape, filename, settings.analysis_options(), project, parses)
    except cst.ParserSyntaxError as exc:
        # CPython accepted the file (`check_syntax` ran first): libcst's grammar differs.
        where = f"line {exc.raw_line}, column {exc.raw_column + 1}: {exc.message}"
        raise parsing.Unparsable(f"libcst does not parse it ({where})") from None
    finally:
        walk.forget()  # the trees of this file need not outlive it
    codes = settings.codes_for(filename)
    judged = codes - directive_codes() if codes & directive_codes() else frozenset()
    done = suppress.apply([f for f in found if f.code in codes], text, shape.lines, judged)
    kept = sorted(done.kept + noqa_findings(done.unused, filename, codes), key=lambda f: (f.location, f.code))
    silenced = done.silenced
    paths = (
        tuple(sorted({p for m in project.closure(deps) for p in project.paths_of_module(m)}))
        if project
        else ()
    )
    return kept, silenced, paths


def is_candidate(data: bytes, settings: Settings) -> bool:
    """The byte prefilter: whether a file can hold a weight stream, or a directive
    naming an eagerlint code (a stale one is EL100's finding even in a file without
    a stream)."""
    return prefilter.may_contain_streams(data, settings.analysis) or prefilter.may_name_our_codes(data)


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
        # The whole analysis on the parser's thread: its parses need no hand-over.
        return parsing.on_large_stack(lambda: _check(data, filename, settings, mode, project))
    except prefilter.ParseError as exc:
        return FileResult(filename, error=FileError(filename, ErrorKind.PARSE, str(exc)))
    except parsing.Unparsable as exc:
        where = f"in {exc.filename}: " if exc.filename and exc.filename != filename else ""
        return FileResult(filename, error=FileError(filename, ErrorKind.LIMIT, where + exc.message))
    except RecursionError:
        error = FileError(filename, ErrorKind.LIMIT, "nested too deeply for eagerlint's analysis")
        return FileResult(filename, error=error)
    except Exception as exc:  # one file must never sink the run
        detail = traceback.format_exc()
        error = FileError(filename, ErrorKind.INTERNAL, f"{type(exc).__name__}: {exc}", detail)
        return FileResult(filename, error=error)


def _check(
    data: bytes, filename: str, settings: Settings, mode: FixMode, project: Project | None
) -> FileResult:
    text, encoding = prefilter.decode(data)
    parsing.check_syntax(text, filename)
    # A function the fixes leave alone is parsed once for all rounds of the fix loop.
    parses: Parses | None = None if mode is FixMode.NONE else {}
    findings, silenced, deps = _findings(text, filename, settings, project, parses)
    if mode is FixMode.NONE:
        return FileResult(filename, tuple(findings), suppressed=silenced, encoding=encoding, deps=deps)
    from eagerlint.edits import applied_fixes

    current, applied_total = text, 0
    fixed_codes: list[str] = []
    for _ in range(MAX_FIX_ROUNDS):
        fixable = [f for f in findings if mode.applies(f)]
        fixes = [f.fix for f in fixable if f.fix is not None]
        if not fixes:
            break
        candidate, indices = applied_fixes(current, fixes)
        applied = len(indices)
        if applied == 0 or candidate == current:
            break
        try:
            _must_parse(candidate, current, [fixes[i] for i in indices])
            findings, silenced, deps = _findings(candidate, filename, settings, project, parses)
        except (prefilter.ParseError, parsing.Unparsable) as exc:
            # The file parsed before (`check_syntax`): this is a bug in eagerlint; keep the file intact.
            raise RuntimeError(f"a fix produced invalid code ({exc}); the file was left unchanged") from None
        current, applied_total = candidate, applied_total + applied
        fixed_codes += (fixable[i].code for i in indices)
    if applied_total == 0:
        return FileResult(filename, tuple(findings), suppressed=silenced, encoding=encoding, deps=deps)
    return FileResult(
        filename,
        tuple(findings),
        fixed_source=current,
        applied_fixes=applied_total,
        fixed_codes=tuple(sorted(fixed_codes)),
        suppressed=silenced,
        encoding=encoding,
        deps=deps,
    )


def _must_parse(fixed: str, before: str, fixes: list[Fix]) -> None:
    """Every fix is checked with CPython's parser before anything is written.

    `fixes`: the fixes applied.  Only the top-level blocks that hold the edits are
    parsed, each alone, when that settles it (`before` parsed as a whole, and nothing
    outside them changed); the whole text otherwise, and whenever one does not parse
    alone (an outline that is wrong).
    """
    from eagerlint.outline import outline, split_lines

    # Each edit's rows in `fixed` (0-based, first and last): the rows of `before`,
    # shifted by the lines the edits above it added.
    edits = sorted({(e.location.row, e.end_location.row, e.content) for f in fixes for e in f.edits})
    if not edits:
        parsing.check_syntax(fixed, "<fix>")
        return
    rows, shift = [], 0
    for first, last, content in edits:
        added = len(split_lines(content + "x")) - 1 - (last - first)  # "x": a final line ending counts
        rows.append((first - 1 + shift, last - 1 + shift + added))
        shift += added
    blocks = outline(fixed).blocks  # in order, none inside another
    starts = [b.start for b in blocks]
    lines = split_lines(fixed)
    touched: dict[int, tuple[int, int]] = {}
    for first, last in rows:
        at = bisect.bisect_right(starts, first) - 1  # the last block starting at or above `first`
        if at < 0 or last >= blocks[at].end:
            touched.clear()
            break
        touched[blocks[at].start] = (blocks[at].start, blocks[at].end)
    try:
        for first, end in touched.values():
            parsing.check_syntax("".join(lines[first:end]), "<fix>")
        if touched:
            return
    except prefilter.ParseError:
        pass
    parsing.check_syntax(fixed, "<fix>")


def make_project(paths: list[Path], settings: Settings) -> Project:
    """The analysed tree, opening other modules on demand to follow calls across files."""
    from eagerlint.config import project_root

    project = Project.of(paths, project_root(settings))

    def load(module: str, path: Path) -> ModuleView:
        from eagerlint.engine import load_other

        return load_other(settings.analysis, project)(module, path)

    project.loader = load
    return project
