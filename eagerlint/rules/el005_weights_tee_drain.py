"""## What it does
Checks for the branches of an `itertools.tee` of a weight stream consumed one
after another: one branch runs to the end before its sibling starts.  The tee
may be in the same function, or in a helper that returns lazy views of its
branches (`return (x for x in w1 if f(x)), (x for x in w2 if not f(x))`).

## Why is this bad?
`tee` keeps every element that one branch has seen and another has not.  When
a branch is consumed to the end first, tee holds the whole stream for the
sibling: the checkpoint is resident at once, exactly as with `list(weights)`,
only better hidden.

## Example
```python
import itertools


def load_weights(self, weights):
    main, extra = itertools.tee(weights)
    self.model.load_weights((n, w) for n, w in main if not n.startswith("extra."))
    for name, w in extra:
        if name.startswith("extra."):
            self.extra[name].copy_(w)
```

## Use instead
```python
def load_weights(self, weights):
    extra = []

    def main():
        for name, w in weights:
            if name.startswith("extra."):
                extra.append((name, w))
            else:
                yield name, w

    self.model.load_weights(main())
    for name, w in extra:
        self.extra[name].copy_(w)
```

## Fix safety
No fix: interleaving the two consumers, or buffering only the small branch,
needs a decision eagerlint cannot make.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import libcst as cst

from eagerlint.analysis.consume import consumes, exclusive, is_partial, nested_in_loop
from eagerlint.analysis.flow import Event
from eagerlint.rules.base import Match, Rule

if TYPE_CHECKING:
    from eagerlint.analysis.module import ModuleView


def check_function(events: list[Event], view: ModuleView) -> Iterator[Match]:
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
        if not later:
            continue
        sibling = later[0]
        flow = (
            *first.value.steps,
            view.step(first.node, "this branch is consumed to the end"),
            view.step(sibling.node, "before its sibling starts"),
        )
        node = first.node.iter if isinstance(first.node, cst.For) else first.node
        yield Match(
            "tee branch consumed to the end before its sibling starts",
            node,
            first.where,
            flow,
            no_fix_reason="interleave the consumers, or buffer only the small branch",
        )


def _same_body(a: Event, b: Event) -> bool:
    """Both run in one function body: nested generator functions run only when pulled."""
    return _innermost_function(a) is _innermost_function(b)


def _innermost_function(event: Event) -> cst.CSTNode:
    return next(n for n in reversed(event.stack) if isinstance(n, cst.FunctionDef))


COST = "tee holds every element the sibling has not read, the whole checkpoint in host RAM"
RULE = Rule("EL005", "weights-tee-drain", __doc__ or "", COST, on_function=check_function)
