"""## What it does
Checks for `list`, `tuple`, `set`, `frozenset`, `dict` or `sorted` applied to a
weight stream, for star-unpacking one into a literal (`[*weights]`,
`(*weights,)`, `{*weights}`), and for a starred assignment target
(`first, *rest = weights`), whose starred name is a list of the rest.

## Why is this bad?
Each of these pulls every `(name, tensor)` pair out of the stream and keeps it.
With a loader that returns private copies, the whole checkpoint is resident in
host RAM at once; peak memory grows by the checkpoint size per worker.

## Example
```python
def load_weights(self, weights):
    weights = list(weights)
    for name, loaded_weight in weights:
        self.params[name].copy_(loaded_weight)
```

## Use instead
```python
def load_weights(self, weights):
    for name, loaded_weight in weights:
        self.params[name].copy_(loaded_weight)
```

## Fix safety
`list(s)`, `tuple(s)`, `[*s]` and `(*s,)` become `s` (`list(<genexp>)` becomes
the generator expression).  The fix is safe when the result is consumed once,
in order, by an iterating consumer with nothing in between; unsafe when that
cannot be proven; absent when the result is reused, indexed, measured,
returned or stored.  `sorted`, `set`, `frozenset` and `dict` are never
rewritten: order, deduplication or keyed access would change.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import libcst as cst

from eagerlint.analysis.flow import Event
from eagerlint.analysis.materialize import Shape, materialization
from eagerlint.rewrites import unwrap
from eagerlint.rules.base import Match, Rule

if TYPE_CHECKING:
    from eagerlint.analysis.module import ModuleView

REWRITABLE = frozenset({"list", "tuple"})


def check(event: Event, view: ModuleView) -> Iterator[Match]:
    found = materialization(event, view)
    if found is None:
        return
    node, where = found.node, event.where
    if found.shape is Shape.STARRED_TARGET:
        message = f"Star-unpacking keeps every remaining element of the weight stream in `{found.what}`"
        yield Match(message, node, where, found.flow, no_fix_reason="the starred name is a list")
        return
    if found.shape is not Shape.COLLECTION:
        return
    is_call = isinstance(node, cst.Call)
    label = f"{found.what}()" if is_call else found.what
    # What the literal builds: `[*s]` a list, `(*s,)` a tuple, `{*s}` a set.
    what = found.what if is_call else found.what.rsplit(" ", 1)[-1]
    message = f"`{label}` materializes the whole weight stream"
    if what not in REWRITABLE or (isinstance(node, cst.Call) and len(node.args) != 1):
        reason = {
            "sorted": "sorting changes order",
            "list": "the call has more than one argument",
            "tuple": "the call has more than one argument",
        }.get(what, f"a {what} changes semantics")
        yield Match(message, node, where, found.flow, no_fix_reason=reason)
        return
    assert isinstance(node, cst.BaseExpression)
    yield Match(message, node, where, found.flow, fix=unwrap.plan(node, event.operand, event.stack, view))


COST = "the whole checkpoint sits in host RAM at once, once per tensor-parallel worker"
RULE = Rule("EL002", "weights-list-call", __doc__ or "", COST, on_event=check)
