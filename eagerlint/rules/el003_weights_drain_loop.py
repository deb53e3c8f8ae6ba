"""## What it does
Checks for `for` loops over a weight stream whose body keeps the elements in a
container that outlives the loop (`append`, `extend`, `insert`, `add`, a
subscript store), on the path that handles "the rest" of the stream: the final
`else`, or the code after every `if` that skips or diverts a subset.

A conditional subset is reported when its container is then handed to a
loader (`self.model.load_weights(backbone)`, also as `backbone.items()` of a
dict) or to a `load_state_dict`: a sub-model's whole checkpoint, buffered.
Keeping a part of the instance picked per name (`p = self.up_proj`, then
`p._pending[i] = w`) is keeping; `p[i] = w` and `p.data[i] = w` copy into a
tensor.

A subset picked by a test that names experts (`if expert_id is not None:`,
`if ".experts." in name:`) is reported too: the expert weights are most of an
MoE checkpoint.  A test that narrows them to scales, biases, norms or the
router, or to a range of expert ids (one rank's share), picks a subset.

A loop that buffers a conditional subset while the rest is yielded or loaded
in place is not reported (vLLM 0.24.0's `mllama4` generator is the model), nor
is one whose container is emptied inside the loop (bounded batching), nor one
that only keeps names.  Nor is a loop that loads elements in place and keeps
only the rest when the code loads that rest under `if rest:`: the author has
said the default path is an optional remainder (names the in-place branches
do not handle), not the bulk of the stream.  A loop that loads nothing in
place is reported however its containers are consumed.

Keeping means keeping the tensor: `loaded.add(name)`, `w.item()`, `w.shape`,
what a `load*` call returns, a future from `executor.submit(...)` (EL007 judges
futures), what a function of the analysed tree declared `-> str` (`int`, ...)
returns, and `update`/`add` on a local bound only to other objects
(`hasher = hashlib.sha256()`) keep none.

Branches on `isinstance(tensor, torch.Tensor)` (or on `dict`, `list`, ...) of
the tensor slot of `for name, tensor in weights` are decided by the stream's
element type: a loop that keeps every tensor under
`elif isinstance(value, torch.Tensor):` is reported.

## Why is this bad?
Appending every tensor to a list keeps the whole checkpoint alive until the
list is consumed.  With a loader that returns private copies, peak host memory
grows by the checkpoint size per worker, exactly as with `list(weights)`.

## Example
```python
def load_weights(self, weights):
    language_model_weights = []
    other_weights = []
    for name, weight in weights:
        if name.startswith("language_model."):
            language_model_weights.append((name, weight))
        else:
            other_weights.append((name, weight))
    self.language_model.load_weights(language_model_weights)
    self.load_other(other_weights)
```

## Use instead
```python
def load_weights(self, weights):
    other_weights = []

    def language_model_weights():
        for name, weight in weights:
            if name.startswith("language_model."):
                yield name, weight
            else:
                other_weights.append((name, weight))

    self.language_model.load_weights(language_model_weights())
    self.load_other(other_weights)
```

## Fix safety
The loop becomes a nested generator function that yields what it appended,
and the consumer calls it (the *Use instead* above).  A `name = list(stream)`
whose one use is the loop goes with it, and is reported as a step of this
finding, not on its own.

- **safe** when the loop fills one list, only filters, renames or transforms
  each element (builtins and methods of the element), and the list is consumed
  once, in order, by an iterating consumer, with nothing but inert code
  (literals, builtin constructors, `dict(self.named_parameters())`, logging,
  `AutoWeightsLoader(...)`) in between;
- **unsafe** when the loop fills several containers (the *inline partition*:
  the one handed to a loader becomes the generator, the others are still
  filled as it runs and are complete only once the loader has exhausted it),
  when the loop calls functions whose effects could be seen, or when the
  consumer cannot be proven lazy;
- **no fix** when the loop also loads in place or calls a hook, keeps a dict or
  set (a generator would not de-duplicate), assigns names used outside it,
  when two containers go to loaders (each part is large), or when the stream
  would still be kept after the edit (the copy is read elsewhere too).  When
  the loop lives in a helper that the caller feeds to a lazy consumer,
  `weights-helper-drain` (EL004) offers the partition-drain rewrite.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import libcst as cst

from eagerlint.analysis.flow import Event
from eagerlint.analysis.materialize import Shape, materialization
from eagerlint.rewrites import loopgen
from eagerlint.rules.base import Match, Rule

if TYPE_CHECKING:
    from eagerlint.analysis.module import ModuleView


def check(event: Event, view: ModuleView) -> Iterator[Match]:
    found = materialization(event, view)
    if found is None or found.shape is not Shape.LOOP:
        return
    assert isinstance(found.node, cst.For)
    every = "every expert weight" if found.drain is not None and found.drain.experts else "every element"
    message = f"Loop keeps {every} of the weight stream in {found.what}"
    # A `list()` copy that only this loop reads is a step of this finding.
    absorbs = (found.copy.call,) if found.copy is not None else ()
    try:
        planned = loopgen.plan(found, view)
    except loopgen.Unavailable as exc:
        yield Match(
            message, found.node.iter, event.where, found.flow, no_fix_reason=str(exc), absorbs=absorbs
        )
        return
    yield Match(message, found.node.iter, event.where, found.flow, fix=planned, absorbs=absorbs)


COST = "it holds the whole checkpoint in host RAM, once per tensor-parallel worker"
RULE = Rule("EL003", "weights-drain-loop", __doc__ or "", COST, on_event=check)
