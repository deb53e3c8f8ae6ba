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

from eagerlint.analysis.consume import tee_drains
from eagerlint.analysis.flow import Event
from eagerlint.rules.base import Match, Rule

if TYPE_CHECKING:
    from eagerlint.analysis.module import ModuleView


def check_function(events: list[Event], view: ModuleView) -> Iterator[Match]:
    for found in tee_drains(events, view):
        first, sibling = found.first, found.sibling
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


COST = "tee holds every element the sibling has not read, the whole checkpoint in host RAM"
RULE = Rule("EL005", "weights-tee-drain", __doc__ or "", COST, on_function=check_function)
