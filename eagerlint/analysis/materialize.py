"""The one answer to "does this keep the whole stream?".

Given a flow event (a comprehension, a collection call, a star-unpacking, a
loop, a call that hands a stream on), `materialization` says whether every
element of the stream ends up held at once, and how: the shape, the node that
keeps, and the flow from the source to it.  Helper summaries ask it about a
helper's own events, and the materializing rules (EL001-EL004) word what it
answers; nothing else decides it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from eagerlint.analysis.cst_util import binds_name, callee_name, last_part
from eagerlint.analysis.flow import Event, EventKind, Step, ValueKind
from eagerlint.analysis.keeps import Context, Drain, find_drain, following_statements, optional_remainder
from eagerlint.analysis.resolve import Resolved, param_for
from eagerlint.analysis.uses import stack_of, uses_after

if TYPE_CHECKING:
    from eagerlint.analysis.module import ModuleView


class Shape(enum.Enum):
    COMPREHENSION = "comprehension"  # [.. for .. in s], {..}, {k: v ..}
    COLLECTION = "collection"  # list(s), sorted(s), [*s], ...
    STARRED_TARGET = "starred target"  # first, *rest = s
    LOOP = "loop"  # a loop whose default path keeps every element
    HELPER = "helper"  # a call to a function of the tree that keeps its parameter


COMPREHENSION_KINDS = {cst.ListComp: "list", cst.SetComp: "set", cst.DictComp: "dict"}
STAR_KINDS = {cst.List: "list", cst.Tuple: "tuple", cst.Set: "set"}


@dataclass(frozen=True)
class Materialization:
    shape: Shape
    event: Event
    # What keeps the elements: the comprehension, the call, the literal, the
    # target, the loop, the helper call.
    node: cst.CSTNode
    # From the source of the stream to where the elements are kept.
    flow: tuple[Step, ...]
    # "list", "set", "dict" (comprehension); "list", "sorted", ... (call);
    # "star-unpacking into a list" (literal); the starred name (target).
    what: str = ""
    # LOOP: the containers and the keep site.
    drain: Drain | None = None
    # HELPER: the function called, and the parameter the stream binds to.
    helper: Resolved | None = None
    param: cst.Param | None = None
    # LOOP over `L = list(s)` whose only use is this loop: the copy is one more
    # step of the same keeping, reported (and fixed) with the loop.
    copy: Copy | None = None


@dataclass(frozen=True)
class Copy:
    """`name = list(source)`, a copy of the stream that one loop reads."""

    statement: cst.SimpleStatementLine
    call: cst.Call
    name: str
    source: cst.BaseExpression


def materialization(event: Event, view: ModuleView) -> Materialization | None:
    """How `event` keeps every element of its stream, or None when it does not
    (computed once per event: several rules ask)."""
    memo = view.memo(materialization)
    found = memo.get(id(event))
    if found is None or found[0] is not event:
        found = memo[id(event)] = (event, _materialization(event, view))
    return found[1]


def _materialization(event: Event, view: ModuleView) -> Materialization | None:
    kind = event.kind
    if kind is EventKind.COMPREHENSION:
        return _comprehension(event, view)
    if kind in (EventKind.COLLECTION_CALL, EventKind.STAR_UNPACK):
        return _collection(event, view)
    if kind is EventKind.FOR_LOOP:
        return _loop(event, view)
    if kind is EventKind.CALL_ARG:
        return _helper(event, view)
    return None


def _comprehension(event: Event, view: ModuleView) -> Materialization | None:
    if event.value.kind is not ValueKind.STREAM:
        return None  # iterating an existing list keeps nothing new alive
    what = COMPREHENSION_KINDS[type(event.node)]
    step = view.step(event.node, f"materialized by a {what} comprehension")
    return Materialization(Shape.COMPREHENSION, event, event.node, (*event.value.steps, step), what)


def _collection(event: Event, view: ModuleView) -> Materialization | None:
    if event.value.kind is not ValueKind.STREAM:
        return None  # copying a container that already exists keeps nothing new
    node = event.node
    if isinstance(node, cst.Call):
        what = last_part(callee_name(node))
        if what in view.shadowed_builtins or binds_name(event.function, what):
            return None  # a local `list` is not the builtin
        flow = (*event.value.steps, view.step(node, f"materialized by {what}()"))
        return Materialization(Shape.COLLECTION, event, node, flow, what)
    if is_assignment_target(event):
        assert isinstance(node, (cst.List, cst.Tuple))
        star = next(el for el in node.elements if isinstance(el, cst.StarredElement))
        name = view.code(star.value)
        flow = (*event.value.steps, view.step(node, f"the rest kept in `{name}`"))
        return Materialization(Shape.STARRED_TARGET, event, node, flow, name)
    assert isinstance(node, (cst.List, cst.Tuple, cst.Set))
    if len(node.elements) != 1:
        return None  # `[*a, *b]` concatenates several operands: not a plain copy
    label = f"star-unpacking into a {STAR_KINDS[type(node)]}"
    flow = (*event.value.steps, view.step(node, f"materialized by {label}"))
    return Materialization(Shape.COLLECTION, event, node, flow, label)


def is_assignment_target(event: Event) -> bool:
    parent = event.stack[-1] if event.stack else None
    return isinstance(parent, cst.Assign) and any(t.target is event.node for t in parent.targets)


def _loop(event: Event, view: ModuleView) -> Materialization | None:
    if event.value.drained_by_helper:
        return None  # kept already, by the helper whose call is reported
    context = Context(event.function, lambda call: view.returns_scalar(call, event.cls, event.function))
    assert isinstance(event.node, cst.For)
    drain = find_drain(event.node, context)
    if drain is None or optional_remainder(drain, following_statements(event.stack)):
        return None
    kept = ", ".join(f"`{name}`" for name in drain.containers)
    flow = (*event.value.steps, view.step(drain.keep_site, f"every element kept in {kept}"))
    return Materialization(Shape.LOOP, event, event.node, flow, kept, drain=drain, copy=_copy_read_by(event))


def _copy_read_by(event: Event) -> Copy | None:
    """The `name = list(s)` whose one use is this loop's iterable."""
    loop = event.node
    value = event.value
    if value.kind is not ValueKind.MATERIALIZED or value.drained_by_helper or not value.steps:
        return None
    assert isinstance(loop, cst.For)
    call = event.value.steps[-1].node
    if not (
        isinstance(loop.iter, cst.Name)
        and isinstance(call, cst.Call)
        and isinstance(call.func, cst.Name)
        and call.func.value in ("list", "tuple")
        and len(call.args) == 1
        and not call.args[0].keyword
        and not call.args[0].star
    ):
        return None
    stack = stack_of(call, event.function)
    if stack is None or len(stack) < 3:
        return None
    assign, statement = stack[-2], stack[-3]
    if not (
        isinstance(assign, cst.Assign)
        and isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and len(assign.targets) == 1
        and isinstance(assign.targets[0].target, cst.Name)
        and assign.targets[0].target.value == loop.iter.value
    ):
        return None
    uses = uses_after(loop.iter.value, statement, stack)
    if len(uses) != 1 or uses[0].node is not loop.iter:
        return None
    return Copy(statement, call, loop.iter.value, call.args[0].value)


def _helper(event: Event, view: ModuleView) -> Materialization | None:
    value = event.value
    if value.kind is ValueKind.MATERIALIZED and not value.drained_by_helper:
        return None  # a list built in plain sight is reported where it is built
    call = event.node
    assert isinstance(call, cst.Call)
    arg = next(a for a in call.args if a.value is event.operand)
    helper_flow = view.drains(call, event.cls, arg)
    if helper_flow is None:
        return None
    resolved = view.resolve_call(call, event.cls)
    assert resolved is not None  # drains() resolved it
    if resolved.func.name.value == "load_weights":
        return None  # another entry point: its own materialization is reported where it happens
    name = callee_name(call) or view.code(call.func)
    flow = (*value.steps, view.step(call, f"passed to {name}()"), *helper_flow)
    param = param_for(resolved.func, resolved.owner is not None, call, arg)
    return Materialization(Shape.HELPER, event, call, flow, name, helper=resolved, param=param)
