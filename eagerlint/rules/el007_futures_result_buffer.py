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
from typing import TYPE_CHECKING

import libcst as cst

from eagerlint.analysis import futures
from eagerlint.analysis.flow import Where
from eagerlint.outline import Block
from eagerlint.rules.base import Match, Rule

if TYPE_CHECKING:
    from eagerlint.analysis.module import ModuleView


def check_unit(func: cst.FunctionDef, owner: Block | None, view: ModuleView) -> Iterator[Match]:
    for found in futures.result_buffers(func, owner, view):
        yield Match(
            f"`{found.name}` keeps every future, and the shard it loaded, alive until the loop ends",
            found.created,
            Where(found.stack, func, owner),
            (
                *found.helper,
                view.step(found.created, "futures kept in a list"),
                view.step(found.loop, "results handed out here"),
            ),
            no_fix_reason="drop each future once its result is taken",
        )


RULE = Rule(
    "EL007",
    "futures-result-buffer",
    __doc__ or "",
    "every loaded shard stays in host RAM meanwhile, up to the whole checkpoint",
    on_unit=check_unit,
    # Every match hands out `future.result()` in a loop.
    unit_triggers=(".result(",),
)
