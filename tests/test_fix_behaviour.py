"""Safe fixes do not change behaviour: the original and the fixed function run on
the same generated stream must return the same thing, and the consumer must see
the same elements in the same order.  What changes is only *when* elements are
pulled: the fixed version never holds more than one at a time."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eagerlint.pipeline import FixMode
from tests.helpers import fixed_text

TEMPLATES = {
    "listcomp-into-loader": """
        def load_weights(self, weights):
            loader = self.loader
            weights = [
                # rotate
                (name.upper(), -w)
                for name, w in weights
            ]
            return loader.load_weights(weights)
    """,
    "list-call-in-for": """
        def load_weights(self, weights):
            for name, w in list(weights):
                self.sink(name, w)
            return self.seen
    """,
    "alias-list-into-loader": """
        def load_weights(self, weights):
            ws = list(weights)
            return self.loader.load_weights(ws)
    """,
    "star-unpack": """
        def load_weights(self, weights):
            return self.loader.load_weights([*weights])
    """,
    "listcomp-in-for": """
        def load_weights(self, weights):
            for name, t in [(n.upper(), w) for n, w in weights]:
                self.sink(name, t)
            return self.seen
    """,
    "list-of-genexp-then-loop": """
        def load_weights(self, weights):
            weights = list((n, w * 2) for n, w in weights if w % 3)
            for n, w in weights:
                self.sink(n, w)
            return self.seen
    """,
    "tuple-into-helper": """
        def load_weights(self, weights):
            return self.loader.load_weights(tuple(weights))
    """,
    "loop-to-generator": """
        def load_weights(self, weights):
            kept = []
            for name, w in weights:
                if "x" in name:
                    continue
                if w > 10:
                    w = w - 10
                kept.append((name.upper(), w))
            loader = self.loader
            return loader.load_weights(kept)
    """,
    "copy-then-loop-to-generator": """
        def load_weights(self, weights):
            weights_list = list(weights)
            kept = []
            for name, w in weights_list:
                kept.append((name, -w))
            return self.loader.load_weights(kept)
    """,
}

# Unsafe by design (the side parts are complete only once the consumer has
# exhausted the generator): with a consumer that reads to the end, the result
# and what the consumer sees must still be the same.
UNSAFE_TEMPLATES = {
    "inline-partition": """
        def load_weights(self, weights):
            weights_list = list(weights)
            main, side = [], []
            for name, w in weights_list:
                if name.startswith("a"):
                    side.append((name, w))
                else:
                    main.append((name, w))
            loaded = self.loader.load_weights(main)
            for name, w in side:
                self.sink(name, w)
            return loaded, self.seen
    """,
}


class Loader:
    def __init__(self, log: list[tuple[str, Any]]) -> None:
        self.log = log

    def load_weights(self, weights: Iterable[tuple[str, int]]) -> list[str]:
        names = []
        for name, w in weights:  # noqa: EL003 (a recorder keeps what it saw)
            self.log.append(("load", name, w))
            names.append(name)
        return names


class Model:
    def __init__(self, log: list[tuple[str, Any]]) -> None:
        self.log = log
        self.loader = Loader(log)
        self.seen: list[tuple[str, int]] = []

    def permute(self, name: str, w: int) -> tuple[str, int]:
        self.log.append(("permute", name, w))
        return name, -w

    def sink(self, name: str, w: int) -> None:
        self.log.append(("sink", name, w))
        self.seen.append((name, w))


def stream(
    items: list[tuple[str, int]], log: list[tuple[str, Any]], live: list[int]
) -> Iterator[tuple[str, int]]:
    """A one-shot stream that tracks how many elements are pulled but not yet consumed."""
    for name, w in items:
        log.append(("pull", name, w))
        live.append(1)
        yield name, w


def run_function(source: str, items: list[tuple[str, int]]) -> tuple[Any, list[tuple[str, Any]]]:
    namespace: dict[str, Any] = {}
    exec(compile(textwrap.dedent(source), "<fixture>", "exec"), namespace)
    log: list[tuple[str, Any]] = []
    model = Model(log)
    result = namespace["load_weights"](model, stream(items, log, []))
    return result, log


def consumer_view(log: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return [entry for entry in log if entry[0] in ("load", "sink")]


def interleaved(log: list[tuple[str, Any]]) -> bool:
    """Whether the consumer started before the stream was exhausted."""
    pulls = [i for i, e in enumerate(log) if e[0] == "pull"]
    consumed = [i for i, e in enumerate(log) if e[0] in ("load", "sink")]
    return bool(pulls and consumed) and consumed[0] < pulls[-1]


items_strategy = st.lists(
    st.tuples(st.text(alphabet="abcxyz.", min_size=1, max_size=6), st.integers(-50, 50)), max_size=12
)


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_template_is_actually_fixed(name: str) -> None:
    source = textwrap.dedent(TEMPLATES[name])
    assert fixed_text(source) != source


@pytest.mark.parametrize("name", sorted(UNSAFE_TEMPLATES))
def test_unsafe_template_is_fixed_only_with_unsafe_fixes(name: str) -> None:
    source = textwrap.dedent(UNSAFE_TEMPLATES[name])
    assert fixed_text(source, FixMode.SAFE) == source
    assert fixed_text(source, FixMode.UNSAFE) != source


@pytest.mark.parametrize("name", sorted(UNSAFE_TEMPLATES))
@settings(max_examples=60, deadline=None)
@given(items=items_strategy)
def test_unsafe_partition_keeps_results_with_an_exhausting_consumer(
    name: str, items: list[tuple[str, int]]
) -> None:
    source = textwrap.dedent(UNSAFE_TEMPLATES[name])
    fixed = fixed_text(source, FixMode.UNSAFE)
    before, before_log = run_function(source, items)
    after, after_log = run_function(fixed, items)
    assert after == before
    assert consumer_view(after_log) == consumer_view(before_log)


@pytest.mark.parametrize("name", sorted(TEMPLATES))
@settings(max_examples=60, deadline=None)
@given(items=items_strategy)
def test_safe_fix_preserves_behaviour(name: str, items: list[tuple[str, int]]) -> None:
    source = textwrap.dedent(TEMPLATES[name])
    fixed = fixed_text(source, FixMode.SAFE)
    before, before_log = run_function(source, items)
    after, after_log = run_function(fixed, items)
    assert after == before
    assert consumer_view(after_log) == consumer_view(before_log)
    # The point of the fix: the original pulls everything before the consumer
    # starts; the fixed one hands each element on before pulling the next.
    assert not interleaved(before_log)
    if len(consumer_view(after_log)) >= 2:
        assert interleaved(after_log)
