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

import libcst as cst

from eagerlint.cst_util import binds_name, callee_name, last_part
from eagerlint.flow import Event, EventKind, ModuleView, ValueKind
from eagerlint.rewrites.unwrap import unwrap
from eagerlint.rules.base import Match

CODE = "EL002"
NAME = "weights-list-call"
REWRITABLE = frozenset({"list", "tuple"})


def check(event: Event, view: ModuleView) -> Iterator[Match]:
    if event.kind not in (EventKind.COLLECTION_CALL, EventKind.STAR_UNPACK):
        return
    if event.value.kind is not ValueKind.STREAM:
        return  # copying a container that already exists keeps nothing new
    node = event.node
    if isinstance(node, cst.Call):
        what = last_part(callee_name(node))
        if what in view.shadowed_builtins or binds_name(event.function, what):
            return  # a local `list` is not the builtin
    elif _is_assignment_target(event):
        assert isinstance(node, (cst.List, cst.Tuple))
        star = next(el for el in node.elements if isinstance(el, cst.StarredElement))
        name = view.code(star.value)
        flow = (*event.value.steps, view.step(node, f"the rest kept in `{name}`"))
        message = f"Star-unpacking keeps every remaining element of the weight stream in `{name}`"
        yield Match(CODE, NAME, message, node, event, flow, no_fix_reason="the starred name is a list")
        return
    else:
        assert isinstance(node, (cst.List, cst.Tuple, cst.Set))
        what = {cst.List: "list", cst.Tuple: "tuple", cst.Set: "set"}[type(node)]
        if len(node.elements) != 1:
            return  # `[*a, *b]` concatenates several operands: not a plain copy
    label = f"{what}()" if isinstance(node, cst.Call) else f"star-unpacking into a {what}"
    flow = (*event.value.steps, view.step(node, f"materialized by {label}"))
    message = f"`{label}` materializes the whole weight stream"
    if what not in REWRITABLE or (isinstance(node, cst.Call) and len(node.args) != 1):
        reason = {
            "sorted": "sorting changes order",
            "list": "the call has more than one argument",
            "tuple": "the call has more than one argument",
        }.get(what, f"a {what} changes semantics")
        yield Match(CODE, NAME, message, node, event, flow, no_fix_reason=reason)
        return
    operand = event.operand
    assert isinstance(node, cst.BaseExpression)
    yield Match(
        CODE,
        NAME,
        message,
        node,
        event,
        flow,
        value_node=node,
        rewrite=lambda: unwrap(node, operand, event.stack, view),
        fix_title=f"Iterate `{view.code(operand).splitlines()[0]}` directly",
    )


def _is_assignment_target(event: Event) -> bool:
    parent = event.stack[-1] if event.stack else None
    return isinstance(parent, cst.Assign) and any(t.target is event.node for t in parent.targets)
