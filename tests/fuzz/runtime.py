"""What a generated program runs against: a recording model, its loader, and
one-shot streams that log each pull.

Everything a program can observe or change goes through these objects and
ends in one ordered log: loads, sinks, notes, attribute writes (the model's and
its config's `__setattr__` are instrumented), context-manager entry and exit,
the items a generator program yields, the returned value or the exception, and
the model's state at the end.  Pulls from the stream go to a separate list
that is never compared: *when* an element is pulled is what a fix changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import CodeType
from typing import Any

Item = tuple[str, int]
Entry = tuple[Any, ...]

# A generator program that yields more than this is cut off (none should).
MAX_YIELDS = 1000


def norm(value: Any) -> Any:
    """A comparable, address-free picture of a value."""
    if value is None or isinstance(value, (bool, int, str, float)):
        return value
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, *(norm(v) for v in value))
    if isinstance(value, (set, frozenset)):
        return (type(value).__name__, *sorted((norm(v) for v in value), key=repr))
    if isinstance(value, dict):
        return ("dict", *sorted(((norm(k), norm(v)) for k, v in value.items()), key=repr))
    if callable(value):
        return "<callable>"
    if isinstance(value, Iterator):
        return "<iterator>"
    return f"<{type(value).__name__}>"


def value_of(w: Any) -> Any:
    """An element's tensor: a thunk (`lambda: w`) is called, as a loader would."""
    return w() if callable(w) else w


class Config:
    def __init__(self, log: list[Entry]) -> None:
        object.__setattr__(self, "_log", log)
        object.__setattr__(self, "scale", 3)

    def __setattr__(self, name: str, value: Any) -> None:
        self._log.append(("set", "config." + name, norm(value)))
        object.__setattr__(self, name, value)


class Loader:
    """`self.loader`: an iterating consumer, as AutoWeightsLoader is."""

    def __init__(self, log: list[Entry]) -> None:
        self.log = log

    def load_weights(self, weights: Iterable[tuple[str, Any]]) -> list[str]:
        self.log.append(("loader.begin",))
        names = []
        for name, w in weights:  # noqa: EL003 (a recorder keeps what it saw)
            self.log.append(("load", name, norm(value_of(w))))
            names.append(name)
        self.log.append(("loader.end", len(names)))
        return names

    def load_one(self, name: str, w: Any) -> None:
        self.log.append(("load", name, norm(w)))


class Recorder:
    """The base class of every generated `Model`; all state it has is compared."""

    def __init__(self, log: list[Entry]) -> None:
        init = object.__setattr__
        init(self, "log", log)
        init(self, "scale", 2)
        init(self, "threshold", 0)
        init(self, "skip", frozenset({"c"}))
        init(self, "flag", False)
        init(self, "enabled", True)
        init(self, "seen", [])
        init(self, "pulled", 0)
        init(self, "config", Config(log))
        init(self, "loader", Loader(log))

    def __setattr__(self, name: str, value: Any) -> None:
        self.log.append(("set", name, norm(value)))
        object.__setattr__(self, name, value)

    def state(self) -> Entry:
        public = sorted((k, norm(v)) for k, v in vars(self).items() if k not in ("log", "config", "loader"))
        return ("state", *public, ("config.scale", norm(self.config.scale)))

    # -- consumers with effects -------------------------------------------------
    def sink(self, name: str, w: Any) -> None:
        self.log.append(("sink", name, norm(w)))
        self.seen.append((name, norm(w)))

    def load_strict(self, name: str, w: Any) -> None:
        """Like a params_dict lookup: an unknown name raises KeyError."""
        if name.startswith("x"):
            raise KeyError(name)
        self.sink(name, w)

    def note(self, *args: Any) -> None:
        self.log.append(("note", *(norm(a) for a in args)))

    def bump_scale(self) -> None:
        self.scale += 1

    def tracked(self, w: Any) -> Any:
        """An element transformation with a visible effect."""
        self.log.append(("track", norm(w)))
        return w

    @contextmanager
    def ctx(self, *args: Any) -> Iterator[None]:
        self.log.append(("enter", *(norm(a) for a in args)))
        yield
        self.log.append(("exit", *(norm(a) for a in args)))

    # -- pure element transformations (the Llama4 permute) ------------------------
    def permute(self, name: str, w: Any) -> tuple[str, Any]:
        return name, -w

    def scaled(self, name: str, w: Any) -> tuple[str, Any]:
        return name, w * self.scale

    def checked(self, name: str, w: Any) -> tuple[str, Any]:
        """A conversion that rejects some elements (a dtype check)."""
        if name.startswith("x"):
            raise ValueError(f"cannot convert {name}")
        return name, w

    def keep(self, name: str) -> bool:
        return not name.startswith("c")

    def rename_item(self, item: Item) -> Item:
        return item[0] + ".r", item[1]

    def scaled_item(self, item: Item) -> Item:
        return item[0], item[1] * self.scale

    def keep_item(self, item: Item) -> bool:
        return item[1] % 2 == 0

    # -- producers ------------------------------------------------------------------
    def renamed_weights_iterator(self, weights: Iterable[Item]) -> Iterator[Item]:
        for name, w in weights:
            yield "m." + name, w


def one_shot(items: list[Item], pulls: list[Item]) -> Iterator[Item]:
    """The stream a loader hands `load_weights`: one pass, each pull logged apart."""
    for item in items:
        pulls.append(item)
        yield item


@dataclass(frozen=True)
class Run:
    """What one execution showed: everything compared, and the pulls (not compared)."""

    log: tuple[Entry, ...]
    pulls: int

    def observed(self) -> tuple[Entry, ...]:
        return self.log


def load(code: CodeType) -> Callable[[list[Entry]], Any]:
    """Execute a compiled program once; returns its `Model` class."""
    namespace: dict[str, Any] = {"__name__": "fuzzed", "Recorder": Recorder}
    exec(code, namespace)
    model: Callable[[list[Entry]], Any] = namespace["Model"]
    return model


def execute(model_class: Callable[[list[Entry]], Any], items: list[Item]) -> Run:
    log: list[Entry] = []
    pulls: list[Item] = []
    model = model_class(log)
    try:
        result = model.load_weights(one_shot(items, pulls))
        if isinstance(result, Iterator):
            # A generator program: the caller drains it, using each element.
            for count, item in enumerate(result):
                if count >= MAX_YIELDS:
                    log.append(("too many yields",))
                    break
                if isinstance(item, tuple) and len(item) == 2:
                    item = (item[0], value_of(item[1]))
                log.append(("yield", norm(item)))
            result = None
        log.append(("return", norm(result)))
    except Exception as exc:  # the program's own errors are part of its behaviour
        log.append(("raise", type(exc).__name__, str(exc)))
    log.append(model.state())
    return Run(tuple(log), len(pulls))
