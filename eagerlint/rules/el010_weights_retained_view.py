"""## What it does
Checks for an element of a weight stream (the tensor, or a view of it: a
slice, an index, `.view()`, `.narrow()`, `.t()`, `.data`, `.contiguous()`,
`.to(dtype)`, a tuple or record holding it) that outlives its own iteration
without an owning copy: stored in a container (also a small, bounded one: a
pending weight/scale pair, a vision/projector side list, a batch emptied
later), in an attribute, in a local that a later iteration reads, in a
closure, or in a task submitted to an executor; a comprehension, `list()`,
`dict()` or star-unpacking of the stream; and an `itertools.tee` branch read to
the end before its sibling starts (the tee's buffer holds every element).

An owning copy keeps nothing of the loader's buffer: `.clone()`,
`.to(..., copy=True)`, `torch.empty_like(w).copy_(w)`, arithmetic (`w * 2`),
`torch.cat`/`torch.stack`, and a function of the analysed tree that returns
a copy of its argument, also only under a test (SGLang's
`_clone_if_runai_streamed_tensor`).  Methods that may return the tensor itself
(`.contiguous()`, `.float()`, `.to(dtype)`, `.cpu()`) are not copies.  An
element loaded in place (`weight_loader(param, w)`, `param.data.copy_(w)`) or
yielded onward is fine: it is used before the next `next()`.  Keeping the name,
`w.shape`, `w.dtype` or `w.numel()` keeps no tensor.

**This rule is off by default.** It matters only when the engine's loaders hand
out views of a buffer they reuse on the next `next()` (the runai streamer before
vLLM PR 43464 and in SGLang, other fast loaders). Turn it on with
`extend-select = ["EL010"]` (or `--extend-select EL010`), or by naming those
loaders in `buffer-reusing-loaders`; their calls are then followed too (streams
that arrive as parameters are always followed, since the caller picks the loader).

## Why is this bad?
The tensor kept is the loader's buffer: before it is loaded, the loader writes
the next tensor into it, and the model silently loads garbage (vLLM issue 43163:
gibberish from a pending FP8 weight/scale pair; runai-model-streamer issue 45).
Nothing fails: the shapes are right, only the values are wrong.  Memory is no
concern here: even one kept tensor is corrupted.

## Example
```python
def load_weights(self, weights):
    pending = {}
    for name, weight in weights:
        if name.endswith(".weight_scale"):
            prefix = name.removesuffix("_scale")
            self.load_pair(prefix, pending.pop(prefix), weight)
        else:
            pending[name] = weight
```

## Use instead
```python
def load_weights(self, weights):
    pending = {}
    for name, weight in weights:
        if name.endswith(".weight_scale"):
            prefix = name.removesuffix("_scale")
            self.load_pair(prefix, pending.pop(prefix), weight)
        else:
            pending[name] = weight.clone()
```

## Fix safety
No fix is offered.  Adding `.clone()` changes memory: each kept tensor then
costs its own size while it is kept, which is what a buffer-reusing loader was
chosen to avoid, and for a whole-stream keep it is the whole checkpoint.  The
message says where the copy goes (`weight.clone()` at the keep, or loading the
element before the next one is read); when memory matters, clone only what the
loader marks as streamed, as SGLang's `_clone_if_runai_streamed_tensor` does.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from eagerlint.analysis.flow import Event
from eagerlint.analysis.retained import Kind, RetainedView, retained_by_tee, retained_views
from eagerlint.rules.base import Match, Rule

if TYPE_CHECKING:
    from eagerlint.analysis.module import ModuleView


def check(event: Event, view: ModuleView) -> Iterator[Match]:
    yield from _matches(retained_views(event, view))


def check_function(events: list[Event], view: ModuleView) -> Iterator[Match]:
    yield from _matches(retained_by_tee(events, view))


CURES = {
    Kind.LOOP: "keep `.clone()` of it, or load it before the next element is read",
    Kind.WHOLE: "use each element as it comes, or keep `.clone()`s",
    Kind.TEE: "interleave the branches, or keep `.clone()`s in the branch read first",
}


def _matches(found_views: list[RetainedView]) -> Iterator[Match]:
    for found in found_views:
        if found.kind is Kind.LOOP:
            message = f"A view of a streamed tensor is kept in {found.holder} past its iteration"
        elif found.kind is Kind.WHOLE:
            message = f"Every streamed tensor is kept by {found.holder} past its iteration"
        else:
            message = "Every streamed tensor is kept in a tee's buffer while one branch is read to the end"
        where = found.event.where
        yield Match(message, found.node, where, found.flow, no_fix_reason=CURES[found.kind])


COST = "a loader that reuses its buffer overwrites it before it is loaded: the model gets wrong weights"
RULE = Rule(
    "EL010",
    "weights-retained-view",
    __doc__ or "",
    COST,
    on_event=check,
    on_function=check_function,
    default=False,
    absorbable=False,
)
