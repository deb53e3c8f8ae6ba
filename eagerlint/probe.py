"""A runtime probe of a weight stream: what the code reading it keeps alive, and how it reads it.

    probed = probe(weights)                  # any iterable of (name, tensor)
    model.load_weights(probed)
    print(probed.report())                   # kept up to 812 of 812 tensors (2.0 GiB) alive at once - ...

The probe hands out a private copy of every tensor, as vLLM's runai_streamer loader does, so
what stays alive is exactly what the code under test keeps. It counts the copies' storages with
weak references (a view keeps its storage alive, so a kept view counts), records the high-water
mark in tensors and bytes and the element at which it was reached, and notices a second pass
over the one-shot stream and a loop started after it was exhausted. In ``reuse`` mode it also
overwrites each copy (with NaN bytes) as soon as the next element is asked for, as a
buffer-reusing loader does, so code that keeps a tensor, or a view of it, past its iteration
loads overwritten data.

Only the standard library is imported here: torch is looked up in ``sys.modules`` when a tensor
arrives (it is imported by then), and pytest only by the plugin, ``eagerlint.probe_plugin``,
which ``pytest -p eagerlint.probe`` (or the ``pytest11`` entry point) registers.
"""

from __future__ import annotations

import gc
import sys
import threading
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

if TYPE_CHECKING:
    import pytest

__all__ = ["Mode", "PassRecord", "ProbeReport", "ProbedStream", "probe"]

Mode = Literal["count", "reuse"]
MODES: tuple[Mode, ...] = ("count", "reuse")
T = TypeVar("T")

# What a streaming consumer keeps anyway: the element it is working on, and the previous one,
# which its loop variables (one per generator layer) still hold while it asks for the next.
STREAMING_SLACK = 2


@dataclass(frozen=True)
class PassRecord:
    """One ``iter()`` of the stream: where it started and how many elements it read."""

    started_at: int  # elements read (by any pass) before this one started
    after_exhaustion: bool
    reads: int


@dataclass(frozen=True)
class ProbeReport:
    """What the probe saw; ``verdict`` is the one-line summary, ``problems()`` what a test fails on."""

    mode: Mode
    read: int
    read_bytes: int
    exhausted: bool
    peak_count: int
    peak_bytes: int
    peak_at: int  # 1-based position of the element at which the peak was first reached; 0: none
    peak_name: str | None
    passes: tuple[PassRecord, ...]
    late_loops: int  # loops started over a pass after the stream was exhausted
    kept_at_end: tuple[str, ...]  # still referenced when the stream ended, the last element aside
    overwritten: int
    corrupted: tuple[str, ...]  # loaded tensors that hold NaN (reuse mode, with ``loaded=``)

    @property
    def materialized(self) -> bool:
        """More than half of the stream alive at once, and more than a streaming consumer holds."""
        return self.peak_count > STREAMING_SLACK and 2 * self.peak_count > self.read

    @property
    def multi_pass(self) -> bool:
        return len(self.passes) > 1 or self.late_loops > 0

    def problems(self, max_live: int | None = None) -> tuple[str, ...]:
        """Why a test should fail: more alive than ``max_live`` (or materialized), read twice, corrupted.

        Tensors still referenced at the end are not a failure by themselves: a consumer parked in
        ``next()`` while a partition drains the rest of the stream into a side buffer still holds
        the last tensor it got. What was read after it was overwritten shows in ``corrupted``.
        """
        found: list[str] = []
        if max_live is not None and self.peak_count > max_live:
            found.append(f"kept {self.peak_count} tensors alive at once, more than max_live={max_live}")
        elif max_live is None and self.materialized:
            found.append(f"the stream was materialized ({self.peak_count} of {self.read} tensors alive)")
        if self.multi_pass:
            found.append(_passes_clause(self))
        if self.corrupted:
            found.append(_corrupted_clause(self))
        return tuple(found)

    @property
    def verdict(self) -> str:
        clauses = [_peak_clause(self)]
        if self.read and not self.exhausted:
            clauses.append("the stream was not read to its end")
        if self.multi_pass:
            clauses.append(_passes_clause(self))
        if self.kept_at_end and (self.mode == "reuse" or not self.materialized):
            clauses.append(_kept_clause(self))
        if self.corrupted:
            clauses.append(_corrupted_clause(self))
        return "; ".join(clauses)

    def __str__(self) -> str:
        return self.verdict


