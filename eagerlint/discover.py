"""Stage 1: which files to check.

Directories are walked with excluded folders pruned before descending;
`exclude`/`extend-exclude` are gitignore-style patterns relative to the config
root, and every `.gitignore` on the way is respected (pathspec does the
matching).  A file named explicitly on the command line is always checked, as
ruff does without `--force-exclude`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pathspec

from eagerlint.config import Settings

Spec = pathspec.GitIgnoreSpec

PYTHON_SUFFIXES = (".py", ".pyi")


@dataclass(frozen=True)
class Missing:
    path: Path


def _spec(patterns: tuple[str, ...]) -> Spec:
    return Spec.from_lines(patterns)


def _gitignore(directory: Path) -> Spec | None:
    path = directory / ".gitignore"
    try:
        return Spec.from_lines(path.read_text(encoding="utf-8", errors="replace").splitlines())
    except OSError:
        return None


def _relative(path: Path, root: Path) -> str | None:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return None


def discover(
    paths: list[Path], settings: Settings, *, force_exclude: bool = False
) -> Iterator[Path | Missing]:
    excludes = _spec((*settings.exclude, *settings.extend_exclude))
    root = settings.root.resolve()
    seen: set[Path] = set()
    for given in paths:
        if not given.exists():
            yield Missing(given)
            continue
        if given.is_file():
            if force_exclude and _excluded_anywhere(given, root, excludes, settings.respect_gitignore):
                continue
            if given.resolve() not in seen:
                seen.add(given.resolve())
                yield given
            continue
        for found in _walk(given, root, excludes, settings.respect_gitignore):
            if found.resolve() not in seen:
                seen.add(found.resolve())
                yield found


def _excluded(
    path: Path,
    is_dir: bool,
    root: Path,
    excludes: Spec,
    ignores: list[tuple[Path, Spec]],
) -> bool:
    suffix = "/" if is_dir else ""
    absolute = path.resolve()
    rel = _relative(absolute, root)
    # Patterns are rooted at the config directory; outside it, match on names.
    if excludes.match_file((rel if rel is not None else path.name) + suffix):
        return True
    for base, spec in ignores:
        rel_git = _relative(absolute, base)
        if rel_git is not None and spec.match_file(rel_git + suffix):
            return True
    return False


def _excluded_anywhere(path: Path, root: Path, excludes: Spec, gitignore: bool) -> bool:
    """Whether `path` or any folder above it (up to the root) is excluded."""
    ignores: list[tuple[Path, Spec]] = []
    if gitignore:
        for parent in reversed(path.resolve().parents):
            spec = _gitignore(parent)
            if spec is not None:
                ignores.append((parent, spec))
    absolute = path.resolve()
    candidates = [absolute, *(p for p in absolute.parents if _relative(p, root) not in (None, "."))]
    return any(_excluded(c, c != absolute, root, excludes, ignores) for c in candidates)


def _walk(top: Path, root: Path, excludes: Spec, gitignore: bool) -> Iterator[Path]:
    ignores: list[tuple[Path, Spec]] = []
    if gitignore:
        # .gitignore files above the starting folder, up to the repository root.
        for parent in reversed(top.resolve().parents):
            spec = _gitignore(parent)
            if spec is not None:
                ignores.append((parent, spec))
    yield from _walk_dir(top, root, excludes, gitignore, ignores)


def _walk_dir(
    directory: Path,
    root: Path,
    excludes: Spec,
    gitignore: bool,
    ignores: list[tuple[Path, Spec]],
) -> Iterator[Path]:
    if gitignore:
        spec = _gitignore(directory)
        if spec is not None:
            ignores = [*ignores, (directory.resolve(), spec)]
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        path = Path(entry.path)
        is_dir = entry.is_dir(follow_symlinks=False)
        if _excluded(path, is_dir, root, excludes, ignores):
            continue
        if is_dir:
            yield from _walk_dir(path, root, excludes, gitignore, ignores)
        elif entry.name.endswith(PYTHON_SUFFIXES) and entry.is_file():
            yield path
