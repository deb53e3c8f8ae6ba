"""## What it does
Checks for a weight stream that is consumed more than once: two `for` loops
over it, `any(...)` over it before a loader, `next(filter(..., weights))`
inside `for ... in weights`, or the same stream handed to two loaders.
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
from eagerlint.flow import Event, EventKind, ModuleView, ValueKind
from eagerlint.rules.base import Match
from eagerlint.walk import children, descendants

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
            yield _match(second, view, first.node, f"again after line {view.position(first.node).row}")


def _match(event: Event, view: ModuleView, earlier: cst.CSTNode, when: str) -> Match:
    flow = (
        *event.value.steps,
        view.step(earlier, "consumed here"),
        view.step(event.node, "and consumed again"),
    )
    node = event.node.iter if isinstance(event.node, cst.For) else event.node
    return Match(
        CODE,
        NAME,
        f"Weight stream consumed {when}: a one-shot iterator is empty the second time",
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
    # Calls to unknown functions are not counted: they may only pass it on.
    return streams.is_lazy_consumer(call, view.options)


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
