"""## What it does
Checks weight producers for a list of `executor.submit(...)` futures that is
iterated to hand out results while the list itself lives on: every future,
and the loaded shard it holds, stays referenced until the loop ends.  The list
may be built in place or returned by a helper (a list comprehension, or a list
it appends to, in this module or another one of the analysed tree).

## Why is this bad?
Yielding a shard's tensors does not free the shard while the futures list
still points at its future.  By the end of the loop every shard of the
checkpoint has been resident at once.

## Example
```python
def multi_thread_pt_weights_iterator(files):
    with ThreadPoolExecutor(max_workers=4) as executor:
        futures = [executor.submit(torch.load, f) for f in files]
        for future in concurrent.futures.as_completed(futures):
            yield from future.result().items()
```

## Use instead
```python
def multi_thread_pt_weights_iterator(files):
    with ThreadPoolExecutor(max_workers=4) as executor:
        futures = {executor.submit(torch.load, f) for f in files}
        for future in concurrent.futures.as_completed(futures):
            futures.discard(future)
            yield from future.result().items()
```

## Fix safety
No fix: where to release each future is a design decision.
"""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from eagerlint.cst_util import root_name
from eagerlint.flow import Event, ModuleView, Step
from eagerlint.rules.base import Match
from eagerlint.rules.futures import (
    Located,
    event_at,
    futures_from_helper,
    in_scope,
    is_submit,
    mentions,
    submits_appended_to,
)
from eagerlint.scan import Block
from eagerlint.walk import descendants

CODE = "EL007"
NAME = "futures-result-buffer"
MATERIALIZES = False
UNIT_TRIGGERS = (".result(",)  # every match hands out `future.result()` in a loop
RELEASES = frozenset({"remove", "discard", "pop", "popleft", "clear"})


def check(event: Event, view: ModuleView) -> Iterator[Match]:
    return iter(())


def check_unit(func: cst.FunctionDef, owner: Block | None, view: ModuleView) -> Iterator[Match]:
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
            yield Match(
                CODE,
                NAME,
                f"`{name}` keeps every future, and the shard it loaded, alive until the loop ends",
                created,
                event_at(created, stack, func, owner),
                (
                    *helper,
                    view.step(created, "futures kept in a list"),
                    view.step(loop, "results handed out here"),
                ),
                no_fix_reason="drop each future once its result is taken",
            )
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
