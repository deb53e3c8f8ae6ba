"""## What it does
Checks weight producers (`*_weights_iterator` functions, configured producers,
`load_weights`) for `concurrent.futures.as_completed(...)` or `wait(...)` given
a *generator* of `executor.submit(...)` futures, written in place or returned
by a helper (a generator expression or a generator function yielding them, in
this module or another one of the analysed tree).  Also checks loops over a
weight stream that hand each element to `executor.submit(...)` of a
`*PoolExecutor` created outside the loop and never wait inside it: no
`.result()`, `wait`, `as_completed`, popping of futures, `acquire` or `await`,
and no other call handed the futures (a helper may wait on them).

## Why is this bad?
A generator looks lazy, but `as_completed` and `wait` start with `set(fs)`:
every shard is submitted at once.  The pool runs a few at a time, and each
finished future holds its loaded shard until the consumer reaches it, so a
consumer slower than the readers lets the whole checkpoint pile up in host RAM.
A loop that submits every element of a stream without waiting does the same
from the other side: each queued task holds its tensor until a worker reaches
it, and the executor's queue has no bound.

## Example
```python
def multi_thread_weights_iterator(files):
    with ThreadPoolExecutor(max_workers=4) as executor:
        futures = (executor.submit(load_file, f) for f in files)
        for future in concurrent.futures.as_completed(futures):
            yield from future.result().items()
```

## Use instead
```python
def multi_thread_weights_iterator(files):
    with ThreadPoolExecutor(max_workers=4) as executor:
        pending = collections.deque()
        for f in files:
            pending.append(executor.submit(load_file, f))
            if len(pending) >= 4:
                yield from pending.popleft().result().items()
        while pending:
            yield from pending.popleft().result().items()
```

## Fix safety
No fix: bounding the read-ahead changes the order results arrive in.
"""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from eagerlint.cst_util import (
    callee_name,
    dotted_name,
    last_part,
    names_in,
    root_name,
    target_names,
    tensor_names,
)
from eagerlint.drain import LOGGING_ROOTS
from eagerlint.flow import Event, EventKind, ModuleView, Step, ValueKind
from eagerlint.rules.base import Match
from eagerlint.rules.futures import Located, bindings, event_at, futures_from_helper, in_scope, is_submit
from eagerlint.scan import Block
from eagerlint.walk import descendants, runs_with

CODE = "EL006"
NAME = "futures-unbounded-submit"
MATERIALIZES = False
SETTERS = frozenset({"as_completed", "wait"})
UNIT_TRIGGERS = ("as_completed", "wait(")  # every match passes futures to one of SETTERS


WAITS = frozenset(
    {"result", "wait", "as_completed", "pop", "popleft", "join", "shutdown", "acquire", "exception"}
)
KEEPERS = frozenset({"append", "appendleft", "add", "put"})


def check(event: Event, view: ModuleView) -> Iterator[Match]:
    """`for name, w in weights: executor.submit(load, w)` with nothing waiting.

    Only for an executor created outside the loop (`with ThreadPoolExecutor() as
    ex:` around it, or `ex = ThreadPoolExecutor()` before it), and only when
    nothing in the loop could wait: no waiting call, no `await`, and no call other
    than the submit itself that is handed the futures (a helper may wait on them).
    """
    if event.kind is not EventKind.FOR_LOOP or event.value.kind is not ValueKind.STREAM:
        return
    loop = event.node
    assert isinstance(loop, cst.For)
    elements = tensor_names(loop.target)
    body = list(runs_with(loop.body))
    if any(isinstance(n, cst.Await) for n in body):
        return
    calls = [n for n in body if isinstance(n, cst.Call)]
    if any(last_part(callee_name(c)) in WAITS for c in calls):
        return
    submits = [
        (c, c.func.value)
        for c in calls
        if is_submit(c)
        and isinstance(c.func, cst.Attribute)
        and any(names_in(a.value) & elements for a in c.args)
    ]
    if not submits:
        return  # most loops: no need to look for executors in the whole function
    executors = _executors_outside(event.function, {id(n) for n in body})
    for call, receiver in submits:
        if root_name(receiver) not in executors:
            continue
        holders = _holders(call, body)
        others = [c for c in calls if c is not call and not _stores(c, holders) and not _idle(c)]
        if any(_mentions(c, holders) for c in others):
            return  # the futures reach another call, which may wait on them
        yield Match(
            CODE,
            NAME,
            "`submit()` in the loop over the weight stream queues every element: nothing in the "
            "loop waits, so read-ahead is unbounded",
            call,
            event,
            (*event.value.steps, view.step(call, "each element queued in the executor")),
            no_fix_reason="bound the number of futures in flight",
        )
        return


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


def check_unit(func: cst.FunctionDef, owner: Block | None, view: ModuleView) -> Iterator[Match]:
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
        if found is None:
            continue
        source, helper = found
        what = last_part(callee_name(node))
        yield Match(
            CODE,
            NAME,
            f"`{what}()` turns the generator of futures into a set: every shard is submitted at once "
            "and read-ahead is unbounded",
            node,
            event_at(node, stack, func, owner),
            (
                *helper,
                view.step(source, "futures created lazily here"),
                view.step(node, f"all submitted by {what}()"),
            ),
            no_fix_reason="bound the number of futures in flight",
        )


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
