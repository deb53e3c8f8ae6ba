"""Stage 1: which files to check.

Directories are walked with excluded folders pruned before descending;
`exclude`/`extend-exclude` are gitignore-style patterns relative to the config
root, and every `.gitignore` on the way is respected (pathspec does the
matching).  A file named explicitly on the command line is always checked, as
ruff does without `--force-exclude`.

Every OS error on the way is a `Problem` record (the path and a one-line
message) among the files found, and the walk goes on: a symlink loop, a folder
that cannot be listed or searched, a `.gitignore` that cannot be read, a named
path that is not a regular file or folder (a FIFO would block the run).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from eagerlint.config import CONFIG_FILES, ConfigError, Configs, Settings

if TYPE_CHECKING:
    from pathspec import GitIgnoreSpec as Spec

PYTHON_SUFFIXES = (".py", ".pyi")


@dataclass(frozen=True)
class Problem:
    """A path that cannot be checked, and why (one line)."""

    path: Path
    message: str


def _os_message(exc: OSError) -> str:
    return f"{exc.strerror or exc} (os error {exc.errno})" if exc.errno else str(exc)


class _Unreadable(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem


def _spec(lines: list[str]) -> Spec:
    # pathspec costs ~15 ms to import: only runs with gitignore-style patterns pay it.
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(lines)


def _gitignore(directory: Path) -> Spec | None:
    path = directory / ".gitignore"
    try:
        return _spec(path.read_text(encoding="utf-8", errors="replace").splitlines())
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        # Silently ignoring it would check the files it excludes.
        raise _Unreadable(Problem(path, f"cannot read: {_os_message(exc)}")) from None


@dataclass(frozen=True)
class _Scope:
    """What decides exclusion below a folder: its configuration's patterns and root."""

    settings: Settings
    excludes: Excludes
    root: str
    gitignore: bool

    @classmethod
    def of(cls, settings: Settings) -> _Scope:
        return cls(
            settings,
            Excludes.of((*settings.exclude, *settings.extend_exclude)),
            str(settings.root.resolve()),
            settings.respect_gitignore,
        )


def discover(
    paths: list[Path], settings: Settings, *, force_exclude: bool = False, configs: Configs | None = None
) -> Iterator[Path | Problem]:
    """`configs`: the settings of each folder (its nearest configuration), whose
    excludes apply below it, and which records each file's settings as it is
    found; without, `settings` decides everywhere."""
    scopes: dict[int, _Scope] = {}

    def scope(of: Settings) -> _Scope:
        if id(of) not in scopes:
            scopes[id(of)] = _Scope.of(of)
        return scopes[id(of)]

    seen: set[str] = set()
    for given in paths:
        try:
            kind = _kind_of(given)
            if kind is not None:
                yield Problem(given, kind)
                continue
            absolute = str(given.resolve())
            if given.is_file():
                here = scope(configs.for_file(given) if configs else settings)
                if force_exclude and _excluded_anywhere(given, here.root, here.excludes, here.gitignore):
                    continue
                if absolute not in seen:
                    seen.add(absolute)
                    if configs:
                        configs.record(given, here.settings)
                    yield given
                continue
            start = scope(configs.for_dir(given) if configs else settings)
            ignores = _ignores_above(given) if start.gitignore else []
        except _Unreadable as exc:
            yield exc.problem
            continue
        nested = (lambda d: None if (own := configs.own(d)) is None else scope(own)) if configs else None
        for found, found_abs, where in _walk_dir(given, absolute, start, ignores, nested):
            if isinstance(found, Problem):
                yield found
            elif found_abs not in seen:
                seen.add(found_abs)
                if configs:
                    configs.record(found, where.settings)
                yield found


def _kind_of(given: Path) -> str | None:
    """Why a named path cannot be checked, or None for a regular file or a folder."""
    try:
        mode = given.stat().st_mode  # follows symlinks
    except OSError as exc:  # missing, a symlink loop, a folder above it that cannot be searched
        return _os_message(exc)
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    kinds = {stat.S_ISFIFO: "a FIFO", stat.S_ISSOCK: "a socket", stat.S_ISCHR: "a character device"}
    what = next((name for test, name in kinds.items() if test(mode)), "a special file")
    return f"not a regular file or folder ({what})"


def _rel(absolute: str, base: str) -> str | None:
    """`absolute` relative to `base`, by string: no filesystem calls per entry."""
    if absolute == base:
        return "."
    prefix = base.rstrip("/") + "/"
    return absolute[len(prefix) :] if absolute.startswith(prefix) else None