def _peak_clause(r: ProbeReport) -> str:
    head = f"kept up to {r.peak_count} of {r.read} tensors ({format_bytes(r.peak_bytes)}) alive at once"
    if not r.read:
        return f"{head} - nothing was read"
    how = "the stream was materialized" if r.materialized else "streamed"
    return f"{head} - {how} (peak at element {r.peak_at}, `{r.peak_name}`)"


def _passes_clause(r: ProbeReport) -> str:
    events = [
        f"pass {i} started after the stream was exhausted and read nothing"
        if p.after_exhaustion
        else f"pass {i} started at element {p.started_at + 1}, before the stream was exhausted"
        for i, p in enumerate(r.passes, 1)
        if i > 1
    ]
    if r.late_loops:
        events.append(f"{r.late_loops} loop(s) started over the exhausted stream and read nothing")
    head = f"iterated {len(r.passes)} times: " if len(r.passes) > 1 else ""
    return head + ", ".join(events)


def _kept_clause(r: ProbeReport) -> str:
    n, first = len(r.kept_at_end), r.kept_at_end[0]
    text = f"{n} earlier tensor(s) were still referenced when the stream ended (first `{first}`)"
    if r.mode == "reuse":
        return f"{text}, already overwritten: what reads them now reads NaN"
    return text


def _corrupted_clause(r: ProbeReport) -> str:
    n, first = len(r.corrupted), r.corrupted[0]
    return f"{n} loaded tensor(s) hold overwritten data (first `{first}`)"


