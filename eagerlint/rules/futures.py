"""Shared matching for the two `concurrent.futures` rules (EL006, EL007).

These rules look at producers of weight streams (`*_weights_iterator`
functions, configured producers, `load_weights`), where shards are read in a
thread pool; they match syntax in the function body, not stream flow.
"""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from eagerlint.cst_util import callee_name, last_part, names_in
from eagerlint.flow import Event, EventKind, ModuleView, ValueKind, WeightValue
from eagerlint.streams import PRODUCER_SUFFIX
from eagerlint.walk import Visitor


def in_scope(func: cst.FunctionDef, view: ModuleView) -> bool:
    name = func.name.value
    producers = {p.rsplit(".", 1)[-1] for p in view.options.stream_producers}
    return name.endswith(PRODUCER_SUFFIX) or name in producers or name == "load_weights"


def is_submit(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Call) and last_part(callee_name(node)) == "submit"


class Located(Visitor):
    """Every node of a function with its ancestors, for rules that match syntax."""

    def __init__(self, func: cst.FunctionDef) -> None:
        self.stack: list[cst.CSTNode] = [func]
        self.found: list[tuple[cst.CSTNode, tuple[cst.CSTNode, ...]]] = []
        self.walk(func.body)

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.stack.append(node)
        self.found.append((node, tuple(self.stack)))
        return super().on_visit(node)

    def on_leave(self, node: cst.CSTNode) -> None:
        super().on_leave(node)
        self.stack.pop()

    def nodes(self, kind: type[cst.CSTNode]) -> Iterator[tuple[cst.CSTNode, tuple[cst.CSTNode, ...]]]:
        return ((n, s) for n, s in self.found if isinstance(n, kind))


def event_at(node: cst.CSTNode, stack: tuple[cst.CSTNode, ...], func: cst.FunctionDef) -> Event:
    """A syntactic match dressed as a flow event, so findings are built the same way."""
    value = WeightValue(ValueKind.MATERIALIZED, ())
    return Event(EventKind.CALL_ARG, node, node, value, stack, func, None)  # type: ignore[arg-type]


def genexp_bindings(located: Located) -> dict[str, cst.GeneratorExp]:
    """Names bound to a generator expression of `.submit(...)` futures."""
    found: dict[str, cst.GeneratorExp] = {}
    for node, _ in located.nodes(cst.Assign):
        assert isinstance(node, cst.Assign)
        target = node.targets[0].target
        if (
            isinstance(target, cst.Name)
            and isinstance(node.value, cst.GeneratorExp)
            and is_submit(node.value.elt)
        ):
            found[target.value] = node.value
    return found


def mentions(node: cst.CSTNode, name: str) -> bool:
    return name in names_in(node)
