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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from eagerlint.analysis import streams
from eagerlint.analysis.cst_util import binds_name, callee_name, last_part, names_in, tensor_names
from eagerlint.analysis.flow import Event, EventKind, Step, ValueKind
from eagerlint.analysis.keeps import (
    Context,
    Drain,
    container_labels,
    container_of,
    find_drain,
    find_keeps,
    following_statements,
    holds_nothing_of,
    optional_remainder,
)
from eagerlint.analysis.resolve import Resolved
from eagerlint.analysis.uses import stack_of, uses_after
from eagerlint.analysis.walk import ancestors_to

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
    # HELPER: False when the callee was found among the classes an attribute may
    # hold (`self.model.load_weights`), so the call may reach another method.
    helper_certain: bool = True
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
    assert isinstance(event.node, (cst.ListComp, cst.SetComp, cst.DictComp))
    if not _keeps_tensors(event.node):
        return None  # `[name for name, _ in weights]`: the names, not the tensors
    what = COMPREHENSION_KINDS[type(event.node)]
    step = view.step(event.node, f"materialized by a {what} comprehension")
    return Materialization(Shape.COMPREHENSION, event, event.node, (*event.value.steps, step), what)


def _keeps_tensors(comp: cst.ListComp | cst.SetComp | cst.DictComp) -> bool:
    """Whether each item holds a tensor slot of the `(name, tensor)` element (not only
    its name, or a number computed from the tensor: `w.shape`, `w.numel()`)."""
    tensors = tensor_names(comp.for_in.target)
    if not tensors:
        # `for name, _ in weights`: every tensor slot is thrown away.
        return not isinstance(comp.for_in.target, (cst.Tuple, cst.List))
    parts = [comp.key, comp.value] if isinstance(comp, cst.DictComp) else [comp.elt]
    return any(_holds(part, tensors) for part in parts)


def _holds(node: cst.BaseExpression, tensors: set[str]) -> bool:
    if isinstance(node, (cst.Tuple, cst.List)):
        return any(_holds(el.value, tensors) for el in node.elements)
    return bool(names_in(node) & tensors) and not holds_nothing_of(node)


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
    context = loop_context(event, view)
    assert isinstance(event.node, cst.For)
    drain = find_drain(event.node, context)
    if drain is None:
        drain = _kept_for_a_loader(event, context, view)
        if drain is None:
            return None
    elif optional_remainder(drain, following_statements(event.stack)):
        return None
    kept = ", ".join(f"`{name}`" for name in container_labels(drain))
    flow = (*event.value.steps, view.step(drain.keep_site, f"every element kept in {kept}"))
    return Materialization(Shape.LOOP, event, event.node, flow, kept, drain=drain, copy=_copy_read_by(event))


def loop_context(event: Event, view: ModuleView) -> Context:
    """What the function around a loop event says about its names and calls."""
    return Context(
        event.function, lambda call: view.returns_scalar(call, event.cls, event.function), event.stack
    )


def _kept_for_a_loader(event: Event, context: Context, view: ModuleView) -> Drain | None:
    """A loop that keeps some of its elements (under a test) in a container it later
    hands to a loader: a sub-model's whole checkpoint, buffered (`backbone.append(...)`
    under `if name.startswith("language_model.")`, then `self.model.load_weights(backbone)`)."""
    assert isinstance(event.node, cst.For)
    keeps = find_keeps(event.node, context)
    if keeps is None:
        return None
    bound = tuple(c for c in keeps.containers if loader_bound(c, event.node, event.stack, view))
    if not bound:
        return None
    site = next(k for p in keeps.paths for k in p.keeps if container_of(k) in bound)
    return Drain(bound, site, keeps.paths)


def loader_bound(
    name: str, after: cst.CSTNode, stack: Sequence[cst.CSTNode], view: ModuleView, depth: int = 0
) -> bool:
    """Whether the elements of container `name` reach a loader after `after`: handed
    to one (also through `iter()` or `chain()`, and a dict through `.items()`) or to a
    `load_state_dict` (which needs them all at once), or copied wholesale by a loop or
    an unfiltered comprehension whose result is."""
    for use in uses_after(name, after, stack):
        node, at = _seen_as(use.node, use.stack)
        parent, grand = at[-2], at[-3] if len(at) >= 3 else None
        if isinstance(parent, cst.Arg) and isinstance(grand, cst.Call):
            if (
                streams.is_lazy_consumer(grand, view.options)
                or last_part(callee_name(grand)) == "load_state_dict"
            ):
                return True
            if _passes_lazily(grand) and _lazily_consumed(at[:-2], view):
                return True
            continue
        if depth >= 2:
            continue
        if isinstance(parent, cst.For) and parent.iter is node:
            drain = find_drain(parent)
            loop_stack = ancestors_to(at, parent)
            if drain is not None and any(
                loader_bound(c, parent, loop_stack, view, depth + 1) for c in drain.containers
            ):
                return True
        elif isinstance(parent, cst.CompFor) and parent.iter is node and not parent.ifs:
            bound = _assigned_name(at)
            if bound is not None and loader_bound(bound[0], bound[1], at, view, depth + 1):
                return True
    return False


# A dict's views that hand on every entry (`items`) or every value, as the dict would.
_WHOLE_VIEWS = frozenset({"items", "values"})


def _seen_as(node: cst.CSTNode, stack: Sequence[cst.CSTNode]) -> tuple[cst.CSTNode, Sequence[cst.CSTNode]]:
    """A use of a container, as what reads it: `kept.items()` (the call and its
    ancestors) for a use that is that call's receiver, else the use itself."""
    if len(stack) >= 3:
        attribute, call = stack[-2], stack[-3]
        if (
            type(attribute) is cst.Attribute
            and attribute.value is node
            and attribute.attr.value in _WHOLE_VIEWS
            and type(call) is cst.Call
            and call.func is attribute
            and not call.args
        ):
            return call, stack[:-2]
    return node, stack


def _passes_lazily(call: cst.Call) -> bool:
    """`iter(x)`, `itertools.chain(x, ...)`: a lazy view handed on."""
    return last_part(callee_name(call)) in ("iter", "chain")


def _lazily_consumed(stack: Sequence[cst.CSTNode], view: ModuleView) -> bool:
    """Whether the call on top of `stack` is itself an argument of a lazy consumer."""
    parent, grand = stack[-2] if len(stack) >= 2 else None, stack[-3] if len(stack) >= 3 else None
    return (
        isinstance(parent, cst.Arg)
        and isinstance(grand, cst.Call)
        and streams.is_lazy_consumer(grand, view.options)
    )


def _assigned_name(stack: Sequence[cst.CSTNode]) -> tuple[str, cst.CSTNode] | None:
    """`x` and its statement, for a comprehension in `x = [...]`."""
    for i in range(len(stack) - 1, 0, -1):
        node = stack[i]
        if isinstance(node, cst.SimpleStatementLine):
            small = node.body[0] if len(node.body) == 1 else None
            if isinstance(small, cst.Assign) and len(small.targets) == 1:
                target = small.targets[0].target
                if isinstance(target, cst.Name):
                    return target.value, node
            return None
    return None


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
    found = view.draining_helper(call, event.cls, arg)
    if found is None:
        return None
    resolved, param, helper_flow, certain = found
    name = callee_name(call) or view.code(call.func)
    flow = (*value.steps, view.step(call, f"passed to {name}()"), *helper_flow)
    return Materialization(
        Shape.HELPER, event, call, flow, name, helper=resolved, param=param, helper_certain=certain
    )
