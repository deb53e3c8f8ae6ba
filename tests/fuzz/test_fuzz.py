"""The behaviour fuzzer in `make test`: a bounded run of seeds, the regression
list, and checks that the harness sees what it must and ignores what it must.

A program's shape is what the generator tagged it with (generator.tags; at
most one known shape per program).  Programs without a known shape must never
behave differently after the safe fix, and neither may programs of a named
shape.  A shape put back in generator.BROKEN_TODAY (a known bug, while it is
being fixed) gets a strict xfail here and in the regression list; none is there
today.
"""

from __future__ import annotations

import os

import pytest

from tests.fuzz import generator, harness
from tests.fuzz.harness import Outcome, Summary, compare, lint, minimise, reproducer, shape_of
from tests.fuzz.regressions import REGRESSIONS, Regression

BOUNDED_SEEDS = int(os.environ.get("EAGERLINT_FUZZ_SEEDS", "2000"))


def broken(shape: str) -> pytest.MarkDecorator:
    return pytest.mark.xfail(
        strict=True,
        reason=f"shape {shape}, safe fixes still change behaviour: {generator.SHAPES[shape]} "
        "(issue 13; when this XPASSes, take the shape out of generator.BROKEN_TODAY)",
    )


def marks(shape: str) -> tuple[pytest.MarkDecorator, ...]:
    return (broken(shape),) if shape in generator.BROKEN_TODAY else ()


def explain(differences: list[Outcome], most: int = 3) -> str:
    shown = []
    for outcome in differences[:most]:
        assert outcome.difference is not None
        small, difference = minimise(outcome.program, outcome.difference)
        shown.append(reproducer(small, difference, outcome.program.seed))
    return f"{len(differences)} behaviour differences; minimised:\n\n" + "\n\n".join(shown)


@pytest.fixture(scope="module")
def bounded() -> Summary:
    return harness.run_seeds(range(BOUNDED_SEEDS))


# -- the bounded run --------------------------------------------------------------


def test_bounded_run_has_no_errors(bounded: Summary) -> None:
    """Every program compiles, eagerlint returns no error on it, every fix compiles."""
    assert not bounded.errors, "\n".join(f"seed {o.program.seed}: {o.error}" for o in bounded.errors[:5])


def test_bounded_run_reaches_every_shape(bounded: Summary) -> None:
    assert bounded.generated == BOUNDED_SEEDS
    assert bounded.safe_fixed + bounded.skipped == BOUNDED_SEEDS
    # Safety refuses whenever it cannot prove a program behaves the same; the
    # recording model's methods are outside the linted source, so a call to one
    # may change anything under `self`.  About a sixth of programs still get a
    # safe fix (344 of 2,000 when this was written): enough to compare.
    assert bounded.safe_fixed >= BOUNDED_SEEDS // 8, "too few programs get a safe fix to compare"
    assert bounded.fixed_by_shape["-"] >= BOUNDED_SEEDS // 8
    # Loops into a `List[...]` container under `from typing import Any, List`: their
    # fix edits that import line (25 of the first 3,000 seeds when this was written).
    assert bounded.imports_edited >= BOUNDED_SEEDS // 300, "too few fixes edit an import line"
    if BOUNDED_SEEDS >= 2000:
        for shape in generator.SHAPES:
            assert bounded.generated_by_shape[shape] >= 5, f"shape {shape} is rarely generated"


def test_no_difference_without_a_known_shape(bounded: Summary) -> None:
    differences = [d for d in bounded.differences if shape_of(d.program) == "-"]
    assert not differences, explain(differences)


@pytest.mark.parametrize("shape", [pytest.param(s, marks=marks(s)) for s in generator.SHAPES])
def test_no_difference_in_shape(bounded: Summary, shape: str) -> None:
    differences = [d for d in bounded.differences if shape_of(d.program) == shape]
    assert not differences, explain(differences)


# -- the regression list --------------------------------------------------------------


def program(case: Regression) -> str:
    return generator.HEADER + "\n\n" + case.source


@pytest.mark.parametrize("case", [pytest.param(r, id=r.name, marks=marks(r.shape)) for r in REGRESSIONS])
def test_regression(case: Regression) -> None:
    source = program(case)
    result = lint(source)
    assert result.error is None, result.error
    if result.fixed_source is None:
        return  # no safe fix: nothing can behave differently
    difference = compare(source, result.fixed_source, [list(case.stream)])
    assert difference is None, "\n" + difference.describe()


def test_regression_list_is_well_formed() -> None:
    names = [r.name for r in REGRESSIONS]
    assert len(set(names)) == len(names)
    assert {r.shape for r in REGRESSIONS} >= set(generator.BROKEN_TODAY), "every broken shape has a case"
    for case in REGRESSIONS:
        assert case.shape in generator.SHAPES, case.name
        assert case.name.startswith(case.shape + "-"), case.name
        compile(program(case), case.name, "exec")


# -- the harness itself -----------------------------------------------------------------

STREAM = [("a0", 1), ("b1", 2), ("c2", 3)]


def test_generation_is_deterministic_per_seed() -> None:
    for seed in (0, 1, 977, 12345):
        assert generator.generate(seed) == generator.generate(seed)
    assert generator.generate(1).source != generator.generate(2).source


def test_when_elements_are_pulled_is_not_compared() -> None:
    """The whole point of the fix: the list pulls everything first, the stream one at a time."""
    before = "class Model(Recorder):\n    def load_weights(self, weights):\n        for n, w in {}:\n"
    body = "            self.sink(n, w)\n            if n == 'b1':\n                break\n"
    original, fixed = before.format("list(weights)") + body, before.format("weights") + body
    assert compare(original, fixed, [STREAM]) is None


@pytest.mark.parametrize(
    "fixed",
    [
        # a value, an order, an extra effect, an attribute write, a returned value, a raise
        "        for n, w in weights:\n            self.sink(n, w + 1)\n",
        "        for n, w in reversed(list(weights)):\n            self.sink(n, w)\n",
        "        for n, w in weights:\n            self.sink(n, w)\n            self.note(n)\n",
        "        for n, w in weights:\n            self.sink(n, w)\n        self.scale = 2\n",
        "        for n, w in weights:\n            self.sink(n, w)\n        return 1\n",
        "        for n, w in weights:\n            self.sink(n, w)\n        raise KeyError(n)\n",
    ],
)
def test_every_observable_change_is_a_difference(fixed: str) -> None:
    head = "class Model(Recorder):\n    def load_weights(self, weights):\n"
    original = head + "        for n, w in list(weights):\n            self.sink(n, w)\n"
    assert compare(original, head + fixed, [STREAM]) is not None
