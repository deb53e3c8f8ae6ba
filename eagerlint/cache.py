"""The result cache: content-hash entries per (eagerlint version, settings), for the
eagerlint source that computed them.

A file's stored result, findings included, is returned when the file's bytes,
and the bytes of every other file its analysis followed, are unchanged.  A
file whose size, mtime, ctime and inode are what the cache remembers is not
read at all (ruff's cache trusts mtimes the same way); a file modified within
2 s of a run is remembered by content only (git's "racy" rule).
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
from dataclasses import dataclass
from pathlib import Path

from eagerlint import __version__
from eagerlint.analysis.project import under
from eagerlint.config import Settings
from eagerlint.model import FileResult

CACHE_DIR = ".eagerlint_cache"


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


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@functools.cache
def build_id() -> str:
    """A digest of eagerlint's own source (about 3 ms): results cached by other code, a
    message worded otherwise or a record without a newer field, are never returned, whatever
    the version number says."""
    package = Path(__file__).parent
    h = hashlib.blake2b(digest_size=16)
    for path in sorted(package.rglob("*.py")):
        h.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


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
    one of them or lies under `project_root` (where the analysis reads modules
    it was not given), as it was for the analysis.
    """

    def __init__(
        self, root: Path, settings: Settings, started_ns: int, project_root: Path | None = None
    ) -> None:
        key = digest(repr((__version__, settings.fingerprint())).encode())
        self.folder = root / CACHE_DIR
        self.path = self.folder / __version__ / f"{key}.pickle"
        self.entries: dict[str, Entry] = {}
        self.known: dict[str, Known] = {}
        self.dirty = False
        self.started_ns = started_ns
        self.in_run: set[str] = set()
        self.project_root = os.path.abspath(project_root) if project_root is not None else None
        try:
            with self.path.open("rb") as handle:
                loaded = pickle.load(handle)
            if isinstance(loaded, dict) and loaded.get("build") == build_id():
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
        if path not in self.in_run and not (self.project_root and under(path, self.project_root)):
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
                state = {"entries": self.entries, "known": self.known, "build": build_id()}
                pickle.dump(state, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.path)
        except OSError:
            pass  # a cache that cannot be written only costs time


def _file_digest(path: str) -> str:
    try:
        return digest(Path(path).read_bytes())
    except OSError:
        return ""
