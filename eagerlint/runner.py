"""Checking many files: the byte prefilter, the result cache, and a process pool.

The CLI hands this module the files to check; it returns one `FileResult` per
file, in the same order, whichever way each was produced:

1. every file is read once, here; the byte prefilter settles most of them
   without importing libcst;
2. a content-hash cache (`.eagerlint_cache/`, keyed on eagerlint's version and
   the settings) returns stored results, findings included, for files whose
   bytes, and the bytes of every other file their analysis followed, are
   unchanged;
3. what is left is analysed, in a pool of worker processes when there is
   enough of it to pay for them, serially otherwise.

Only plain checks are cached and pooled; `--fix` and `--diff` run serially.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from eagerlint import __version__, parse
from eagerlint.config import Settings
from eagerlint.model import ErrorKind, FileError, FileResult
from eagerlint.pipeline import FixMode, check_bytes, make_project

CACHE_DIR = ".eagerlint_cache"
# Below this many files to analyse, starting workers costs more than it saves.
POOL_THRESHOLD = 24


@dataclass(frozen=True)
class Entry:
    digest: str
    deps: dict[str, str]  # other file -> its digest when the result was computed
    result: FileResult


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class Cache:
    """One pickle per (eagerlint version, settings), like ruff's per-package cache."""

    def __init__(self, root: Path, settings: Settings) -> None:
        key = _digest(repr((__version__, settings.fingerprint())).encode())
        self.folder = root / CACHE_DIR
        self.path = self.folder / __version__ / f"{key}.pickle"
        self.entries: dict[str, Entry] = {}
        self.dirty = False
        try:
            with self.path.open("rb") as handle:
                loaded = pickle.load(handle)
            if isinstance(loaded, dict):
                self.entries = loaded
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError):
            self.entries = {}

    def get(self, path: str, digest: str, digests: dict[str, str]) -> FileResult | None:
        entry = self.entries.get(path)
        if entry is None or entry.digest != digest:
            return None
        for dep, dep_digest in entry.deps.items():
            if (digests.get(dep) or _file_digest(dep)) != dep_digest:
                return None
        return entry.result

    def put(self, path: str, digest: str, result: FileResult, digests: dict[str, str]) -> None:
        deps = {dep: digests.get(dep) or _file_digest(dep) for dep in result.deps}
        self.entries[path] = Entry(digest, deps, result)
        self.dirty = True

    def save(self) -> None:
        if not self.dirty:
            return
        try:
            self.folder.mkdir(exist_ok=True)
            ignore = self.folder / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# Automatically created by eagerlint.\n*\n")
            self.path.parent.mkdir(exist_ok=True)
            tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
            with tmp.open("wb") as handle:
                pickle.dump(self.entries, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.path)
        except OSError:
            pass  # a cache that cannot be written only costs time


def _file_digest(path: str) -> str:
    try:
        return _digest(Path(path).read_bytes())
    except OSError:
        return ""


# -- the pool -------------------------------------------------------------------------

_WORKER: dict[str, object] = {}


def _init_worker(settings: Settings, mode: FixMode, paths: list[Path]) -> None:
    _WORKER["settings"] = settings
    _WORKER["mode"] = mode
    _WORKER["project"] = make_project(paths, settings)


def _work(item: tuple[str, bytes]) -> FileResult:
    name, data = item
    settings, mode, project = _WORKER["settings"], _WORKER["mode"], _WORKER["project"]
    return check_bytes(data, name, settings, mode, project)  # type: ignore[arg-type]


def _jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def run(
    files: Sequence[Path],
    settings: Settings,
    mode: FixMode,
    *,
    use_cache: bool = True,
    jobs: int | None = None,
) -> tuple[list[FileResult], dict[str, bytes]]:
    """Results in the order of `files`, and the bytes read (for diffs and frames)."""
    results: dict[int, FileResult] = {}
    sources: dict[str, bytes] = {}
    todo: list[int] = []
    for index, path in enumerate(files):
        name = str(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            results[index] = FileResult(name, error=FileError(name, ErrorKind.READ, exc.strerror or str(exc)))
            continue
        sources[name] = data
        if parse.may_contain_streams(data, settings.analysis):
            todo.append(index)
        else:
            results[index] = FileResult(name)

    cache = Cache(settings.root, settings) if use_cache and mode is FixMode.NONE else None
    digests: dict[str, str] = {}
    if cache is not None:
        digests = {os.path.abspath(files[i]): _digest(sources[str(files[i])]) for i in todo}
        remaining = []
        for i in todo:
            key = os.path.abspath(files[i])
            hit = cache.get(key, digests[key], digests)
            if hit is not None:
                results[i] = hit
            else:
                remaining.append(i)
        todo = remaining

    paths = list(files)
    workers = min(jobs or _jobs(), len(todo))
    if workers > 1 and len(todo) >= POOL_THRESHOLD and mode is FixMode.NONE:
        import multiprocessing

        context = multiprocessing.get_context("fork")
        items = [(str(files[i]), sources[str(files[i])]) for i in todo]
        with context.Pool(workers, _init_worker, (settings, mode, paths)) as pool:
            chunk = max(1, len(items) // (workers * 8))
            results.update(zip(todo, pool.imap(_work, items, chunksize=chunk), strict=True))
    else:
        project = make_project(paths, settings)
        for i in todo:
            results[i] = check_bytes(sources[str(files[i])], str(files[i]), settings, mode, project)

    if cache is not None:
        for i in todo:
            result = results[i]
            # A file's own syntax error is as stable as its findings; an
            # internal error is eagerlint's and is retried next time.
            if result.error is None or result.error.kind is not ErrorKind.INTERNAL:
                key = os.path.abspath(files[i])
                cache.put(key, digests[key], result, digests)
        cache.save()
    return [results[i] for i in range(len(files))], sources
