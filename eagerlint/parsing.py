"""Parsing that no input can crash: CPython's parser first, then libcst on a large stack.

CPython's parser decides whether a file is Python at all (`check_syntax`), so a
syntax error is reported with CPython's own message and position wherever it is,
and before eagerlint edits anything: a fix can then never be blamed for an error
that was already there.  `symtable` parses the whole module and builds its scopes
without compiling it, about half the cost of `compile()`.  CPython also bounds how
deep its trees can be, and refuses deeper input with an exception, never a crash:
200 nested brackets, 100 indentation levels, and a recursion limit on expressions
(about 3,000 levels of `a + a + ...`; 8,000 terms are a `RecursionError`).

libcst's native parser recurses on the C stack of the thread that calls it, and a
stack overflow there is a SIGSEGV that takes the whole run down.  Within CPython's
limits its deepest trees need about 7 MiB (2,983 nested lambdas), close to the
8 MiB of a main thread; and it nests what CPython keeps flat: a chain of `and`/`or`
and a dotted name in an import get one level per operator or dot, about 1.35 KiB
of stack each, with no limit but the file's length.  So every libcst parse runs
on a thread whose stack holds `RESERVE` plus `PER_LEVEL` for every `and`, `or`
and `.` in the text (counting words in strings and comments too: an upper bound).
One worker thread with `WORKER_STACK` is reused for all texts that fit; a text
that needs more gets a thread of its own, sized for it.  A file's whole analysis
runs on that worker (`on_large_stack`, called by the pipeline), so the parses it
asks for run there directly: handing each parse over and back cost two thread
wake-ups, about 9 % of a check of 2,000 small functions in one file.

Every libcst node checks itself when it is built (`CSTNode.__post_init__` calls
`_validate`: a regex per whitespace node, bracket counts, ...), a tenth of a parse
(the 472 `load_weights` of vLLM 0.33.0: 0.67 s validated, 0.60 s not).  A tree the
parser builds from text needs no such check (libcst's own source says so beside
`__post_init__`), so a parse runs with that call switched off, and only then: nodes
built by eagerlint's fixes are checked as always.  The main thread waits while the
worker parses, so no other node is built meanwhile.
"""

from __future__ import annotations

import os
import re
import symtable
import threading
import warnings
from collections.abc import Callable
from concurrent.futures import Future
from queue import SimpleQueue
from typing import TYPE_CHECKING, Any, TypeVar

from eagerlint.prefilter import ParseError

if TYPE_CHECKING:
    import libcst as cst

T = TypeVar("T")
A = TypeVar("A")

MIB = 1024 * 1024
# Measured with libcst 1.9: 7 MiB for CPython's deepest trees, 1.35 KiB per level of
# an `and`/`or` chain or a dotted import name; both with a factor of two to spare.
RESERVE = 64 * MIB
PER_LEVEL = 3 * 1024
WORKER_STACK = 256 * MIB
# What a file's analysis may use of the worker's stack when it runs there
# (`on_large_stack`) and parses directly: Python's recursion limit bounds it.
ANALYSIS_STACK = 64 * MIB
# Beyond this, a text is refused rather than given a thread (over a million levels).
MAX_STACK = 4096 * MIB
# libcst's trees take 0.5 to 1.4 KiB per character of source (measured): a text longer
# than this would take gigabytes, and a worker killed for memory would stall the pool.
# The largest file of twelve engine releases is 336 kB; a function is parsed alone.
MAX_TEXT = 4_000_000

_WORDS = re.compile(r"\b(?:and|or)\b")


