"""## What it does
Checks for a weight stream that is consumed more than once: two `for` loops
over it, `any(...)` over it before a loader, `next(filter(..., weights))`
inside `for ... in weights`, or the same stream handed to two loaders.  A
helper counts as a consumer when its summary says it always reads its
parameter to the end (a loop, `any(...)`, a drain; not a generator, not a loop
that may `break` or `return`, not a read under a condition), also when the
helper lives in another module of the analysed tree.
Consumptions in mutually exclusive branches, and `first = next(weights)`
peeks, are not reported.

## Why is this bad?
A weight stream is usually a one-shot generator.  The second consumer sees
what the first one left: a truncated or empty stream.  Weights then go
unloaded with no error, and the model serves garbage.  This is worse than a
memory problem, so it is reported as an error.

## Example
```python
def load_weights(self, weights):
    has_lm_head = any(name.startswith("lm_head") for name, _ in weights)
    loaded = self.loader.load_weights(weights)
    return loaded, has_lm_head
```

## Use instead
```python
def load_weights(self, weights):
    seen_lm_head = False

    def tracked():
        nonlocal seen_lm_head
        for name, w in weights:
            seen_lm_head |= name.startswith("lm_head")
            yield name, w

    loaded = self.loader.load_weights(tracked())
    return loaded, seen_lm_head
```

## Fix safety
No fix: the right repair depends on intent.  Materialize only the small part
that is needed twice, restructure into one pass, or ask the caller for a
fresh iterator.
"""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from eagerlint import streams
from eagerlint.cst_util import callee_name, last_part
from eagerlint.flow import Event, EventKind, ModuleView, Step, ValueKind
from eagerlint.rules.base import Match
from eagerlint.walk import children, descendants, enclosing_blocks, runs_with

CODE = "EL008"
NAME = "weights-multi-pass"
SEVERITY = "error"
MATERIALIZES = False
# Builtins that pull elements from their argument (all or until they are satisfied).
PULLING_BUILTINS = frozenset({"any", "all", "next", "sum", "max", "min", "len"})


def check(event: Event, view: ModuleView) -> Iterator[Match]:
    return iter(())


def check_function(events: list[Event], view: ModuleView) -> Iterator[Match]:
    consumptions = [e for e in events if consumes(e, view)]
    reported: set[int] = set()
    for event in consumptions:
        loop = None if is_partial(event) else _repeating_loop(event)
        if loop is not None:
            reported.add(id(event))
            yield _match(
                event, view, loop, f"once per iteration of the loop at line {view.position(loop).row}"
            )
    for i, first in enumerate(consumptions):
        for second in consumptions[i + 1 :]:
            if id(second) in reported or _origin(first) != _origin(second):
                continue
            if same_pass(first, second) or exclusive(first, second):
                continue
            if (is_partial(first) or is_partial(second)) and not nested_in_loop(second, first):
                continue  # `first = next(weights)` before the loop is deliberate
            reported.add(id(second))
            row = view.position(first.node).row
            if nested_in_loop(second, first):
                yield _match(
                    second,
                    view,
                    first,
                    f"inside the loop over it at line {row}",
                    "it advances the loop's own iterator, so the loop skips every weight it passes",
                )
            else:
                yield _match(second, view, first, f"again after line {row}")


def _match(
    event: Event,
    view: ModuleView,
    earlier: Event | cst.CSTNode,
    when: str,
    effect: str = "a one-shot iterator is empty the second time",
) -> Match:
    if isinstance(earlier, Event):
        inside = helper_read(earlier, view)
        first = (view.step(earlier.node, "consumed here"), *((inside,) if inside else ()))
    else:
        first = (view.step(earlier, "consumed here"),)
    flow = (*event.value.steps, *first, view.step(event.node, "and consumed again"))
    node = event.node.iter if isinstance(event.node, cst.For) else event.node
    return Match(
        CODE,
        NAME,
        f"Weight stream consumed {when}: {effect}",
        node,
        event,
        flow,
        no_fix_reason="buffer only the small part needed twice, make it one pass, or pass a fresh iterator",
    )


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


def _own_loop_body(loop: cst.For) -> list[cst.CSTNode]:
    """The loop's body without nested loops (whose `break` is their own)."""
    found: list[cst.CSTNode] = []
    stack: list[cst.CSTNode] = [loop.body]
    while stack:
        node = stack.pop()
        found.append(node)
        if not isinstance(node, (cst.For, cst.While, cst.FunctionDef, cst.Lambda)):
            stack.extend(children(node))
    return found


def nested_in_loop(inner: Event, outer: Event) -> bool:
    return isinstance(outer.node, cst.For) and any(n is outer.node.body for n in inner.stack)


def _repeating_loop(event: Event) -> cst.CSTNode | None:
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


def _origin(event: Event) -> tuple[int, int]:
    """What one pass uses up: the source stream, or one branch of a tee of it."""
    if event.value.branch is not None:
        return event.value.branch
    steps = event.value.steps
    return (id(steps[0][0]) if steps else id(event.value), -1)


def consumes(event: Event, view: ModuleView) -> bool:
    if event.value.kind is not ValueKind.STREAM:
        return False
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
    func: cst.FunctionDef, events: list[Event], seed: object, view: ModuleView
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
        # `if special: ...consume...; return` then the general path.
        return any(_ends_by_leaving(n) for n in first.stack[depth:] if isinstance(n, cst.IndentedBlock))
    return False


def _ends_by_leaving(block: cst.IndentedBlock) -> bool:
    last = block.body[-1] if block.body else None
    return isinstance(last, cst.SimpleStatementLine) and isinstance(last.body[-1], (cst.Return, cst.Raise))
