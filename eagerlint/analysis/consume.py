"""The other question about a stream: is it read to the end, once, partially, twice?

A one-shot stream consumed twice loads nothing the second time; a helper that
always reads its parameter to the end uses the caller's stream up.  These
answers serve the multi-pass rule (EL008), the tee rule (EL005) and helper
summaries (`consumed_at`, `second_pass`); the rules only word them.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from eagerlint.analysis import streams
from eagerlint.analysis.cst_util import callee_name, last_part, target_names
from eagerlint.analysis.flow import Event, EventKind, Seed, Step, ValueKind
from eagerlint.analysis.walk import children, descendants, enclosing_blocks, runs_with

if TYPE_CHECKING:
    from eagerlint.analysis.module import ModuleView

# Builtins that pull elements from their argument (all or until they are satisfied).
PULLING_BUILTINS = frozenset({"any", "all", "next", "sum", "max", "min", "len"})


def is_partial(event: Event) -> bool:
    """`first = next(weights)`, or a loop that may `break`: takes a prefix on
    purpose (the probe-then-chain pattern continues the same iterator)."""
    node = event.node
    if isinstance(node, cst.For):
        return any(isinstance(n, cst.Break) for n in _own_loop_body(node))
    return (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Name)
        and node.func.value == "next"
        and isinstance(event.stack[-2], (cst.Assign, cst.AnnAssign))
    )


_OWN_LOOP_STOPS = frozenset((cst.For, cst.While, cst.FunctionDef, cst.Lambda))  # see walk.SCOPE_TYPES


def _own_loop_body(loop: cst.For) -> list[cst.CSTNode]:
    """The loop's body without nested loops (whose `break` is their own)."""
    found: list[cst.CSTNode] = []
    stack: list[cst.CSTNode] = [loop.body]
    while stack:
        node = stack.pop()
        found.append(node)
        if type(node) not in _OWN_LOOP_STOPS:
            stack.extend(children(node))
    return found


def nested_in_loop(inner: Event, outer: Event) -> bool:
    return isinstance(outer.node, cst.For) and any(n is outer.node.body for n in inner.stack)


def repeating_loop(event: Event) -> cst.CSTNode | None:
    """A loop around the consumption (other than a loop over the stream itself)."""
    if any(isinstance(n, cst.Return) for n in event.stack):
        return None
    origin = event.value.steps[0][0] if event.value.steps else None
    function_at = max(i for i, n in enumerate(event.stack) if isinstance(n, cst.FunctionDef))
    inner = event.stack[function_at + 1 :]
    for depth, node in enumerate(inner):
        if not isinstance(node, (cst.For, cst.While)) or node is event.node:
            continue
        below = inner[depth + 1] if depth + 1 < len(inner) else event.node
        if below is not node.body:
            continue  # the consumption is in the loop's header or `else`, run once
        body = list(descendants(node.body))
        if any(isinstance(n, (cst.Break, cst.Return, cst.Raise)) for n in body):
            continue  # the loop may run the consumer once and stop
        if any(n is origin for n in body):
            continue  # a fresh stream is produced on every iteration
        return node
    return None


def origin(event: Event) -> tuple[int, int]:
    """What one pass uses up: the source stream, or one branch of a tee of it."""
    if event.value.branch is not None:
        return event.value.branch
    steps = event.value.steps
    return (id(steps[0][0]) if steps else id(event.value), -1)


def consumes(event: Event, view: ModuleView) -> bool:
    if event.value.kind is not ValueKind.STREAM:
        return False
    if finishes(event):
        return False  # reading what another consumer left, to discard it
    if event.kind in (
        EventKind.FOR_LOOP,
        EventKind.COMPREHENSION,
        EventKind.COLLECTION_CALL,
        EventKind.STAR_UNPACK,
    ):
        return True
    if event.kind is not EventKind.CALL_ARG:
        return False
    call = event.node
    assert isinstance(call, cst.Call)
    name = last_part(callee_name(call))
    if name in PULLING_BUILTINS and isinstance(call.func, cst.Name):
        return True
    if streams.is_lazy_consumer(call, view.options):
        return True
    # Unknown functions may only pass the stream on, and are not counted.
    return helper_read(event, view) is not None


