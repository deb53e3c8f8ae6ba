"""Helper summaries: what a function does with one parameter when handed a stream.

The function is walked with that parameter as the stream; `materialize` says
whether any of its events keeps every element, `consume` whether it always
reads the parameter to the end and whether it reads it twice, and the walker
whether it hands the elements on lazily (a generator) or returns `tee` views of
them.  No rule is asked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from eagerlint.analysis import consume, materialize
from eagerlint.analysis.flow import Event, EventKind, FunctionWalker, HelperSummary, ValueKind, WeightValue
from eagerlint.analysis.walk import descendants
from eagerlint.outline import Block

if TYPE_CHECKING:
    from eagerlint.analysis.module import ModuleView


def summarize(
    view: ModuleView, func: cst.FunctionDef, owner: Block | None, param: cst.Param
) -> HelperSummary:
    """`func`, a function of `view`'s module, walked with `param` as the stream."""
    name = func.name.value
    key = (id(func), param.name.value)
    seed = WeightValue(
        ValueKind.STREAM, (view.step(param, f"helper parameter `{param.name.value}` of {name}()"),), key
    )
    walker = FunctionWalker(view, func, owner, {param.name.value: seed})
    events = walker.run()
    drain_flow = None
    for event in events:
        found = materialize.materialization(event, view)
        if found is not None and event.value.seed == key:
            drain_flow = found.flow
            break
    consumed = None if walker.preserves else consume.full_consumption(func, events, key, view)
    again = next((a for a in consume.second_passes(events, view) if a.event.value.seed == key), None)
    return HelperSummary(
        name,
        drain_flow,
        walker.preserves,
        walker.returns_tee,
        None if consumed is None else view.step(consumed.node, f"read to the end by {name}()"),
        consumed is not None and _single_pass(func, param, consumed),
        None if again is None else view.step(again.event.node, again.how.value),
    )


# Consumptions that read in order to the end and need nothing but an iterable.
ITERATING = frozenset({EventKind.FOR_LOOP, EventKind.COMPREHENSION, EventKind.COLLECTION_CALL})
# Builtins that read an iterable to the end.
TO_THE_END = frozenset({"sum", "max", "min", "list", "tuple", "set", "frozenset", "dict", "sorted"})


def _single_pass(func: cst.FunctionDef, param: cst.Param, consumed: Event) -> bool:
    """The parameter is read once in the body, and that read iterates it to the end."""
    name = param.name.value
    reads = [n for n in descendants(func.body) if isinstance(n, cst.Name) and n.value == name]
    if len(reads) != 1 or consumed.operand is not reads[0]:
        return False
    if consumed.kind in ITERATING:
        return True
    call = consumed.node
    return (
        consumed.kind is EventKind.CALL_ARG
        and isinstance(call, cst.Call)
        and isinstance(call.func, cst.Name)
        and call.func.value in TO_THE_END
    )
