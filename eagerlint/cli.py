"""The command line: talks to config, discover, pipeline, report and rewrite.

It does no analysis itself.  Exit codes: 0 nothing left to report, 1 findings
remain (`--diff`: something to fix; `--exit-non-zero-on-fix`: or a file was
rewritten), 2 usage, config, read or parse errors.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from eagerlint import __version__
from eagerlint.codes import CODES

if TYPE_CHECKING:
    from eagerlint.analysis.project import Project
    from eagerlint.config import Configs, Settings
    from eagerlint.model import FileError, FileResult
    from eagerlint.pipeline import FixMode

EXAMPLE_CODE = next(iter(CODES))

SUBCOMMANDS = ("check", "rule", "clean")
FORMATS = ("full", "concise", "json", "json-lines", "github", "sarif")
STATISTICS_FORMATS = ("full", "concise", "json", "json-lines")
EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


EPILOG = f"""\
output formats (--output-format): {", ".join(FORMATS)}

exit codes:
  0  nothing left to report (after --fix: every finding was fixed)
  1  findings remain; --diff: there is something to fix; with
     --exit-non-zero-on-fix, also when --fix rewrote a file
  2  a usage or configuration error, or a file that could not be read,
     parsed, analysed or written

rules: `eagerlint rule --all` prints every rule's documentation,
`eagerlint rule {EXAMPLE_CODE}` one of them.
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="eagerlint",
        description="Find and fix code that materializes model-weight streams on load paths.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"eagerlint {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = sub.add_parser(
        "check",
        help="check files (the default command)",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument(
        "paths", nargs="*", type=Path, default=None, help="files or folders (default: .); - reads stdin"
    )
    check.add_argument("--fix", action="store_true", help="apply safe fixes")
    check.add_argument("--unsafe-fixes", action="store_true", help="also consider unsafe fixes")
    check.add_argument("--diff", action="store_true", help="print the fixes as a unified diff; write nothing")
    check.add_argument(
        "--show-fixes", action="store_true", help="with --fix: list the fixed findings per file and code"
    )
    check.add_argument(
        "--exit-non-zero-on-fix",
        action="store_true",
        help="exit 1 when --fix rewrote a file, even if nothing remains",
    )
    check.add_argument("--select", action="append", metavar="CODES", help="rule codes or prefixes to enable")
    check.add_argument(
        "--extend-select", action="append", metavar="CODES", help="rule codes or prefixes to enable as well"
    )
    check.add_argument("--ignore", action="append", metavar="CODES", help="rule codes or prefixes to disable")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when findings remain")
    check.add_argument("--statistics", action="store_true", help="print counts per rule instead of findings")
    check.add_argument("--output-format", choices=FORMATS, default="full")
    check.add_argument(
        "-o", "--output-file", type=Path, metavar="FILE", help="write the report to FILE instead of stdout"
    )
    check.add_argument("--config", type=Path, metavar="FILE", help="pyproject.toml or eagerlint.toml to use")
    check.add_argument(
        "--force-exclude", action="store_true", help="apply excludes to files named on the command line too"
    )
    check.add_argument("--no-cache", action="store_true", help="do not read or write the result cache")
    check.add_argument(
        "--show-flow", action="store_true", help="print each finding's path from source to sink"
    )
    check.add_argument(
        "--stdin-filename", metavar="NAME", help="the name to report for source read from stdin"
    )
    check.add_argument(
        "--add-noqa", action="store_true", help="add `# noqa: CODE` to every line with a finding; fix nothing"
    )
    check.add_argument(
        "--baseline", type=Path, metavar="FILE", help="report only findings that FILE does not hold"
    )
    check.add_argument(
        "--write-baseline", type=Path, metavar="FILE", help="write every current finding to FILE; exit 0"
    )
    check.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the text formats (auto: on a terminal; NO_COLOR and FORCE_COLOR are honoured)",
    )
    check.add_argument("-q", "--quiet", action="store_true", help="print findings only, no summary")
    check.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")

    rule = sub.add_parser("rule", help="print the documentation of a rule")
    rule.add_argument("code", nargs="?", help=f"a rule code ({EXAMPLE_CODE}) or name")
    rule.add_argument("--all", action="store_true", help="print every rule")

    sub.add_parser("clean", help="remove .eagerlint_cache folders below the current directory")
    return parser


class UsageError(Exception):
    """A command line that means nothing; the message says why (exit 2)."""


def _normalize(argv: list[str]) -> list[str]:
    """`eagerlint --fix vllm/` means `eagerlint check --fix vllm/`, as in ruff's early days.

    A first word that is no path but close to a command is a typo, not a path.
    """
    if not argv:
        return ["check"]
    if argv[0] in SUBCOMMANDS or argv[0] in ("-h", "--help", "--version"):
        return argv
    word = argv[0]
    pathlike = any(c in word for c in "./\\") or word.startswith("-")
    if not pathlike and not Path(word).exists():
        close = difflib.get_close_matches(word, SUBCOMMANDS, n=1, cutoff=0.6)
        if close:
            raise UsageError(f"unknown command `{word}` (did you mean `{close[0]}`?)")
    return ["check", *argv]


def _tune_gc() -> None:
    """Collect reference cycles less often, with mypy's thresholds.

    libcst builds hundreds of thousands of small nodes that form almost no cycles, and
    with CPython's default thresholds the collector ran often over all of them: on
    vLLM 0.33.0 a cold check took 1.95 s instead of 2.25 s (median of 4 alternations),
    2,000 functions in one file 4.0 s instead of 5.0-6.1 s, with the same peak RSS.
    The pool's workers are forked and inherit it.
    """
    import gc
    import platform

    if platform.python_implementation() == "CPython":
        gc.set_threshold(200_000, 30, 30)


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None:  # run as a program, not called by another one
        _tune_gc()
    try:
        words = _normalize(list(sys.argv[1:] if argv is None else argv))
    except UsageError as exc:
        return _error(str(exc))
    args = _parser().parse_args(words)
    try:
        if args.command == "rule":
            return _rule(args)
        if args.command == "clean":
            return _clean()
        return _check(args)
    except KeyboardInterrupt:
        print("eagerlint: interrupted", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_ERROR
    except OSError as exc:
        # Each file's OS errors are reported with the file; this is the last guard
        # (the current folder removed, a pool that cannot fork): one line, never a traceback.
        where = f"{exc.filename}: " if exc.filename else ""
        return _error(f"{where}{exc.strerror or exc} (os error {exc.errno})")


def _rule(args: argparse.Namespace) -> int:
    from eagerlint import engine

    if args.all:
        for each in engine.rule_docs():
            print(f"# {each.name} ({each.code})\n\n{each.text}\n")
        return EXIT_CLEAN
    if not args.code:
        print(f"eagerlint: `rule` needs a code (e.g. {EXAMPLE_CODE}) or --all", file=sys.stderr)
        return EXIT_ERROR
    doc = engine.rule_doc(args.code)
    if doc is None:
        print(f"eagerlint: unknown rule `{args.code}`", file=sys.stderr)
        return EXIT_ERROR
    print(f"# {doc.name} ({doc.code})\n\n{doc.text}")
    return EXIT_CLEAN


def _clean() -> int:
    removed = 0
    for cache in Path.cwd().rglob(".eagerlint_cache"):
        shutil.rmtree(cache, ignore_errors=True)
        removed += 1
    print(f"Removed {removed} cache folder{'s' if removed != 1 else ''}.")
    return EXIT_CLEAN


def _check(args: argparse.Namespace) -> int:
    from eagerlint import config
    from eagerlint.pipeline import FixMode

    def adjust(found: Settings) -> Settings:
        return found.with_overrides(select=args.select, ignore=args.ignore, extend_select=args.extend_select)

    try:
        path = args.config if args.config is not None else config.find_config(Path.cwd())
        settings = adjust(config.load(path, explicit=args.config is not None))
    except config.ConfigError as exc:
        return _error(str(exc))
    for warning in settings.warnings:
        print(f"eagerlint: warning: {warning}", file=sys.stderr)
    configs = config.Configs(settings, args.config is not None, adjust)

    conflict = _conflict(args)
    if conflict:
        return _error(conflict)
    mode = FixMode.NONE
    if args.fix or args.diff:
        mode = FixMode.UNSAFE if args.unsafe_fixes else FixMode.SAFE
    paths: list[Path] = args.paths or [Path(".")]
    stdin = any(str(p) == "-" for p in paths)
    if stdin and len(paths) > 1:
        print("eagerlint: error: `-` (stdin) cannot be combined with other paths", file=sys.stderr)
        return EXIT_ERROR
    try:
        run = _run_stdin(args, configs, mode) if stdin else _run_paths(args, paths, configs, mode)
    except config.ConfigError as exc:  # a configuration above a file named outside the tree
        return _error(str(exc))
    run.encode_fixes()
    if args.fix and not stdin:
        run.write_fixes()

    status = EXIT_CLEAN
    for result in run.results:
        if result.error is not None:
            _print_error(result.error, args.debug)
            status = EXIT_ERROR
    if args.add_noqa:
        return _add_noqa(args, run, status)
    if args.write_baseline is not None:
        return _write_baseline(args, run, settings, status)
    if args.baseline is not None:
        from eagerlint.baseline import BaselineError

        try:
            run.drop_baselined(args.baseline, settings)
        except BaselineError as exc:
            return _error(str(exc))
    if args.diff:
        return _diff(args, run, status)
    if stdin and args.fix:
        return _echo_stdin(args, run, status)
    return _report(args, run, status)


class _Run:
    """The results of one run, the bytes read, and the fixed bytes to write or show."""

    def __init__(
        self, results: list[FileResult], sources: dict[str, bytes], recheck: Callable[[str], FileResult]
    ) -> None:
        from eagerlint.report import display_name

        # Reported by path, then line and column, whatever order the paths were given in
        # (findings are in line order within a file).
        def shown(name: str) -> str:
            return display_name(name) if os.path.isabs(name) else name

        self.results = sorted(results, key=lambda r: shown(r.filename))
        self.sources = sources
        self.fixed: dict[str, bytes] = {}  # filename -> the fixed file's bytes
        self.baselined = 0  # findings left out because the baseline holds them
        self._recheck = recheck

    def encode_fixes(self) -> None:
        from eagerlint.writeback import WriteError, encoded

        for i, r in enumerate(self.results):
            if r.fixed_source is None:
                continue
            try:
                self.fixed[r.filename] = encoded(self.sources[r.filename], r.fixed_source, r.encoding)
            except WriteError as exc:
                self._unfixed(i, str(exc))

    def write_fixes(self) -> None:
        """Write every fixed file; one that cannot be written is named, and the rest goes on."""
        from eagerlint.writeback import WriteError, write_fixed

        for i, r in enumerate(self.results):
            if r.filename not in self.fixed:
                continue
            try:
                write_fixed(Path(r.filename), self.sources[r.filename], self.fixed[r.filename])
            except WriteError as exc:
                self._unfixed(i, str(exc))

    def drop_baselined(self, path: Path, settings: Settings) -> None:
        """Leave out the findings the baseline at `path` holds (they are not reported)."""
        from eagerlint import baseline
        from eagerlint.config import project_root

        known = baseline.load(path)
        findings = [f for r in self.results for f in r.findings]
        kept = {id(f) for f in baseline.without_known(findings, known, project_root(settings)).kept}
        self.baselined = len(findings) - len(kept)
        self.results = [
            dataclasses.replace(r, findings=tuple(f for f in r.findings if id(f) in kept))
            if r.findings
            else r
            for r in self.results
        ]

    def _unfixed(self, index: int, why: str) -> None:
        # The file keeps its findings unfixed: report them as a plain check does.
        from eagerlint.model import ErrorKind, FileError

        name = self.results[index].filename
        self.fixed.pop(name, None)
        error = FileError(name, ErrorKind.WRITE, why)
        self.results[index] = dataclasses.replace(self._recheck(name), error=error)


def _error(message: str) -> int:
    """One line on stderr for an error that ends the run (exit 2)."""
    print(f"eagerlint: error: {message}", file=sys.stderr)
    return EXIT_ERROR


def _conflict(args: argparse.Namespace) -> str | None:
    """Options that cannot go together, as ruff refuses them."""
    if args.add_noqa and (args.fix or args.diff):
        return "--add-noqa cannot be combined with --fix or --diff"
    if args.add_noqa and args.baseline is not None:
        return "--add-noqa cannot be combined with --baseline (a baselined finding needs no directive)"
    if args.write_baseline is not None and args.baseline is not None:
        return "--write-baseline cannot be combined with --baseline"
    if (args.add_noqa or args.write_baseline is not None) and any(str(p) == "-" for p in args.paths or []):
        return "--add-noqa and --write-baseline need files, not `-` (stdin)"
    if args.statistics and args.output_format not in STATISTICS_FORMATS:
        # ruff refuses it too ("Unsupported serialization format for statistics").
        shown = ", ".join(STATISTICS_FORMATS)
        return f"--statistics cannot be written as {args.output_format} (it can as {shown})"
    return None


def _add_noqa(args: argparse.Namespace, run: _Run, status: int) -> int:
    """ruff's `--add-noqa`: every finding's code named in a directive on its line."""
    from eagerlint import parsing, prefilter
    from eagerlint.report import display_name
    from eagerlint.suppress import add_directives
    from eagerlint.writeback import WriteError, encoded, write_fixed

    added = 0
    for r in run.results:
        data = run.sources.get(r.filename)
        if not r.findings or data is None:
            continue
        text, _ = prefilter.decode(data)
        done = add_directives(text, r.findings)
        for f in done.missed:
            where = f"{display_name(f.filename)}:{f.location.row}"
            print(f"eagerlint: warning: {where}: no line of it can hold a comment", file=sys.stderr)
        if not done.rows:
            continue
        try:
            parsing.check_syntax(done.text, r.filename)  # a comment at a line's end never breaks it
            write_fixed(Path(r.filename), data, encoded(data, done.text, r.encoding))
        except (WriteError, prefilter.ParseError) as exc:
            print(f"eagerlint: error: {display_name(r.filename)}: write error: {exc}", file=sys.stderr)
            status = EXIT_ERROR
            continue
        added += done.rows
    if not args.quiet:
        print(f"Added {added} noqa directive{_s(added)}.", file=sys.stderr)
    return status


def _write_baseline(args: argparse.Namespace, run: _Run, settings: Settings, status: int) -> int:
    from eagerlint import baseline
    from eagerlint.config import project_root

    findings = [f for r in run.results for f in r.findings]
    try:
        count = baseline.write(args.write_baseline, findings, project_root(settings))
    except baseline.BaselineError as exc:
        return _error(str(exc))
    if not args.quiet:
        print(f"Wrote {count} finding{_s(count)} to {args.write_baseline}.", file=sys.stderr)
    return status


def _run_stdin(args: argparse.Namespace, configs: Configs, mode: FixMode) -> _Run:
    """Source from stdin, judged as the file `--stdin-filename` names (ruff's
    convention): with the settings of that file's nearest configuration, and with
    its imports resolved in the tree around it."""
    from eagerlint.pipeline import FixMode, check_bytes, make_project

    name = args.stdin_filename or "-"
    data = sys.stdin.buffer.read()
    if args.stdin_filename is None:
        settings, project = configs.fallback, None
    else:
        settings = configs.for_file(Path(name))
        project = make_project([Path(name)], settings)
        _warn_loaded(configs)
    result = check_bytes(data, name, settings, mode, project)
    return _Run([result], {name: data}, lambda n: check_bytes(data, n, settings, FixMode.NONE, project))


def _warn_loaded(configs: Configs) -> None:
    """The warnings of each configuration read besides the one of the current folder."""
    for other in configs.loaded():
        if other is not configs.fallback:
            for warning in other.warnings:
                print(f"eagerlint: warning: {warning}", file=sys.stderr)


def _run_paths(args: argparse.Namespace, paths: list[Path], configs: Configs, mode: FixMode) -> _Run:
    """Every file with the settings of its nearest configuration: one run per configuration."""
    from eagerlint import discover, runner
    from eagerlint.model import ErrorKind, FileError, FileResult
    from eagerlint.pipeline import FixMode, check_bytes, make_project

    found = discover.discover(paths, configs.fallback, force_exclude=args.force_exclude, configs=configs)
    discovered = list(found)
    results = [
        FileResult(str(m.path), error=FileError(str(m.path), ErrorKind.READ, m.message))
        for m in discovered
        if isinstance(m, discover.Problem)
    ]
    _warn_loaded(configs)
    if not discovered and not any(files for _, files in configs.groups.values()) and not args.quiet:
        # ruff's words: a path given by mistake (or all of it excluded) is not "all passed".
        print("eagerlint: warning: No Python files found under the given path(s)", file=sys.stderr)
    sources: dict[str, bytes] = {}
    group_of: dict[str, tuple[Settings, list[Path]]] = {}
    for settings, files in configs.groups.values():
        checked, read = runner.run(files, settings, mode, use_cache=not args.no_cache)
        results += checked
        sources.update(read)
        group_of.update((str(f), (settings, files)) for f in files)
    projects: dict[int, Project] = {}  # made only if a file has to be checked again

    def recheck(name: str) -> FileResult:
        settings, files = group_of[name]
        if id(settings) not in projects:
            projects[id(settings)] = make_project(files, settings)
        return check_bytes(sources[name], name, settings, FixMode.NONE, projects[id(settings)])

    return _Run(results, sources, recheck)


def _print_error(err: FileError, debug: bool) -> None:
    from eagerlint.report import display_name

    print(f"eagerlint: error: {display_name(err.filename)}: {err.kind.value}: {err.message}", file=sys.stderr)
    if debug and err.detail:
        print(err.detail, file=sys.stderr)


def _write_bytes(data: bytes) -> None:
    # Bytes exactly as they are (a file's own encoding, a BOM, its line endings).
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def _diff(args: argparse.Namespace, run: _Run, status: int) -> int:
    from eagerlint.report import display_name
    from eagerlint.writeback import unified_diff

    changed = [r for r in run.results if r.filename in run.fixed]
    for r in changed:
        _write_bytes(unified_diff(display_name(r.filename), run.sources[r.filename], run.fixed[r.filename]))
    if not args.quiet and changed:
        fixes = sum(r.applied_fixes for r in changed)
        print(
            f"Would fix {fixes} error{_s(fixes)} in {len(changed)} file{_s(len(changed))}.", file=sys.stderr
        )
    if changed and status == EXIT_CLEAN and not args.exit_zero:
        status = EXIT_FINDINGS
    return status


def _echo_stdin(args: argparse.Namespace, run: _Run, status: int) -> int:
    # ruff's convention: with --fix on stdin, the (fixed) source goes to stdout, as
    # the bytes that were read except the edits (unreadable input comes back as it was),
    # and the report of what remains to stderr.
    r = run.results[0]
    _write_bytes(run.fixed.get(r.filename, run.sources[r.filename]))
    return _write_report(args, run, status, sys.stderr)


def _report(args: argparse.Namespace, run: _Run, status: int) -> int:
    if args.output_file is None:
        return _write_report(args, run, status, sys.stdout)
    # An OSError here (a folder in the way, no permission) is main()'s one line and exit 2.
    args.output_file.parent.mkdir(parents=True, exist_ok=True)
    with args.output_file.open("w", encoding="utf-8") as out:
        return _write_report(args, run, status, out)


def _write_report(args: argparse.Namespace, run: _Run, status: int, out: TextIO) -> int:
    from eagerlint import color, report
    from eagerlint.outline import split_lines

    findings = [f for r in run.results for f in r.findings]
    text = args.output_format in ("full", "concise")
    # FORCE_COLOR is for terminals that are not ttys (CI logs); the file of
    # --output-file (`out` is neither stdout nor stderr) gets colour only from --color=always.
    to_file = out is not sys.stdout and out is not sys.stderr
    choice = "never" if to_file and args.color == "auto" else args.color
    paint = color.paint if text and color.enabled(choice, out) else None

    def emit(line: str) -> None:
        print(paint(line) if paint else line, file=out)

    if args.statistics and args.output_format in ("json", "json-lines"):
        out.write(report.statistics_json(findings))
    elif args.statistics:
        for line in report.statistics(findings, args.unsafe_fixes):
            emit(line)
    elif args.output_format in report.DOCUMENTS:
        out.write(report.DOCUMENTS[args.output_format](run.results))
    else:
        by_file = {r.filename: r for r in run.results}
        lines: dict[str, list[str]] = {}  # split once per file, not once per finding
        for f in findings:
            if args.output_format == "concise":
                emit(report.concise_line(f, args.unsafe_fixes))
                continue
            if f.filename not in lines:
                result = by_file[f.filename]
                shown = result.fixed_source
                if shown is None:
                    shown = run.sources.get(f.filename, b"").decode(result.encoding, errors="replace")
                lines[f.filename] = split_lines(shown)
            for line in report.full(f, lines[f.filename], args.show_flow, args.unsafe_fixes):
                emit(line)
    if not args.quiet and text:
        if args.show_fixes and args.fix:
            for line in report.fixed_lines(run.results):
                emit(line)
        for line in report.summary(run.results, findings, args.fix, args.unsafe_fixes):
            # Not after an error: a file that could not be checked did not pass.
            if not (status == EXIT_ERROR and line == "All checks passed!"):
                emit(line)
        if run.baselined:
            emit(f"{run.baselined} finding{_s(run.baselined)} in the baseline not shown.")
    rewrote = bool(run.fixed) and args.exit_non_zero_on_fix
    if (findings or rewrote) and status == EXIT_CLEAN and not args.exit_zero:
        status = EXIT_FINDINGS
    return status


def _s(n: int) -> str:
    return "" if n == 1 else "s"
