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
import time
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


@dataclass(frozen=True)
class Known:
    """What a file's bytes were, for as long as its `os.stat` stays the same."""

    stat: tuple[int, int, int, int]  # size, mtime_ns, ctime_ns, inode
    digest: str  # "" for files the prefilter rejected (no digest needed)
    candidate: bool  # passed the byte prefilter


# A file modified this close to a run may change again within the file system's
# timestamp granularity without its stat changing (git's "racy" case): such a
# file is not remembered by stat, only by content.
RACY_NS = 2_000_000_000


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _stat(path: str) -> tuple[int, int, int, int] | None:
    # ctime too, as git does: `touch -r`, `cp -p` and archives can set an old
    # mtime back, but any change to the file or its mode moves its ctime.
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


class Cache:
    """One pickle per (eagerlint version, settings), like ruff's per-package cache.

    `entries` holds results by content digest; `known` lets a warm run skip
    reading files whose size, mtime, ctime and inode are what they were (ruff's
    cache trusts mtimes the same way).  `in_run` is the set of files this run
    checks: another module a result depended on counts as absent unless it is
    one of them, as it was for the analysis.
    """

    def __init__(self, root: Path, settings: Settings, started_ns: int) -> None:
        key = _digest(repr((__version__, settings.fingerprint())).encode())
        self.folder = root / CACHE_DIR
        self.path = self.folder / __version__ / f"{key}.pickle"
        self.entries: dict[str, Entry] = {}
        self.known: dict[str, Known] = {}
        self.dirty = False
        self.started_ns = started_ns
        self.in_run: set[str] = set()
        try:
            with self.path.open("rb") as handle:
                loaded = pickle.load(handle)
            if isinstance(loaded, dict) and set(loaded) == {"entries", "known"}:
                self.entries, self.known = loaded["entries"], loaded["known"]
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError):
            pass

    def lookup(self, path: str) -> tuple[Known | None, tuple[int, int, int, int] | None]:
        """The remembered facts of `path` if its stat is unchanged, and its stat."""
        stat = _stat(path)
        known = self.known.get(path)
        return (known if known is not None and known.stat == stat else None), stat

    def remember(
        self, path: str, stat: tuple[int, int, int, int] | None, digest: str, candidate: bool
    ) -> None:
        if stat is None or stat[1] >= self.started_ns - RACY_NS:
            if self.known.pop(path, None) is not None:
                self.dirty = True
            return
        known = Known(stat, digest, candidate)
        if self.known.get(path) != known:
            self.known[path] = known
            self.dirty = True

    def digest_of(self, path: str, digests: dict[str, str]) -> str:
        if path not in self.in_run:
            return ""
        found = digests.get(path)
        if found:
            return found
        known, _ = self.lookup(path)
        if known is not None and known.digest:
            return known.digest
        return _file_digest(path)

    def get(self, path: str, digest: str, digests: dict[str, str]) -> FileResult | None:
        entry = self.entries.get(path)
        if entry is None or entry.digest != digest:
            return None
        for dep, dep_digest in entry.deps.items():
            if self.digest_of(dep, digests) != dep_digest:
                return None
        return entry.result

    def put(self, path: str, digest: str, result: FileResult, digests: dict[str, str]) -> None:
        deps = {dep: self.digest_of(dep, digests) for dep in result.deps}
        self.entries[path] = Entry(digest, deps, result)
        self.dirty = True

    def save(self) -> None:
        if not self.dirty:
            return
        # Files that are gone take their entries with them (checked only when
        # something changed, so a warm run pays nothing).
        self.entries = {p: e for p, e in self.entries.items() if p in self.in_run or os.path.exists(p)}
        self.known = {p: k for p, k in self.known.items() if p in self.in_run or os.path.exists(p)}
        try:
            self.folder.mkdir(exist_ok=True)
            ignore = self.folder / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# Automatically created by eagerlint.\n*\n")
            self.path.parent.mkdir(exist_ok=True)
            tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
            with tmp.open("wb") as handle:
                state = {"entries": self.entries, "known": self.known}
                pickle.dump(state, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.path)
        except OSError:
            pass  # a cache that cannot be written only costs time


def _read(path: Path) -> bytes | FileError:
    try:
        return path.read_bytes()
    except OSError as exc:
        return FileError(str(path), ErrorKind.READ, exc.strerror or str(exc))


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
    """Results in the order of `files`, and the bytes read (for diffs and frames).

    With the cache, a file whose stat matches what the cache remembers is not
    read at all unless it has findings to show.
    """
    results: dict[int, FileResult] = {}
    sources: dict[str, bytes] = {}
    todo: list[int] = []
    cache = Cache(settings.root, settings, time.time_ns()) if use_cache and mode is FixMode.NONE else None
    digests: dict[str, str] = {}  # absolute path -> digest, for candidates
    keys: dict[int, str] = {}  # index -> absolute path, the cache's key
    for index, path in enumerate(files):
        name = str(path)
        if cache is not None:
            key = keys[index] = os.path.abspath(name)
            cache.in_run.add(key)
            known, stat = cache.lookup(key)
            if known is not None:
                if known.candidate:
                    digests[key] = known.digest
                    todo.append(index)
                else:
                    results[index] = FileResult(name)
                continue
        data = _read(path)
        if isinstance(data, FileError):
            results[index] = FileResult(name, error=data)
            continue
        sources[name] = data
        candidate = parse.may_contain_streams(data, settings.analysis)
        if candidate:
            todo.append(index)
        else:
            results[index] = FileResult(name)
        if cache is not None:
            digest = _digest(data) if candidate else ""
            if candidate:
                digests[key] = digest
            cache.remember(key, stat, digest, candidate)

    if cache is not None:
        remaining = []
        for i in todo:
            key = keys[i]
            hit = cache.get(key, digests[key], digests)
            # A result names the file as the run that made it spelled it.
            if hit is not None and hit.filename == str(files[i]):
                results[i] = hit
            else:
                remaining.append(i)
        todo = remaining
        for i in todo:  # remembered by stat, but its result is stale: read it now
            name = str(files[i])
            if name not in sources:
                fresh = _read(files[i])
                if isinstance(fresh, FileError):
                    results[i] = FileResult(name, error=fresh)
                    continue
                sources[name] = fresh
                digests[keys[i]] = _digest(fresh)
        todo = [i for i in todo if str(files[i]) in sources]

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
                key = keys[i]
                cache.put(key, digests[key], result, digests)
        cache.save()
        for i, result in results.items():
            if result.findings and result.filename not in sources:
                shown = _read(files[i])
                if isinstance(shown, bytes):  # else shown without a code frame
                    sources[result.filename] = shown
    return [results[i] for i in range(len(files))], sources
