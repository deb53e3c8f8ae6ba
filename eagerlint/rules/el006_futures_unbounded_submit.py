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
        futures = (executor.submit(torch.load, f) for f in files)
        for future in concurrent.futures.as_completed(futures):
            yield from future.result().items()
```

## Use instead
```python
def multi_thread_weights_iterator(files):
    with ThreadPoolExecutor(max_workers=4) as executor:
        pending = collections.deque()
        for f in files:
            pending.append(executor.submit(torch.load, f))
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
from typing import TYPE_CHECKING

import libcst as cst

from eagerlint.analysis import futures
from eagerlint.analysis.flow import Event, Where
from eagerlint.outline import Block
from eagerlint.rules.base import Match, Rule

if TYPE_CHECKING:
    from eagerlint.analysis.module import ModuleView

NO_FIX = "bound the number of futures in flight"


def check(event: Event, view: ModuleView) -> Iterator[Match]:
    submit = futures.unbounded_submit(event)
    if submit is None:
        return
    yield Match(
        "`submit()` in the loop over the weight stream queues every element, and nothing in the loop waits",
        submit,
        event.where,
        (*event.value.steps, view.step(submit, "each element queued in the executor")),
        no_fix_reason=NO_FIX,
    )


def check_unit(func: cst.FunctionDef, owner: Block | None, view: ModuleView) -> Iterator[Match]:
    for found in futures.lazy_submit_sets(func, owner, view):
        yield Match(
            f"`{found.what}()` turns the generator of futures into a set, submitting every shard at once",
            found.setter,
            Where(found.stack, func, owner),
            (
                *found.helper,
                view.step(found.source, "futures created lazily here"),
                view.step(found.setter, f"all submitted by {found.what}()"),
            ),
            no_fix_reason=NO_FIX,
        )


RULE = Rule(
    "EL006",
    "futures-unbounded-submit",
    __doc__ or "",
    "read-ahead is unbounded, up to the whole checkpoint in host RAM",
    on_event=check,
    on_unit=check_unit,
    # Every unit match passes futures to `as_completed` or `wait`.
    unit_triggers=("as_completed", "wait("),
)
