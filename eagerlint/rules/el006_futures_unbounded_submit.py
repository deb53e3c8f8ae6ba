"""## What it does
Checks weight producers (`*_weights_iterator` functions, configured producers,
`load_weights`) for `concurrent.futures.as_completed(...)` or `wait(...)` given
a *generator* of `executor.submit(...)` futures.

## Why is this bad?
A generator looks lazy, but `as_completed` and `wait` start with `set(fs)`:
every shard is submitted at once.  The pool runs a few at a time, and each
finished future holds its loaded shard until the consumer reaches it, so a
consumer slower than the readers lets the whole checkpoint pile up in host RAM.

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

from eagerlint.cst_util import callee_name, last_part
from eagerlint.flow import Event, ModuleView
from eagerlint.rules.base import Match
from eagerlint.rules.futures import Located, event_at, genexp_bindings, in_scope, is_submit

CODE = "EL006"
NAME = "futures-unbounded-submit"
MATERIALIZES = False
UNIT_TRIGGER = ".submit("  # every match involves `executor.submit(...)`
SETTERS = frozenset({"as_completed", "wait"})


def check(event: Event, view: ModuleView) -> Iterator[Match]:
    return iter(())


def check_unit(func: cst.FunctionDef, view: ModuleView) -> Iterator[Match]:
    if not in_scope(func, view):
        return
    located = Located(func)
    generators = genexp_bindings(located)
    for node, stack in located.nodes(cst.Call):
        assert isinstance(node, cst.Call)
        if last_part(callee_name(node)) not in SETTERS or not node.args:
            continue
        arg = node.args[0].value
        if isinstance(arg, cst.GeneratorExp) and is_submit(arg.elt):
            source: cst.CSTNode = arg
        elif isinstance(arg, cst.Name) and arg.value in generators:
            source = generators[arg.value]
        else:
            continue
        what = last_part(callee_name(node))
        yield Match(
            CODE,
            NAME,
            f"`{what}()` turns the generator of futures into a set: every shard is submitted at once "
            "and read-ahead is unbounded",
            node,
            event_at(node, stack, func),
            (view.step(source, "futures created lazily here"), view.step(node, f"all submitted by {what}()")),
            no_fix_reason="bound the number of futures in flight",
        )