def finishes(event: Event) -> bool:
    """`for _ in stream: pass`: a loop that discards every element it reads.  After
    a consumer that may stop early, it drains the rest on purpose; it loads nothing
    a second pass could miss."""
    loop = event.node
    if event.kind is not EventKind.FOR_LOOP or not isinstance(loop, cst.For):
        return False
    if not isinstance(loop.body, cst.IndentedBlock) or loop.orelse is not None:
        return False
    if set(target_names(loop.target)) - {"_"}:
        return False  # the elements have names: they were meant to be used
    inert = all(
        isinstance(stmt, cst.SimpleStatementLine)
        and all(
            isinstance(small, (cst.Pass, cst.Continue))
            or (isinstance(small, cst.Expr) and isinstance(small.value, cst.Ellipsis))
            for small in stmt.body
        )
        for stmt in loop.body.body
    )
    return inert


def helper_read(event: Event, view: ModuleView) -> Step | None:
    """Where a called helper (in this module or another one of the tree) reads the
    stream to the end, by its summary."""
    if event.kind is not EventKind.CALL_ARG:
        return None
    call = event.node
    assert isinstance(call, cst.Call)
    arg = next((a for a in call.args if a.value is event.operand), None)
    summary = view.helper_summary(call, event.cls, arg) if arg is not None else None
    return None if summary is None else summary.consumed_at


def full_consumption(
    func: cst.FunctionDef, events: list[Event], seed: Seed, view: ModuleView
) -> Event | None:
    """The first event of `func` itself that always reads the stream `seed` to the end.

    None for a generator function (calling it reads nothing yet), and for reads
    under a condition or inside a nested function.
    """
    if _yields(func):
        return None
    for event in events:
        if event.function is not func or event.value.seed != seed:
            continue
        if not consumes(event, view) or is_partial(event) or _may_return_early(event):
            continue
        if _is_next(event) or _conditional(event) or _may_leave_before(event):
            continue
        return event
    return None


# Ancestors under which a read may not run, or may run for another iteration.
CONDITIONAL = (
    cst.If, cst.Match, cst.Try, cst.While, cst.For, cst.BooleanOperation, cst.IfExp, cst.Lambda,
    cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp,
)  # fmt: skip


def _is_next(event: Event) -> bool:
    """`next(weights)` takes one element: a peek, whatever the caller does next."""
    node = event.node
    return isinstance(node, cst.Call) and last_part(callee_name(node)) == "next"


def _conditional(event: Event) -> bool:
    function_at = max(i for i, n in enumerate(event.stack) if isinstance(n, cst.FunctionDef))
    return any(isinstance(n, CONDITIONAL) and n is not event.node for n in event.stack[function_at + 1 :])


def _may_leave_before(event: Event) -> bool:
    """A `return` or `raise` in a statement that runs before the read."""
    return any(_leaves(stmt) for body, index in enclosing_blocks(event.stack) for stmt in body[:index])


def _leaves(stmt: cst.CSTNode) -> bool:
    return any(isinstance(n, (cst.Return, cst.Raise)) for n in runs_with(stmt))


def _may_return_early(event: Event) -> bool:
    """A loop over the stream that can return from inside: it may stop at a prefix."""
    node = event.node
    return isinstance(node, cst.For) and any(isinstance(n, cst.Return) for n in _own_loop_body(node))


def _yields(func: cst.FunctionDef) -> bool:
    return any(isinstance(n, cst.Yield) for n in runs_with(func.body))


def same_pass(first: Event, second: Event) -> bool:
    """One consumption seen twice: a call inside the loop's own iterator, or a
    generator expression that a pulling call consumes."""
    if first.node is second.node:
        return True
    if first.kind is EventKind.FOR_LOOP:
        assert isinstance(first.node, cst.For)
        return any(n is second.node for n in descendants(first.node.iter))
    return any(n is first.node for n in second.stack)


