"""A fixed text back to bytes, to a diff, or to its file, harming nothing around it.

* `encoded`: the bytes of a fixed text are the bytes that were read except the
  edits: the file's own encoding (a BOM and a coding cookie kept), its own line
  endings (edits never touch them), and a refusal when the codec would not give
  back the very bytes it decoded.
* `unified_diff`: the diff of those bytes, line by line (`\\r\\n`, `\\r`, `\\n`), in the
  file's encoding, with `\\ No newline at end of file` where it applies, so
  `patch -p1` (or `git apply`) of `--diff`'s output is exactly what `--fix` writes.
* `write_fixed`: a file is replaced atomically (temporary file in its folder, then a
  rename) with its mode, owner and group.  A symlink is followed and its target
  fixed; a file with hard links, or whose owner or group the process cannot give
  the new file, or in a folder it cannot write, is rewritten in place instead, so
  every link and the owner stay as they were; a half-written file is put back.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from eagerlint import linediff

_LINE = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
NO_NEWLINE = b"\\ No newline at end of file\n"


class WriteError(Exception):
    """A fixed file that was not written; the message is one line and says why."""


def split_byte_lines(data: bytes) -> list[bytes]:
    """`outline.split_lines` on bytes (Python source encodings keep `\\r`, `\\n` as ASCII)."""
    return _LINE.findall(data)


def encoded(original: bytes, fixed: str, encoding: str) -> bytes:
    """`fixed` in the encoding `original` was decoded from."""
    try:
        if original.decode(encoding).encode(encoding) != original:
            raise WriteError(f"its bytes do not survive decoding and encoding as {encoding}; not rewritten")
        return fixed.encode(encoding)
    except UnicodeError:
        raise WriteError(f"the fixed text cannot be encoded as {encoding}; not rewritten") from None


def unified_diff(name: str, before: bytes, after: bytes) -> bytes:
    """`before` -> `after` as a unified diff whose paths are `a/<name>` and `b/<name>`."""
    label = name.encode("utf-8", "surrogateescape")
    lines = linediff.unified(split_byte_lines(before), split_byte_lines(after), b"a/" + label, b"b/" + label)
    return b"".join(_marked(lines))


def _marked(lines: Iterator[bytes]) -> Iterator[bytes]:
    for line in lines:
        if line.endswith((b"\n", b"\r")):
            yield line
        else:  # the last line of a file without a final newline
            yield line + b"\n" + NO_NEWLINE


def write_fixed(path: Path, original: bytes, data: bytes) -> None:
    """Replace the contents of `path`, read as `original`, by `data`."""
    try:
        target = Path(os.path.realpath(path, strict=True))  # a symlink: fix the file it points at
        info = target.stat()
        if not stat.S_ISREG(info.st_mode):
            raise WriteError("not a regular file; not rewritten")
        if target.read_bytes() != original:
            raise WriteError("changed on disk while eagerlint ran; not rewritten")
        if info.st_nlink > 1:
            _write_in_place(target, data, original)  # a new inode would split the links
            return
        try:
            _replace(target, data, info)
        except (_CannotKeepOwner, PermissionError):
            _write_in_place(target, data, original)
    except OSError as exc:
        raise WriteError(exc.strerror or str(exc)) from None


class _CannotKeepOwner(Exception):
    pass


def _replace(target: Path, data: bytes, info: os.stat_result) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".eagerlint", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            mine = os.fstat(handle.fileno())
            if (mine.st_uid, mine.st_gid) != (info.st_uid, info.st_gid):
                try:
                    os.fchown(handle.fileno(), info.st_uid, info.st_gid)
                except PermissionError:
                    raise _CannotKeepOwner from None
            os.fchmod(handle.fileno(), stat.S_IMODE(info.st_mode))  # after chown, which clears set-id bits
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_in_place(target: Path, data: bytes, original: bytes) -> None:
    with target.open("r+b") as handle:
        try:
            handle.write(data)
            handle.truncate()
            handle.flush()
            os.fsync(handle.fileno())
        except OSError:
            # A half-written file is the one thing --fix must never leave behind.
            handle.seek(0)
            handle.write(original)
            handle.truncate()
            handle.flush()
            raise
