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
from typing import TYPE_CHECKING

import libcst as cst

from eagerlint.analysis.consume import Again, helper_read, second_passes
from eagerlint.analysis.flow import Event
from eagerlint.rules.base import Match, Rule

if TYPE_CHECKING:
    from eagerlint.analysis.module import ModuleView


def check_function(events: list[Event], view: ModuleView) -> Iterator[Match]:
    for again in second_passes(events, view):
        if again.how is Again.PER_ITERATION:
            yield _match(again.event, view, again.earlier, again.how.value, "the loop that repeats it")
        elif again.how is Again.INSIDE:
            yield _match(again.event, view, again.earlier, again.how.value, "the loop over it", SKIPS)
        else:
            yield _match(again.event, view, again.earlier, again.how.value, "consumed here")


# What goes wrong when the inner pass advances the outer loop's own iterator.
SKIPS = "it advances the loop's own iterator, so the loop silently skips every weight it passes"


def _match(
    event: Event,
    view: ModuleView,
    earlier: Event | cst.CSTNode,
    when: str,
    note: str,
    cost: str = "",
) -> Match:
    if isinstance(earlier, Event):
        inside = helper_read(earlier, view)
        first = (view.step(earlier.node, note), *((inside,) if inside else ()))
    else:
        first = (view.step(earlier, note),)
    flow = (*event.value.steps, *first, view.step(event.node, "and consumed again"))
    node = event.node.iter if isinstance(event.node, cst.For) else event.node
    return Match(
        f"Weight stream consumed {when}",
        node,
        event.where,
        flow,
        no_fix_reason="buffer only the small part needed twice, make it one pass, or pass a fresh iterator",
        cost=cost,
    )


COST = "the second pass loads nothing (a one-shot iterator is empty), so weights go silently unloaded"
RULE = Rule("EL008", "weights-multi-pass", __doc__ or "", COST, on_function=check_function)
