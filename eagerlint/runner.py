"""Checking many files: the byte prefilter, the result cache, and a process pool.

The CLI hands this module the files to check; it returns one `FileResult` per
file, in the same order, whichever way each was produced:

1. every file is read once, here; the byte prefilter settles most of them
   without importing libcst;
2. a content-hash cache (`cache.py`) returns stored results, findings
   included, for files whose bytes, and the bytes of every other file their
   analysis followed, are unchanged;
3. what is left is analysed, in a pool of worker processes when there is
   enough of it to pay for them, serially otherwise.  When many files are to
   be read, the pool starts before they are, so that its workers import libcst
   while this process reads.

Only plain checks are pooled; `--fix` and `--diff` run serially, and use the
cache too: a file whose stored result has no fix the mode would apply needs no
analysis (a warm `--fix` on a tree with nothing to fix costs what a warm check
does).  Results that rewrote a file are never stored.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from eagerlint.cache import Cache, digest
from eagerlint.config import Settings, project_root
from eagerlint.model import ErrorKind, FileError, FileResult
from eagerlint.pipeline import FixMode, check_bytes, is_candidate, make_project

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

# Below this many files to analyse, starting workers costs more than it saves.
POOL_THRESHOLD = 24
# Files per task handed to a worker.
CHUNK = 4
# Files to read (the cache does not know them) from which the pool is started before
# reading them: about 24 candidates at the 11 % a byte prefilter passes on vLLM.
EARLY_POOL = 200


def _read(path: Path) -> bytes | FileError:
    try:
        return path.read_bytes()
    except OSError as exc:
        return FileError(str(path), ErrorKind.READ, exc.strerror or str(exc))


# -- the pool -------------------------------------------------------------------------

_WORKER: dict[str, object] = {}


def _init_worker(settings: Settings, mode: FixMode, paths: list[Path]) -> None:
    import eagerlint.engine  # noqa: F401  (libcst and the analysis, before the first file)

    _WORKER["settings"] = settings
    _WORKER["mode"] = mode
    _WORKER["project"] = make_project(paths, settings)


def _work(item: tuple[str, bytes]) -> FileResult:
    name, data = item
    settings, mode, project = _WORKER["settings"], _WORKER["mode"], _WORKER["project"]
    return check_bytes(data, name, settings, mode, project, candidate=True)  # type: ignore[arg-type]


WorkerArgs = tuple[Settings, FixMode, list[Path]]


def _pooled(
    items: list[tuple[str, bytes]], workers: int, init: WorkerArgs, started: ProcessPoolExecutor | None = None
) -> list[FileResult]:
    """Results of `items` in order, from `started` when a pool was started for them
    already, else from a new pool of `workers` processes.

    A worker that dies (killed for memory, a crash in native code) takes its files
    with it: multiprocessing.Pool then waits forever.  Here the pool breaks, and every
    file not yet done is checked again in a process of its own, so only the file that
    kills its process is reported, and the run goes on.
    """
    from concurrent.futures.process import BrokenProcessPool

    # Largest first, a few at a time: no worker is left with a big file at the end.
    order = sorted(range(len(items)), key=lambda i: -len(items[i][1]))
    largest_first = [items[i] for i in order]
    done: list[FileResult] = []
    try:
        with started or _executor(workers, init) as pool:
            done.extend(pool.map(_work, largest_first, chunksize=CHUNK))
    except BrokenProcessPool:
        done.extend(_alone(item, init) for item in largest_first[len(done) :])
    results: dict[int, FileResult] = dict(zip(order, done, strict=True))
    return [results[i] for i in range(len(items))]


def _started(workers: int, init: WorkerArgs) -> ProcessPoolExecutor:
    """A pool whose workers are starting now (a fork pool starts them all at its
    first task; each then runs `_init_worker`)."""
    pool = _executor(workers, init)
    pool.submit(int)
    return pool


def _alone(item: tuple[str, bytes], init: WorkerArgs) -> FileResult:
    from concurrent.futures.process import BrokenProcessPool

    with _executor(1, init) as pool:
        try:
            return pool.submit(_work, item).result()
        except BrokenProcessPool:
            name = item[0]
            message = "the process checking it died (killed, or out of memory)"
            return FileResult(name, error=FileError(name, ErrorKind.INTERNAL, message))


def _executor(workers: int, init: WorkerArgs) -> ProcessPoolExecutor:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork")
    return ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=init)


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
    cache = None
    if use_cache:
        cache = Cache(settings.root, settings, time.time_ns(), project_root(settings))
    digests: dict[str, str] = {}  # absolute path -> digest, for candidates
    keys: dict[int, str] = {}  # index -> absolute path, the cache's key
    stats: dict[int, tuple[int, int, int, int] | None] = {}  # index -> the stat the cache remembers
    unread: list[int] = []  # files whose result the cache does not know by stat
    for index, path in enumerate(files):
        name = str(path)
        if cache is not None:
            key = keys[index] = os.path.abspath(name)
            cache.in_run.add(key)
            known, stats[index] = cache.lookup(key)
            if known is not None:
                if known.candidate:
                    digests[key] = known.digest
                    todo.append(index)
                else:
                    results[index] = FileResult(name)
                continue
        unread.append(index)

    workers = jobs or _jobs()
    init: WorkerArgs = (settings, mode, list(files))
    # Enough to read that the pool will likely be wanted: start it now, so that its
    # workers import libcst while this process reads and prefilters.
    # No more workers than candidates to expect (the prefilter passes about one file in ten).
    early_workers = min(workers, len(unread) // 10)
    early = None
    if early_workers > 1 and mode is FixMode.NONE and len(unread) >= EARLY_POOL:
        early = _started(early_workers, init)
    for index in unread:
        path = files[index]
        name = str(path)
        data = _read(path)
        if isinstance(data, FileError):
            results[index] = FileResult(name, error=data)
            continue
        sources[name] = data
        candidate = is_candidate(data, settings)
        if candidate:
            todo.append(index)
        else:
            results[index] = FileResult(name)
        if cache is not None:
            key = keys[index]
            found = digest(data) if candidate else ""
            if candidate:
                digests[key] = found
            cache.remember(key, stats[index], found, candidate)

    if cache is not None:
        remaining = []
        for i in todo:
            key = keys[i]
            hit = cache.get(key, digests[key], digests)
            # A result names the file as the run that made it spelled it.
            if (
                hit is not None
                and hit.filename == str(files[i])
                and not any(mode.applies(f) for f in hit.findings)
            ):
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
                digests[keys[i]] = digest(fresh)
        todo = [i for i in todo if str(files[i]) in sources]

    todo.sort()  # in the order of `files`, as the serial path checks them
    pooled = min(workers, len(todo)) > 1 and len(todo) >= POOL_THRESHOLD and mode is FixMode.NONE
    if early is not None and not pooled:
        early.shutdown(wait=False, cancel_futures=True)
    if pooled:
        items = [(str(files[i]), sources[str(files[i])]) for i in todo]
        results.update(zip(todo, _pooled(items, min(workers, len(todo)), init, early), strict=True))
    elif todo:
        project = make_project(list(files), settings)
        for i in todo:
            data = sources[str(files[i])]
            results[i] = check_bytes(data, str(files[i]), settings, mode, project, candidate=True)

    if cache is not None:
        for i in todo:
            result = results[i]
            # A file's own syntax error is as stable as its findings; an
            # internal error is eagerlint's and is retried next time.
            if result.fixed_source is None and (
                result.error is None or result.error.kind is not ErrorKind.INTERNAL
            ):
                key = keys[i]
                cache.put(key, digests[key], result, digests)
        cache.save()
        for i, result in results.items():
            if result.findings and result.filename not in sources:
                shown = _read(files[i])
                if isinstance(shown, bytes):  # else shown without a code frame
                    sources[result.filename] = shown
    return [results[i] for i in range(len(files))], sources
