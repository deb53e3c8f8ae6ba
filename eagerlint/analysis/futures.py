"""`concurrent.futures` in weight producers: submits nobody waits for, sets of
lazily created futures, lists of futures that outlive their results.

Producers of weight streams (`*_weights_iterator` functions, configured
producers, `load_weights`) read shards in a thread pool.  These matchers read
syntax in the function body, not stream flow, and follow a call one level into
the helper (in this module or another one of the analysed tree) that creates
the futures.  EL006 and EL007 word what they find.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from eagerlint.analysis.cst_util import (
    callee_name,
    dotted_name,
    last_part,
    names_in,
    root_name,
    target_names,
    tensor_names,
)
from eagerlint.analysis.flow import Event, EventKind, Step, ValueKind
from eagerlint.analysis.keeps import LOGGING_ROOTS
from eagerlint.analysis.sources import LOAD_WEIGHTS, PRODUCER_SUFFIXES
from eagerlint.analysis.walk import StackVisitor, descendants, runs_with
from eagerlint.outline import Block

if TYPE_CHECKING:
    from eagerlint.analysis.module import ModuleView


def in_scope(func: cst.FunctionDef, view: ModuleView) -> bool:
    name = func.name.value
    producers = {p.rsplit(".", 1)[-1] for p in view.options.stream_producers}
    return name.endswith(PRODUCER_SUFFIXES) or name in producers or name == LOAD_WEIGHTS.word


def is_submit(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Call) and last_part(callee_name(node)) == "submit"


class Located(StackVisitor):
    """Every node of a function with its ancestors, for rules that match syntax."""

    def __init__(self, func: cst.FunctionDef) -> None:
        self.stack: list[cst.CSTNode] = [func]
        self.found: list[tuple[cst.CSTNode, tuple[cst.CSTNode, ...]]] = []
        self.walk(func.body)

    def on_visit(self, node: cst.CSTNode) -> bool:
        go_on = super().on_visit(node)
        self.found.append((node, tuple(self.stack)))
        return go_on

    def nodes(self, kind: type[cst.CSTNode]) -> Iterator[tuple[cst.CSTNode, tuple[cst.CSTNode, ...]]]:
        return ((n, s) for n, s in self.found if isinstance(n, kind))


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


SETTERS = frozenset({"as_completed", "wait"})
WAITS = frozenset(
    {"result", "wait", "as_completed", "pop", "popleft", "join", "shutdown", "acquire", "exception"}
)
KEEPERS = frozenset({"append", "appendleft", "add", "put"})


def unbounded_submit(event: Event) -> cst.Call | None:
    """`for name, w in weights: executor.submit(load, w)` with nothing waiting: the submit.

    Only for an executor created outside the loop (`with ThreadPoolExecutor() as
    ex:` around it, or `ex = ThreadPoolExecutor()` before it), and only when
    nothing in the loop could wait: no waiting call, no `await`, and no call other
    than the submit itself that is handed the futures (a helper may wait on them).
    """
    if event.kind is not EventKind.FOR_LOOP or event.value.kind is not ValueKind.STREAM:
        return None
    loop = event.node
    assert isinstance(loop, cst.For)
    elements = tensor_names(loop.target)
    body = list(runs_with(loop.body))
    # Concrete classes, tested by type (see `walk.SCOPE_TYPES`).
    if any(type(n) is cst.Await for n in body):
        return None
    calls = [n for n in body if type(n) is cst.Call]
    if any(last_part(callee_name(c)) in WAITS for c in calls):
        return None
    submits = [
        (c, c.func.value)
        for c in calls
        if is_submit(c)
        and isinstance(c.func, cst.Attribute)
        and any(names_in(a.value) & elements for a in c.args)
    ]
    if not submits:
        return None  # most loops: no need to look for executors in the whole function
    executors = _executors_outside(event.function, {id(n) for n in body})
    for call, receiver in submits:
        if root_name(receiver) not in executors:
            continue
        holders = _holders(call, body)
        others = [c for c in calls if c is not call and not _stores(c, holders) and not _idle(c)]
        if any(_mentions(c, holders) for c in others):
            return None  # the futures reach another call, which may wait on them
        return call
    return None


def _executors_outside(func: cst.FunctionDef, inside: set[int]) -> set[str]:
    """Names bound to a `*PoolExecutor(...)` in `func`, outside the loop."""
    found: set[str] = set()
    for node in runs_with(func.body):
        if id(node) in inside:
            continue
        if isinstance(node, cst.WithItem) and node.asname is not None:
            if _is_executor(node.item):
                found.update(target_names(node.asname.name))
        elif isinstance(node, cst.Assign) and _is_executor(node.value):
            for t in node.targets:
                found.update(target_names(t.target))
    return found


EXECUTORS = frozenset({"ThreadPoolExecutor", "ProcessPoolExecutor"})


def _is_executor(node: cst.BaseExpression) -> bool:
    """The standard library's executors: their queue has no bound (a bounded
    executor class of a project's own may block in `submit`)."""
    return isinstance(node, cst.Call) and last_part(callee_name(node)) in EXECUTORS


