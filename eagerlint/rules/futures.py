"""Shared matching for the two `concurrent.futures` rules (EL006, EL007).

These rules look at producers of weight streams (`*_weights_iterator`
functions, configured producers, `load_weights`), where shards are read in a
thread pool; they match syntax in the function body, not stream flow, and
follow a call one level into the helper (in this module or another one of the
analysed tree) that creates the futures.
"""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from eagerlint.cst_util import callee_name, last_part, names_in
from eagerlint.flow import Event, EventKind, ModuleView, Step, ValueKind, WeightValue
from eagerlint.scan import Block
from eagerlint.streams import PRODUCER_SUFFIX
from eagerlint.walk import Visitor, runs_with


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


def event_at(
    node: cst.CSTNode, stack: tuple[cst.CSTNode, ...], func: cst.FunctionDef, owner: Block | None
) -> Event:
    """A syntactic match dressed as a flow event, so findings are built the same way."""
    value = WeightValue(ValueKind.MATERIALIZED, ())
    return Event(EventKind.CALL_ARG, node, node, value, stack, func, owner)  # type: ignore[arg-type]


def futures_from_helper(
    call: cst.BaseExpression, owner: Block | None, view: ModuleView
) -> tuple[str, Step] | None:
    """("generator" | "list", where) when `call` is a helper that returns the
    futures of `.submit(...)` calls: a generator expression of them, a generator
    function yielding them, a list comprehension of them, or a list it appends
    them to."""
    if not isinstance(call, cst.Call):
        return None
    resolved = view.resolve_call(call, owner)
    if resolved is None:
        return None
    func, home = resolved[0], resolved[2]
    appended: dict[str, cst.CSTNode] = {}
    nodes = list(runs_with(func.body))
    for node in nodes:
        name = submits_appended_to(node)
        if name is not None:
            appended.setdefault(name, node)
    note = f"futures created by {func.name.value}()"
    for node in nodes:
        if isinstance(node, cst.Yield) and isinstance(node.value, cst.Call) and is_submit(node.value):
            return "generator", home.step(node, note)
        if not isinstance(node, cst.Return) or node.value is None:
            continue
        value = node.value
        if isinstance(value, cst.GeneratorExp) and is_submit(value.elt):
            return "generator", home.step(value, note)
        if isinstance(value, cst.ListComp) and is_submit(value.elt):
            return "list", home.step(value, note)
        if isinstance(value, cst.Name) and value.value in appended:
            return "list", home.step(appended[value.value], note)
    return None


def submits_appended_to(node: cst.CSTNode) -> str | None:
    """`futures` in `futures.append(executor.submit(...))`."""
    if not (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.args):
        return None
    func = node.func
    if (
        func.attr.value != "append"
        or not is_submit(node.args[0].value)
        or not isinstance(func.value, cst.Name)
    ):
        return None
    return func.value.value


def bindings(located: Located) -> dict[str, list[cst.BaseExpression]]:
    """Everything each plain name is assigned in the function."""
    found: dict[str, list[cst.BaseExpression]] = {}
    for node, _ in located.nodes(cst.Assign):
        assert isinstance(node, cst.Assign)
        target = node.targets[0].target
        if isinstance(target, cst.Name):
            found.setdefault(target.value, []).append(node.value)
    return found


def mentions(node: cst.CSTNode, name: str) -> bool:
    return name in names_in(node)
