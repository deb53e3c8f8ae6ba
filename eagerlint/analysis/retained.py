"""The one answer to "is an element kept past the next `next()` without a copy?".

A loader that hands out views of a buffer it reuses (the runai streamer before
vLLM PR 43464, SGLang's, other fast loaders) overwrites each tensor when the
next one is asked for.  Whatever keeps a view of an element past its own
iteration then loads garbage: a loop that stores it (`keeps.find_retained`,
also a small bounded subset, a pending pair, a batch emptied later, in a loop
that yields the rest), a comprehension or `list()`/`dict()` of the stream.
What is loaded in place, yielded onward, or kept as an owning copy
(`views.holds_view`) is fine.

Streams count when the loader is the caller's choice (a parameter: a
`load_weights`, a helper, an annotated or iterated `weights`) or a call of a
configured buffer-reusing loader; a call of any other producer hands out the
tensors it makes, and is not followed.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from eagerlint.analysis import consume, streams
from eagerlint.analysis.cst_util import callee_name, target_names, tensor_names
from eagerlint.analysis.flow import Event, EventKind, Step, ValueKind
from eagerlint.analysis.keeps import Retention, find_retained
from eagerlint.analysis.materialize import loop_context
from eagerlint.analysis.uses import uses_after
from eagerlint.analysis.views import HelperReturns, Returns, holds_view, returns_of
from eagerlint.analysis.walk import enclosing_blocks, runs_with
from eagerlint.outline import Block

if TYPE_CHECKING:
    from eagerlint.analysis.module import ModuleView


class Kind(enum.Enum):
    LOOP = "loop"  # a statement in a loop body keeps an element
    WHOLE = "whole"  # a comprehension or collection call keeps every element
    TEE = "tee"  # a tee buffers every element for a branch read later


@dataclass(frozen=True)
class RetainedView:
    kind: Kind
    event: Event  # where the stream is read
    node: cst.CSTNode  # the keeping statement, comprehension or call
    holder: str  # what keeps it, for the message (TEE: where the sibling is read)
    flow: tuple[Step, ...]


def retained_views(event: Event, view: ModuleView) -> list[RetainedView]:
    """Where `event` keeps a view of an element of its stream past its iteration."""
    if event.value.kind is not ValueKind.STREAM or not reuses_buffers(event, view):
        return []
    helpers = helper_returns(view, event.cls)
    if event.kind is EventKind.FOR_LOOP:
        assert isinstance(event.node, cst.For)
        loop = event.node
        retention = Retention(helpers, lambda name: _carried(name, loop, event))
        context = loop_context(event, view)
        found = []
        holders: set[str] = set()
        for kept in find_retained(loop, retention, context):
            if kept.holder in holders:
                continue  # one finding per holder and loop: its first keep
            holders.add(kept.holder)
            step = view.step(kept.site, f"a view of the element kept in {kept.holder} without a copy")
            found.append(RetainedView(Kind.LOOP, event, kept.site, kept.holder, (*event.value.steps, step)))
        return found
    whole = _whole(event, helpers)
    if whole is None:
        return []
    step = view.step(event.node, f"every element kept by {whole} without a copy")
    return [RetainedView(Kind.WHOLE, event, event.node, whole, (*event.value.steps, step))]


def retained_by_tee(events: list[Event], view: ModuleView) -> list[RetainedView]:
    """A tee of the stream whose first branch is read to the end before a sibling
    starts: the sibling reads every element from the tee's buffer, after the loader
    moved on (`consume.tee_drains`)."""
    found = []
    for drain in consume.tee_drains(events, view):
        first, sibling = drain.first, drain.sibling
        if not reuses_buffers(first, view):
            continue
        row = view.position(sibling.node).row
        steps = (
            view.step(first.node, "this branch is read to the end"),
            view.step(sibling.node, "before its sibling reads the tee's buffer"),
        )
        node = first.node.iter if isinstance(first.node, cst.For) else first.node
        found.append(RetainedView(Kind.TEE, first, node, f"line {row}", (*first.value.steps, *steps)))
    return found


def reuses_buffers(event: Event, view: ModuleView) -> bool:
    """Whether the stream's tensors may be views of a buffer its loader reuses."""
    origin = event.value.steps[0].node if event.value.steps else None
    if isinstance(origin, cst.Call) and streams.is_producer_call(origin, view.options):
        return streams.is_buffer_reusing_call(origin, view.options)
    return True


def _whole(event: Event, helpers: HelperReturns) -> str | None:
    node = event.node
    if event.kind is EventKind.COMPREHENSION:
        assert isinstance(node, (cst.ListComp, cst.SetComp, cst.DictComp))
        elements = tensor_names(node.for_in.target)
        parts = [node.key, node.value] if isinstance(node, cst.DictComp) else [node.elt]
        if not any(holds_view(p, elements, helpers) for p in parts):
            return None
        return f"a {type(node).__name__.removesuffix('Comp').lower()} comprehension"
    if event.kind is EventKind.COLLECTION_CALL:
        assert isinstance(node, cst.Call)
        operand = event.operand
        if isinstance(operand, cst.GeneratorExp):
            elements = tensor_names(operand.for_in.target)
            if not holds_view(operand.elt, elements, helpers):
                return None  # `dict((n, w.clone()) for n, w in weights)`
        return f"{callee_name(node)}()"
    if event.kind is EventKind.STAR_UNPACK:
        return "star-unpacking"
    return None


def _carried(name: str, loop: cst.For, event: Event) -> bool:
    """A local the loop body binds that outlives the iteration: read after the loop,
    or set to `None` before it (`pending = None`), the spelling of carried state.
    (A container the body binds anew, `batch = []` after a flush, is asked too.)"""
    if uses_after(name, loop, event.stack):
        return True
    for body, index in enclosing_blocks(event.stack):
        for stmt in body[:index]:
            for node in runs_with(stmt):
                if (
                    isinstance(node, cst.Assign)
                    and isinstance(node.value, cst.Name)
                    and node.value.value == "None"
                    and any(name in set(target_names(t.target)) for t in node.targets)
                ):
                    return True
    return False


def helper_returns(view: ModuleView, cls: Block | None, depth: int = 0) -> HelperReturns:
    """What the function of the tree that a call reaches returns of an argument."""

    def ask(call: cst.Call, arg: cst.Arg) -> Returns | None:
        if depth > 3:
            return None
        found_param = view.param_of(call, cls, arg)
        if found_param is None:
            return None
        (func, owner, home, _), param = found_param
        memo = home.memo(returns_of)
        found = memo.get(id(param))
        if found is None or found[0] is not param:
            memo[id(param)] = (param, Returns.OTHER)  # a recursive call proves nothing
            found = memo[id(param)] = (
                param,
                returns_of(func, param.name.value, helper_returns(home, owner, depth + 1)),
            )
        result: Returns = found[1]
        return result

    return ask