def _holders(submit: cst.Call, body: list[cst.CSTNode]) -> set[str]:
    """Where the submit's future is kept, as dotted names: `futures` for
    `futures.append(ex.submit(...))`, `self.pending` for `self.pending.add(...)`,
    `f` for `f = ex.submit(...)`."""
    found: set[str] = set()
    for node in body:
        if isinstance(node, cst.Call) and _keeps(node, submit):
            holder = dotted_name(node.func.value)  # type: ignore[attr-defined]
            if holder:
                found.add(holder)
        elif isinstance(node, cst.Assign) and node.value is submit:
            for t in node.targets:
                found.update(target_names(t.target))
    return found


def _mentions(call: cst.Call, holders: set[str]) -> bool:
    return any(
        isinstance(n, (cst.Name, cst.Attribute)) and dotted_name(n) in holders for n in descendants(call)
    )


# Calls that look at futures without waiting for them.
IDLE = frozenset({"len", "print", "add_done_callback", "done", "cancel", "cancelled", "running"})


def _idle(call: cst.Call) -> bool:
    return last_part(callee_name(call)) in IDLE or root_name(call.func) in LOGGING_ROOTS


def _stores(call: cst.Call, holders: set[str]) -> bool:
    """`futures.append(future)`, `futures.append(ex.submit(...))`: keeping a future
    is not waiting on it."""
    return (
        isinstance(call.func, cst.Attribute)
        and call.func.attr.value in KEEPERS
        and all(dotted_name(a.value) in holders or is_submit(a.value) for a in call.args)
    )


def _keeps(call: cst.Call, submit: cst.Call) -> bool:
    return (
        isinstance(call.func, cst.Attribute)
        and call.func.attr.value in KEEPERS
        and any(a.value is submit for a in call.args)
    )


@dataclass(frozen=True)
class LazySubmits:
    """`as_completed(fs)`/`wait(fs)` over a generator of submits."""

    setter: cst.Call  # the as_completed / wait call
    stack: tuple[cst.CSTNode, ...]
    source: cst.BaseExpression  # the generator (or the call that returns one)
    helper: tuple[Step, ...]  # the helper's step when a helper creates the futures
    what: str  # "as_completed" or "wait"


def lazy_submit_sets(func: cst.FunctionDef, owner: Block | None, view: ModuleView) -> Iterator[LazySubmits]:
    if not in_scope(func, view):
        return
    located = Located(func)
    assigned = bindings(located)
    for node, stack in located.nodes(cst.Call):
        assert isinstance(node, cst.Call)
        if last_part(callee_name(node)) not in SETTERS or not node.args:
            continue
        arg = node.args[0].value
        found = _submitted_lazily(
            assigned.get(arg.value, []) if isinstance(arg, cst.Name) else [arg], owner, view
        )
        if found is not None:
            yield LazySubmits(node, stack, found[0], found[1], last_part(callee_name(node)))