def format_bytes(n: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


class _Ledger:
    """Live copies, by element index; weakref callbacks remove them (from any thread)."""

    def __init__(self) -> None:
        # Reentrant: a collection inside add() may run a finalizer on this thread.
        self._lock = threading.RLock()
        self._alive: dict[int, tuple[str, int]] = {}
        self._bytes = 0
        self.peak_count = 0
        self.peak_bytes = 0
        self.peak_at = 0
        self.peak_name: str | None = None

    def add(self, index: int, name: str, anchor: object, nbytes: int) -> None:
        try:
            finalizer = weakref.finalize(anchor, self._release, index)
        except TypeError:  # not weakly referenceable: it cannot be counted
            return
        finalizer.atexit = False
        with self._lock:
            self._alive[index] = (name, nbytes)
            self._bytes += nbytes
            if len(self._alive) > self.peak_count:
                self.peak_count, self.peak_bytes = len(self._alive), self._bytes
                self.peak_at, self.peak_name = index + 1, name

    def _release(self, index: int) -> None:
        with self._lock:
            _, nbytes = self._alive.pop(index)
            self._bytes -= nbytes

    def alive(self) -> dict[int, str]:
        with self._lock:
            alive = self._alive.copy()  # one C-level copy: no finalizer runs halfway through
        return {i: name for i, (name, _) in alive.items()}


class _Pass(Generic[T]):
    """One ``iter()`` of a ``ProbedStream``; all passes share the one underlying iterator."""

    def __init__(self, stream: ProbedStream[T], started_at: int, after_exhaustion: bool) -> None:
        self._stream = stream
        self.started_at = started_at
        self.after_exhaustion = after_exhaustion
        self.reads = 0

    def __iter__(self) -> _Pass[T]:
        if self._stream.exhausted:
            self._stream.late_loops += 1
        return self

    def __next__(self) -> tuple[str, T]:
        item = self._stream._next()
        self.reads += 1
        return item

    def record(self) -> PassRecord:
        return PassRecord(self.started_at, self.after_exhaustion, self.reads)


class ProbedStream(Generic[T]):
    """A one-shot ``Iterable[tuple[str, T]]`` that watches what its reader keeps; see ``probe``."""

    def __init__(self, weights: Iterable[tuple[str, T]], mode: Mode = "count") -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        self.mode: Mode = mode
        self._source = iter(weights)
        self._ledger = _Ledger()
        self._passes: list[_Pass[T]] = []
        self._previous: T | None = None  # reuse mode: the copy to overwrite on the next read
        self._last_index = -1
        self._read_bytes = 0
        self._overwritten = 0
        self._kept_at_end: tuple[str, ...] = ()
        self.exhausted = False
        self.late_loops = 0

    def __iter__(self) -> Iterator[tuple[str, T]]:
        one = _Pass(self, self._last_index + 1, self.exhausted)
        self._passes.append(one)
        return one

    def _next(self) -> tuple[str, T]:
        if self.exhausted:
            raise StopIteration
        self._reuse_previous()
        try:
            name, value = next(self._source)
        except StopIteration:
            self._finish()
            raise
        return name, self._hand_out(name, value)

    def _hand_out(self, name: str, value: T) -> T:
        copy = private_copy(value)
        if self.mode == "reuse" and not can_overwrite(copy):
            raise TypeError(f"reuse mode cannot overwrite `{name}`: a {type(copy).__name__} has no fill_")
        self._last_index += 1
        nbytes = size_of(copy)
        self._read_bytes += nbytes
        self._ledger.add(self._last_index, name, anchor_of(copy), nbytes)
        if self.mode == "reuse":
            self._previous = copy
        return copy

    def _reuse_previous(self) -> None:
        previous, self._previous = self._previous, None
        if previous is not None:
            overwrite(previous)
            self._overwritten += 1

    def _finish(self) -> None:
        self.exhausted = True
        gc.collect()  # a reference cycle is not a keep
        alive = self._ledger.alive()
        self._kept_at_end = tuple(name for i, name in sorted(alive.items()) if i != self._last_index)

    def report(self, loaded: Iterable[tuple[str, Any]] | None = None) -> ProbeReport:
        """What was seen so far; ``loaded`` (e.g. ``model.state_dict().items()``): find overwritten data."""
        led = self._ledger
        return ProbeReport(
            mode=self.mode,
            read=self._last_index + 1,
            read_bytes=self._read_bytes,
            exhausted=self.exhausted,
            peak_count=led.peak_count,
            peak_bytes=led.peak_bytes,
            peak_at=led.peak_at,
            peak_name=led.peak_name,
            passes=tuple(p.record() for p in self._passes),
            late_loops=self.late_loops,
            kept_at_end=self._kept_at_end,
            overwritten=self._overwritten,
            corrupted=() if loaded is None or self.mode != "reuse" else poisoned(loaded),
        )

    @property
    def verdict(self) -> str:
        return self.report().verdict


def probe(weights: Iterable[tuple[str, T]], mode: Mode = "count") -> ProbedStream[T]:
    """Wrap a ``(name, tensor)`` iterable: ``mode="count"`` counts what stays alive, ``"reuse"`` also
    overwrites each tensor once the next one is asked for."""
    return ProbedStream(weights, mode)


def _torch() -> Any:
    """torch, if it is imported: a tensor cannot exist before, and eagerlint does not depend on it."""
    return sys.modules.get("torch")


def _torch_tensor(value: object) -> bool:
    torch = _torch()
    return torch is not None and isinstance(value, torch.Tensor)


def private_copy(value: T) -> T:
    """A copy with its own storage, so its life is the consumer's doing alone."""
    tensor: Any = value
    if _torch_tensor(tensor):
        copy: T = tensor.detach().clone(memory_format=_torch().contiguous_format)
        return copy
    clone = getattr(tensor, "clone", None)
    return value if clone is None else clone()


def anchor_of(value: Any) -> object:
    """What lives exactly as long as the tensor's memory: its storage (views keep it), else itself."""
    return value.untyped_storage() if _torch_tensor(value) else value


def size_of(value: Any) -> int:
    if _torch_tensor(value):
        return int(value.untyped_storage().nbytes())
    return int(getattr(value, "nbytes", 0))


def can_overwrite(value: Any) -> bool:
    return _torch_tensor(value) or callable(getattr(value, "fill_", None))


def overwrite(value: Any) -> None:
    """Fill the tensor's memory with NaN bytes (all ones: NaN in every float dtype, -1 in ints)."""
    if _torch_tensor(value):
        value.view(-1).view(_torch().uint8).fill_(255)
    else:
        value.fill_(float("nan"))


def poisoned(loaded: Iterable[tuple[str, Any]]) -> tuple[str, ...]:
    """Names of the tensors that hold NaN (``.isnan().any()``, as torch tensors have)."""
    return tuple(name for name, t in loaded if hasattr(t, "isnan") and bool(t.isnan().any()))


def pytest_configure(config: pytest.Config) -> None:
    """Loaded as a pytest plugin (``-p eagerlint.probe`` or the entry point): add the fixture and marker."""
    from eagerlint import probe_plugin

    if not config.pluginmanager.is_registered(probe_plugin):
        config.pluginmanager.register(probe_plugin, "eagerlint.probe_plugin")