@dataclass(frozen=True)
class Excludes:
    """Exclude patterns, with plain names (`.venv`, `build`) answered by a set lookup."""

    names: frozenset[str]  # `name`: a file or folder of that name, anywhere
    dir_names: frozenset[str]  # `name/`: a folder of that name, anywhere
    spec: Spec | None  # the patterns that need pathspec, if any

    @classmethod
    def of(cls, patterns: tuple[str, ...]) -> Excludes:
        plain = [p for p in patterns if _is_plain(p)]
        rest = [p for p in patterns if not _is_plain(p)]
        return cls(
            frozenset(p for p in plain if not p.endswith("/")),
            frozenset(p[:-1] for p in plain if p.endswith("/")),
            _spec(rest) if rest else None,
        )

    def match(self, rel: str, name: str, is_dir: bool) -> bool:
        if name in self.names or (is_dir and name in self.dir_names):
            return True
        return self.spec is not None and self.spec.match_file(rel + ("/" if is_dir else ""))


def _is_plain(pattern: str) -> bool:
    """A bare name matches that name at any depth in gitignore syntax."""
    body = pattern[:-1] if pattern.endswith("/") else pattern
    return bool(body) and not any(c in body for c in "*?[]!/\\") and not body.startswith("#")


def _excluded(
    absolute: str, name: str, is_dir: bool, root: str, excludes: Excludes, ignores: list[tuple[str, Spec]]
) -> bool:
    suffix = "/" if is_dir else ""
    rel = _rel(absolute, root)
    # Patterns are rooted at the config directory; outside it, match on names.
    if excludes.match(rel if rel is not None else name, name, is_dir):
        return True
    for base, spec in ignores:
        rel_git = _rel(absolute, base)
        if rel_git is not None and spec.match_file(rel_git + suffix):
            return True
    return False


def _ignores_above(path: Path) -> list[tuple[str, Spec]]:
    """.gitignore files above `path` (outermost first)."""
    found: list[tuple[str, Spec]] = []
    for parent in reversed(path.resolve().parents):
        spec = _gitignore(parent)
        if spec is not None:
            found.append((str(parent), spec))
    return found


def _excluded_anywhere(path: Path, root: str, excludes: Excludes, gitignore: bool) -> bool:
    """Whether `path` or any folder above it (up to the root) is excluded."""
    ignores = _ignores_above(path) if gitignore else []
    absolute = path.resolve()
    candidates = [absolute, *(p for p in absolute.parents if _rel(str(p), root) not in (None, "."))]
    return any(_excluded(str(c), c.name, c != absolute, root, excludes, ignores) for c in candidates)


def _walk_dir(
    directory: Path,
    absolute: str,
    scope: _Scope,
    ignores: list[tuple[str, Spec]],
    nested: Callable[[Path], _Scope | None] | None = None,
) -> Iterator[tuple[Path | Problem, str, _Scope]]:
    """`nested`: the scope of a folder's own configuration, looked up only where the
    listing shows a configuration file (no extra system call per folder)."""
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
        if nested is not None and any(e.name in CONFIG_FILES for e in entries):
            scope = nested(directory) or scope
        if scope.gitignore:
            spec = _gitignore(directory)
            if spec is not None:
                ignores = [*ignores, (absolute, spec)]
    except _Unreadable as exc:
        yield exc.problem, "", scope
        return
    except OSError as exc:
        yield Problem(directory, f"cannot list: {_os_message(exc)}"), "", scope
        return
    except ConfigError as exc:
        yield Problem(directory, str(exc)), "", scope
        return
    for entry in entries:
        entry_abs = f"{absolute}/{entry.name}"
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
            if _excluded(entry_abs, entry.name, is_dir, scope.root, scope.excludes, ignores):
                continue
            # A symlink to a folder is not followed (no loops); one to a file is.
            is_python = not is_dir and entry.name.endswith(PYTHON_SUFFIXES) and entry.is_file()
        except OSError as exc:  # a symlink loop named `*.py`, an entry gone since listing
            yield Problem(Path(entry.path), _os_message(exc)), "", scope
            continue
        if is_dir:
            yield from _walk_dir(Path(entry.path), entry_abs, scope, ignores, nested)
        elif is_python:
            yield Path(entry.path), entry_abs, scope
