"""## What it does
Checks for list, set and dict comprehensions whose outermost `for` iterates a
weight stream: the `weights` argument of `load_weights`, a parameter annotated
`Iterable[tuple[str, torch.Tensor]]`, a `*_weights_iterator(...)` call, or a
lazy view of one of those.

## Why is this bad?
The comprehension pulls every tensor out of the stream before the first one is
loaded.  With a loader that hands out private copies (vLLM's `runai_streamer`
clones each tensor), the whole checkpoint is resident in host RAM at once: peak
memory grows by the checkpoint size, once per tensor-parallel worker.  vLLM
0.23.0's `Llama4ForCausalLM.load_weights`, fed a 2,049 MiB checkpoint by the
runai streamer (limit 0, glibc's mmap threshold pinned), held 2,050 MiB of
transient host memory, against 65 MiB as a generator expression
(`bench/llama4_memory/results-pinned.md`).

## Example
```python
def load_weights(self, weights):
    loader = AutoWeightsLoader(self)
    weights = [self.permute(name, w) for name, w in weights]
    return loader.load_weights(weights)
```

## Use instead
```python
def load_weights(self, weights):
    loader = AutoWeightsLoader(self)
    weights = (self.permute(name, w) for name, w in weights)
    return loader.load_weights(weights)
```

## Fix safety
The brackets become parentheses.  The fix is safe when the list is consumed
exactly once, in order, by an iterating consumer (a `for` loop, a
comprehension, `yield from`, any `*.load_weights(x)`, a function of the tree
whose parameter is annotated `Iterable`/`Iterator` or that reads it once, in
order, to the end, or a configured lazy consumer) with nothing but inert code
in between (literals, builtin constructors, `dict(self.named_parameters())`,
logging, `AutoWeightsLoader(...)`).  It is unsafe when the consumer is unknown,
other code runs in between, or the consuming loop changes what each element is
computed from.  There is no fix when the list is used twice, measured with
`len()`, indexed, tested for truth or membership, sorted, returned or stored;
when each element holds a closure over the loop variable; when what the
elements read changes before the consumer runs; when the consumer reads the
stream itself, or may stop early while the stream is used after it (also a
`*.load_weights` of the tree whose body reads its parameter twice, or may stop
before the end); and none for set and dict comprehensions, whose deduplication
a generator would not keep.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import libcst as cst

from eagerlint.analysis.flow import Event
from eagerlint.analysis.materialize import Shape, materialization
from eagerlint.rewrites import genexp
from eagerlint.rules.base import Match, Rule

if TYPE_CHECKING:
    from eagerlint.analysis.module import ModuleView

NO_FIX = {
    "set": "a set deduplicates; a generator would not",
    "dict": "a dict gives keyed access; a generator would not",
}


def check(event: Event, view: ModuleView) -> Iterator[Match]:
    found = materialization(event, view)
    if found is None or found.shape is not Shape.COMPREHENSION:
        return
    message = f"{found.what.capitalize()} comprehension materializes the whole weight stream"
    if not isinstance(found.node, cst.ListComp):
        yield Match(message, found.node, event.where, found.flow, no_fix_reason=NO_FIX[found.what])
        return
    yield Match(message, found.node, event.where, found.flow, fix=genexp.plan(found.node, event.stack, view))


COST = "the whole checkpoint sits in host RAM at once, once per tensor-parallel worker"
RULE = Rule("EL001", "weights-comprehension", __doc__ or "", COST, on_event=check)