def exclusive(first: Event, second: Event) -> bool:
    """Whether the two never run in one call: different branches, or the first returns."""
    if any(isinstance(n, cst.Return) for n in first.stack):
        return True
    for depth, (a, b) in enumerate(zip(first.stack, second.stack, strict=False)):
        if a is b:
            continue
        parent = first.stack[depth - 1]
        if isinstance(parent, cst.If):
            return {id(a), id(b)} == {id(parent.body), id(parent.orelse)}
        if isinstance(parent, cst.Match):
            return True
        if isinstance(parent, cst.IfExp):
            return {id(a), id(b)} == {id(parent.body), id(parent.orelse)}
        # `if special: ...consume...; return` then the general path.
        return any(_ends_by_leaving(n) for n in first.stack[depth:] if isinstance(n, cst.IndentedBlock))
    return False


def _ends_by_leaving(block: cst.IndentedBlock) -> bool:
    last = block.body[-1] if block.body else None
    return isinstance(last, cst.SimpleStatementLine) and isinstance(last.body[-1], (cst.Return, cst.Raise))


class Again(enum.Enum):
    """How a stream comes to be read once more."""

    PER_ITERATION = "once per iteration of a loop"  # a loop around the read repeats it
    INSIDE = "inside the loop over it"  # the read runs inside a loop over the same stream
    SECOND = "a second time"  # a later read of a stream already read


@dataclass(frozen=True)
class SecondPass:
    """A read of a one-shot stream after (or while) another read used it up."""

    event: Event
    how: Again
    # The earlier read, or the loop that repeats this one.
    earlier: Event | cst.CSTNode


def second_passes(events: list[Event], view: ModuleView) -> Iterator[SecondPass]:
    """Every read of a stream that finds it used up (or being used) by another: a read a
    loop repeats, one inside the loop over the same stream, one after a full read.
    Reads in exclusive branches, and `first = next(weights)` peeks, are none."""
    consumptions = [e for e in events if consumes(e, view)]
    reported: set[int] = set()
    for event in consumptions:
        loop = None if is_partial(event) else repeating_loop(event)
        if loop is not None:
            reported.add(id(event))
            yield SecondPass(event, Again.PER_ITERATION, loop)
    for i, first in enumerate(consumptions):
        for second in consumptions[i + 1 :]:
            if id(second) in reported or origin(first) != origin(second):
                continue
            if same_pass(first, second) or exclusive(first, second):
                continue
            if (is_partial(first) or is_partial(second)) and not nested_in_loop(second, first):
                continue  # `first = next(weights)` before the loop is deliberate
            reported.add(id(second))
            how = Again.INSIDE if nested_in_loop(second, first) else Again.SECOND
            yield SecondPass(second, how, first)


@dataclass(frozen=True)
class TeeDrain:
    """A branch of an `itertools.tee` of a stream read to the end before a sibling
    starts: the tee buffers every element for the sibling meanwhile."""

    first: Event
    sibling: Event


def tee_drains(events: list[Event], view: ModuleView) -> Iterator[TeeDrain]:
    """The first branch of a tee read to the end before a sibling starts."""
    firsts: dict[tuple[int, int], Event] = {}
    for event in events:
        branch = event.value.branch
        if branch is not None and consumes(event, view) and branch not in firsts:
            firsts[branch] = event
    ordered = list(firsts.items())  # events are recorded in source order
    for position, ((tee, index), first) in enumerate(ordered):
        if is_partial(first):
            continue
        later = [
            e
            for (t, i), e in ordered[position + 1 :]
            if t == tee
            and i != index
            and _same_body(first, e)
            and not exclusive(first, e)
            and not nested_in_loop(e, first)
        ]
        if later:
            yield TeeDrain(first, later[0])


def _same_body(a: Event, b: Event) -> bool:
    """Both run in one function body: nested generator functions run only when pulled."""
    return _innermost_function(a) is _innermost_function(b)


def _innermost_function(event: Event) -> cst.CSTNode:
    return next(n for n in reversed(event.stack) if isinstance(n, cst.FunctionDef))