def _submitted_lazily(
    candidates: list[cst.BaseExpression], owner: Block | None, view: ModuleView
) -> tuple[cst.BaseExpression, tuple[Step, ...]] | None:
    """The first candidate that is a generator of `.submit(...)` futures, here or
    from a helper, with the helper's step."""
    for source in candidates:
        if isinstance(source, cst.GeneratorExp) and is_submit(source.elt):
            return source, ()
        found = futures_from_helper(source, owner, view)
        if found is not None and found[0] == "generator":
            return source, (found[1],)
    return None


RELEASES = frozenset({"remove", "discard", "pop", "popleft", "clear"})


@dataclass(frozen=True)
class ResultBuffer:
    """A list of futures iterated to hand out results while the list lives on."""

    name: str
    created: cst.CSTNode
    stack: tuple[cst.CSTNode, ...]
    helper: tuple[Step, ...]
    loop: cst.For


def result_buffers(func: cst.FunctionDef, owner: Block | None, view: ModuleView) -> Iterator[ResultBuffer]:
    if not in_scope(func, view):
        return
    located = Located(func)
    for name, created, stack, helper in _future_lists(located, owner, view):
        views = _views_of(located, name)
        for loop, _ in located.nodes(cst.For):
            assert isinstance(loop, cst.For)
            if not any(mentions(loop.iter, v) for v in views) or not _takes_results(loop):
                continue
            if _releases(loop, name):
                continue
            yield ResultBuffer(name, created, stack, helper, loop)
            break


def _future_lists(
    located: Located, owner: Block | None, view: ModuleView
) -> Iterator[tuple[str, cst.CSTNode, tuple[cst.CSTNode, ...], tuple[Step, ...]]]:
    for node, stack in located.nodes(cst.Assign):
        assert isinstance(node, cst.Assign)
        target = node.targets[0].target
        if not isinstance(target, cst.Name):
            continue
        if isinstance(node.value, cst.ListComp) and is_submit(node.value.elt):
            yield target.value, node.value, (*stack, node.value), ()
        elif isinstance(node.value, cst.Call) and _iterated(located, target.value):
            # Only a list some loop reads is worth resolving the helper for.
            found = futures_from_helper(node.value, owner, view)
            if found is not None and found[0] == "list":
                yield target.value, node.value, (*stack, node.value), (found[1],)
    for node, stack in located.nodes(cst.Call):
        name = submits_appended_to(node)
        if name is not None:
            yield name, node, stack, ()


def _iterated(located: Located, name: str) -> bool:
    views = _views_of(located, name)
    return any(
        isinstance(loop, cst.For) and any(mentions(loop.iter, v) for v in views)
        for loop, _ in located.nodes(cst.For)
    )


def _views_of(located: Located, name: str) -> set[str]:
    """`name` and the names bound to expressions over it (`it = tqdm(as_completed(futures))`)."""
    views = {name}
    assigns = [n for n, _ in located.nodes(cst.Assign)]
    for _ in range(3):
        for node in assigns:
            assert isinstance(node, cst.Assign)
            target = node.targets[0].target
            if isinstance(target, cst.Name) and any(mentions(node.value, v) for v in views):
                views.add(target.value)
    return views


def _takes_results(loop: cst.For) -> bool:
    """A `.result()` whose value is used: a bare `future.result()` statement only
    re-raises the task's exception, and hands nothing out."""
    nodes = list(descendants(loop.body))
    bare = {id(n.value) for n in nodes if isinstance(n, cst.Expr)}
    return any(
        isinstance(n, cst.Call)
        and isinstance(n.func, cst.Attribute)
        and n.func.attr.value == "result"
        and id(n) not in bare
        for n in nodes
    )


def _releases(loop: cst.For, name: str) -> bool:
    for n in descendants(loop.body):
        if isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute) and n.func.attr.value in RELEASES:
            if root_name(n.func.value) == name:
                return True
        if isinstance(n, cst.Del) and root_name(n.target) == name:
            return True
    return False
