"""Run eagerlint's safe fix on a program, execute original and fixed code on the
same one-shot streams, compare what they did, and minimise a difference.

One process, no subprocess: eagerlint is called in process
(`pipeline.check_bytes`), each version is compiled once and its module executed
once, and each stream run instantiates a fresh `Model`.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from eagerlint.config import Settings
from eagerlint.model import FileResult
from eagerlint.pipeline import FixMode, check_bytes
from tests.fuzz import generator
from tests.fuzz.generator import Program, Spec
from tests.fuzz.runtime import Entry, Item, Run, execute, load

SETTINGS = Settings(root=Path(__file__).resolve().parent)
NAMES = "abcx"
ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def lint(source: str) -> FileResult:
    return check_bytes(source.encode(), "t.py", SETTINGS, FixMode.SAFE)


def streams(seed: int) -> list[list[Item]]:
    """The streams every program of `seed` runs on: empty, one element, two random."""
    rng = random.Random(seed * 1_000_003 + 17)

    def one(size: int) -> list[Item]:
        return [(f"{rng.choice(NAMES)}{i}", rng.choice([-3, -1, 1, 2, 3, 4, 5, 6])) for i in range(size)]

    return [[], one(1), one(rng.randint(2, 4)), one(rng.randint(3, 6))]


def clean(run: Run) -> tuple[Entry, ...]:
    return tuple(
        (e[0], e[1], ADDRESS.sub("", e[2])) if e[0] == "raise" and len(e) == 3 else e for e in run.log
    )


@dataclass(frozen=True)
class Difference:
    items: list[Item]
    before: tuple[Entry, ...]
    after: tuple[Entry, ...]

    def describe(self) -> str:
        """The stream and both logs (the final state only where it differs)."""
        before, after = list(self.before), list(self.after)
        if before[-1] == after[-1]:
            before, after = before[:-1], after[:-1]
        lines = [f"stream: {self.items!r}", "original log:"]
        lines += [f"  {entry!r}" for entry in before]
        lines.append("fixed log:")
        lines += [f"  {entry!r}" for entry in after]
        return "\n".join(lines)


@dataclass(frozen=True)
class Outcome:
    """What happened to one program."""

    program: Program
    fixed: str | None  # None: no safe fix
    error: str = ""  # an eagerlint error, or code that does not compile
    difference: Difference | None = None


def compare(source: str, fixed: str, items_list: Iterable[list[Item]]) -> Difference | None:
    before_model = load(compile(source, "<original>", "exec"))
    after_model = load(compile(fixed, "<fixed>", "exec"))
    for items in items_list:
        before = clean(execute(before_model, items))
        after = clean(execute(after_model, items))
        if before != after:
            return Difference(items, before, after)
    return None


def examine(program: Program, items_list: Iterable[list[Item]] | None = None) -> Outcome:
    try:
        compile(program.source, "<original>", "exec")
    except SyntaxError as exc:
        return Outcome(program, None, error=f"the generated program does not compile: {exc}")
    result = lint(program.source)
    if result.error is not None:
        return Outcome(program, None, error=f"eagerlint: {result.error.kind.value}: {result.error.message}")
    fixed = result.fixed_source
    if fixed is None:
        return Outcome(program, None)
    try:
        compile(fixed, "<fixed>", "exec")
    except SyntaxError as exc:
        return Outcome(program, fixed, error=f"the fixed program does not compile: {exc}")
    chosen = streams(program.seed) if items_list is None else items_list
    return Outcome(program, fixed, difference=compare(program.source, fixed, chosen))


# -- minimising -----------------------------------------------------------------------


# Each slot's choices from simplest to most involved (the tables' own order where it fits).
_ORDER: dict[str, list[str]] = {
    "pre": list(generator.PRE),
    "producer": list(generator.PRODUCERS),
    "source": list(generator.SOURCES),
    "again": ["weights", "stream"],
    "transform": [
        "list",
        "listcomp",
        "tuple",
        "list_genexp",
        "tuple_genexp",
        "star_list",
        "star_tuple",
        "list_map",
        "loop",
    ],
    "elt": list(generator.ELTS),
    "cond": list(generator.CONDS),
    "bind": list(generator.BINDS),
    "consumer": list(generator.CONSUMERS),
    "helper": list(generator.HELPERS),
    "wrapper": list(generator.WRAPPERS),
    "ret": list(generator.RETURNS),
    "between": list(generator.BETWEEN),
    "body": list(generator.BODY),
    "after": list(generator.AFTER),
}
_SEQUENCES = ("between", "body", "after")


def _simpler(spec: Spec) -> Iterator[Spec]:
    """Specs one step simpler than `spec`: a statement dropped or made plainer, a choice made plainer."""
    for name in _SEQUENCES:
        value: tuple[str, ...] = getattr(spec, name)
        for i in range(len(value)):
            yield replace(spec, **{name: value[:i] + value[i + 1 :]})
        for i, key in enumerate(value):
            for simple in _ORDER[name][: _ORDER[name].index(key)]:
                yield replace(spec, **{name: (*value[:i], simple, *value[i + 1 :])})
    for f in fields(spec):
        if f.name in _SEQUENCES:
            continue
        order = _ORDER[f.name]
        for simple in order[: order.index(getattr(spec, f.name))]:
            candidate = replace(spec, **{f.name: simple})
            if f.name == "consumer" and simple in generator.LOOPS and not spec.body:
                candidate = replace(candidate, body=("sink",))
            yield candidate


def _complexity(spec: Spec) -> int:
    """What minimising lowers: statements, and how far each choice is from the plainest."""
    total = 0
    for f in fields(spec):
        value = getattr(spec, f.name)
        if f.name in _SEQUENCES:
            total += sum(3 + _ORDER[f.name].index(key) for key in value)
        else:
            total += _ORDER[f.name].index(value) * (2 if f.name == "consumer" else 1)
    return total


# Minimising many differences of one run tries the same small specs again and again.
_MEMO: dict[tuple[Spec, tuple[Item, ...]], Difference | None] = {}


def minimise(program: Program, difference: Difference, budget: int = 1000) -> tuple[Program, Difference]:
    """A smaller program of the same shape and a shorter stream that still behave
    differently after the safe fix."""

    def differs(spec: Spec, items: list[Item]) -> Difference | None:
        key = (spec, tuple(items))
        if key not in _MEMO:
            candidate = Program(program.seed, spec, generator.render(spec), generator.tags(spec))
            outcome = examine(candidate, [items])
            _MEMO[key] = outcome.difference if not outcome.error else None
        return _MEMO[key]

    spec, items, found = program.spec, difference.items, difference
    shape = generator.tags(spec)
    tries = 0
    changed = True
    while changed and tries < budget:
        changed = False
        for candidate in _simpler(spec):
            normal = generator.normalise(candidate)
            # The shape must stay: a smaller program with another bug is another reproducer.
            if normal is None or _complexity(normal) >= _complexity(spec) or generator.tags(normal) != shape:
                continue
            tries += 1
            # A plainer program may need a longer stream: the one the difference was found
            # on, or another of its seed's.
            d = differs(normal, items) or next(
                (
                    d
                    for longer in [difference.items, *streams(program.seed)]
                    if (d := differs(normal, longer))
                ),
                None,
            )
            if d is not None:
                spec, items, found, changed = normal, d.items, d, True
                break
        if not changed:
            for i in range(len(items)):
                shorter = items[:i] + items[i + 1 :]
                tries += 1
                d = differs(spec, shorter)
                if d is not None:
                    items, found, changed = shorter, d, True
                    break
    small = Program(program.seed, spec, generator.render(spec), generator.tags(spec))
    return small, found


# -- many seeds ---------------------------------------------------------------------


@dataclass
class Summary:
    generated: int = 0
    safe_fixed: int = 0
    skipped: int = 0  # no safe fix
    errors: list[Outcome] = field(default_factory=list)
    differences: list[Outcome] = field(default_factory=list)
    generated_by_shape: Counter[str] = field(default_factory=Counter)
    fixed_by_shape: Counter[str] = field(default_factory=Counter)
    differences_by_shape: Counter[str] = field(default_factory=Counter)
    imports_edited: int = 0  # safe fixes that also edited the typing import line

    def add(self, outcome: Outcome) -> None:
        self.generated += 1
        shape = shape_of(outcome.program)
        self.generated_by_shape[shape] += 1
        if outcome.error:
            self.errors.append(outcome)
            return
        if outcome.fixed is None:
            self.skipped += 1
            return
        self.safe_fixed += 1
        self.fixed_by_shape[shape] += 1
        if outcome.program.spec.imports == "typing" and generator.TYPED_HEADER not in outcome.fixed:
            self.imports_edited += 1
        if outcome.difference is not None:
            self.differences.append(outcome)
            self.differences_by_shape[shape] += 1


def shape_of(program: Program) -> str:
    """The program's known shape, or "-" for none (the generator draws at most one)."""
    return next(iter(sorted(program.tags)), "-")


def run_seeds(seeds: Iterable[int], progress: Callable[[int], Any] | None = None) -> Summary:
    summary = Summary()
    for seed in seeds:
        summary.add(examine(generator.generate(seed)))
        if progress is not None:
            progress(seed)
    return summary


def reproducer(program: Program, difference: Difference, seed: int | None = None) -> str:
    """A report of one difference: the program, its safe fix, the stream and both logs."""
    fixed = lint(program.source).fixed_source or ""
    shape = shape_of(program)
    title = generator.SHAPES.get(shape, "no known shape")
    return "\n".join(
        [
            f"seed {program.seed if seed is None else seed}, shape {shape} ({title})",
            f"spec: Spec({program.spec.short()})",
            "--- original",
            body_of(program.source),
            "--- fixed (safe)",
            body_of(fixed),
            difference.describe(),
        ]
    )


def body_of(source: str) -> str:
    """The program without its fixed header (imports), for short reports."""
    return source.replace(generator.HEADER, "").replace(generator.TYPED_HEADER, "").strip("\n")