class Unparsable(Exception):
    """Valid Python that libcst cannot parse safely, or does not parse at all."""

    def __init__(self, message: str, filename: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.filename = filename  # set by the module source that asked for the parse


def check_syntax(text: str, filename: str) -> None:
    """Raise `ParseError` with CPython's message and position unless CPython accepts `text`."""
    try:
        # The parser warns about things like invalid escapes; they are not eagerlint's news.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            symtable.symtable(text, filename, "exec")
    except SyntaxError as exc:  # also IndentationError and TabError
        raise ParseError(f"{_where(exc)}{exc.msg}") from None
    except (RecursionError, MemoryError) as exc:
        # CPython's own limit on nesting ("too complex"): it would not run the file either.
        raise ParseError(f"too deeply nested for Python's parser ({exc or type(exc).__name__})") from None
    except ValueError as exc:  # a null byte, before Python 3.12
        raise ParseError(str(exc)) from None


def _where(exc: SyntaxError) -> str:
    if exc.lineno is None:
        return ""
    if exc.offset is None:
        return f"line {exc.lineno}: "
    return f"line {exc.lineno}, column {exc.offset}: "


def parse_module(text: str) -> cst.Module:
    """libcst's parse of `text`, on a stack it cannot overflow.

    Raises `libcst.ParserSyntaxError` as libcst does, and `Unparsable` when the
    text is too long, would need more stack than is allowed, or libcst recurses too
    deep in Python.
    """

    if len(text) > MAX_TEXT:
        raise Unparsable(f"libcst is given at most {MAX_TEXT:,} characters at once (this is {len(text):,})")
    stack = stack_needed(text)
    if stack > MAX_STACK:
        raise Unparsable(f"libcst would need {stack // MIB:,} MiB of stack for its `and`/`or`/`.` nesting")
    try:
        # On the worker, a file's analysis holds up to `ANALYSIS_STACK` of it already.
        if stack <= WORKER_STACK - (ANALYSIS_STACK if _on_worker() else 0):
            return _worker().run(_parse_unvalidated, text)
        return _run_on_own_thread(stack, _parse_unvalidated, text)
    except RecursionError:
        raise Unparsable("too deeply nested for libcst (Python's recursion limit)") from None


def _parse_unvalidated(text: str) -> cst.Module:
    import libcst as cst

    node = cst.CSTNode
    validating = node.__post_init__
    node.__post_init__ = _built  # type: ignore[method-assign]
    try:
        return cst.parse_module(text)
    finally:
        node.__post_init__ = validating  # type: ignore[method-assign]


def _built(self: object) -> None:
    """`CSTNode.__post_init__` while the parser builds a tree: no `_validate`."""


def stack_needed(text: str) -> int:
    """An upper bound on the stack libcst needs for `text`, in bytes."""
    # str.count is ~100x faster than the regex and counts more ("for", "tensor"):
    # the regex is only worth running when the cheap bound does not fit the worker.
    levels = text.count("and") + text.count("or") + text.count(".")
    if RESERVE + levels * PER_LEVEL > WORKER_STACK:
        levels = len(_WORDS.findall(text)) + text.count(".")
    return RESERVE + levels * PER_LEVEL


# -- threads with a given stack -------------------------------------------------------

_STACK_SIZE = threading.Lock()  # threading.stack_size() is process-wide


def _start(stack: int, target: Callable[[], None]) -> threading.Thread:
    with _STACK_SIZE:
        try:
            old = threading.stack_size(stack)
        except ValueError as exc:
            raise Unparsable(f"no thread with {stack // MIB:,} MiB of stack for libcst: {exc}") from None
        try:
            thread = threading.Thread(target=target, name="eagerlint-libcst", daemon=True)
            thread.start()
        except RuntimeError as exc:  # the stack could not be mapped
            raise Unparsable(f"no thread with {stack // MIB:,} MiB of stack for libcst: {exc}") from None
        finally:
            threading.stack_size(old)
    return thread


def _run_on_own_thread(stack: int, fn: Callable[[str], T], arg: str) -> T:
    future: Future[T] = Future()
    _start(stack, lambda: _settle(future, fn, arg)).join()
    return future.result()


def _settle(future: Future[T], fn: Callable[[str], T], arg: str) -> None:
    try:
        future.set_result(fn(arg))
    except BaseException as exc:  # handed to the caller's thread, which re-raises it
        future.set_exception(exc)


class _Worker:
    """One reused thread with `WORKER_STACK`: starting a thread per parse costs ~60 us.

    Jobs and answers go through two queues (a `Future` per parse would build a
    `Condition` each time).  The lock keeps one job in flight, and each answer
    carries its job's number: a caller interrupted while waiting (Ctrl-C) leaves an
    answer that the next caller drops.
    """

    def __init__(self) -> None:
        self._jobs: SimpleQueue[tuple[int, Callable[[Any], object], object]] = SimpleQueue()
        self._answers: SimpleQueue[tuple[int, object, BaseException | None]] = SimpleQueue()
        self._one_at_a_time = threading.Lock()
        self._count = 0
        _start(WORKER_STACK, self._loop)

    def _loop(self) -> None:
        _THREAD.on_worker = True
        while True:
            number, fn, arg = self._jobs.get()
            try:
                self._answers.put((number, fn(arg), None))
            except BaseException as exc:  # handed to the caller's thread, which re-raises it
                self._answers.put((number, None, exc))

    def run(self, fn: Callable[[A], T], arg: A) -> T:
        if _on_worker():
            return fn(arg)  # asked by a job of this worker: it cannot wait for itself
        with self._one_at_a_time:
            self._count += 1
            self._jobs.put((self._count, fn, arg))
            number, value, error = self._answers.get()
            while number != self._count:
                number, value, error = self._answers.get()
        if error is not None:
            raise error
        return value  # type: ignore[return-value]


_WORKER: _Worker | None = None
_THREAD = threading.local()


def _on_worker() -> bool:
    return getattr(_THREAD, "on_worker", False)


def on_large_stack(fn: Callable[[], T]) -> T:
    """`fn()` run on the parse worker's thread, so that the parses it asks for run
    there directly instead of being handed over one by one (two thread wake-ups
    per parse).  The caller waits meanwhile."""
    return _worker().run(_call, fn)


def _call(fn: Callable[[], T]) -> T:
    return fn()


def _worker() -> _Worker:
    global _WORKER
    if _WORKER is None:
        _WORKER = _Worker()
    return _WORKER


def _forget_worker() -> None:
    # A forked child (the process pool) has no copy of the parent's threads.
    global _WORKER
    _WORKER = None


os.register_at_fork(after_in_child=_forget_worker)
