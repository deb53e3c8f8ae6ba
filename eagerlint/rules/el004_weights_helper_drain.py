"""## What it does
Checks for a weight stream passed to a function of the same module or class,
or of another module of the analysed tree, that materializes that parameter:
a comprehension, `list(...)`, or a loop that keeps every element.  Another
`load_weights` is such a function too: `super().load_weights(...)`, or
`self.model.load_weights(...)` when the class builds `self.model` from a class
of the tree (`self.model = Thinker(...)`; of several, the one that keeps).  The
finding sits at the call, with the helper's materialization in its flow.  A container
that such a helper returned is followed too, so a second helper that
re-buffers it is reported at its call.

## Why is this bad?
Nothing at the call site looks eager, yet the helper holds every tensor of the
checkpoint in its lists until the caller has consumed them: host memory peaks
at the checkpoint size per worker.  vLLM 0.23.0's
`Llama4ForConditionalGeneration.load_weights` drains its stream through
`_separate_and_rename_weights` and `_handle_expert_scale_broadcasting`.

## Example
```python
class Model:
    def _split(self, weights):
        main, other = [], []
        for name, weight in weights:
            if name.startswith("model."):
                main.append((name, weight))
            else:
                other.append((name, weight))
        return main, other

    def load_weights(self, weights):
        main, other = self._split(weights)
        self.loader.load_weights(main)
        self.load_other(other)
```

## Use instead
```python
class Model:
    def load_weights(self, weights):
        other = []

        def main():
            for name, weight in weights:
                if name.startswith("model."):
                    yield name, weight
                else:
                    other.append((name, weight))

        self.loader.load_weights(main())
        self.load_other(other)
```

## Fix safety
No fix is applied by default, and none when the helper lives in another
module or was found through the classes an attribute may hold.  When the
helper partitions the stream and the caller feeds one partition to a lazy
consumer before touching the others, the partition-drain rewrite is offered as
an unsafe fix: it reorders the helper's
side effects relative to the consumer's work, which eagerlint cannot prove
harmless.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import libcst as cst

from eagerlint.analysis.flow import Event, ValueKind
from eagerlint.analysis.materialize import Shape, materialization
from eagerlint.rewrites import partition
from eagerlint.rules.base import Match, Rule

if TYPE_CHECKING:
    from eagerlint.analysis.module import ModuleView


def check(event: Event, view: ModuleView) -> Iterator[Match]:
    found = materialization(event, view)
    if found is None or found.shape is not Shape.HELPER:
        return
    resolved, call = found.helper, found.node
    assert resolved is not None and isinstance(call, cst.Call)
    what = (
        "re-buffers weights already drained"
        if event.value.kind is ValueKind.MATERIALIZED
        else "drains the weight stream"
    )
    message = f"`{found.what}()` {what} into containers"
    if resolved.home is not view:
        where = resolved.home.resolver.module_name
        reason = f"the helper lives in another module (`{where}`)"
        yield Match(message, call, event.where, found.flow, no_fix_reason=reason)
        return
    if not found.helper_certain:
        reason = f"`{found.what}` may reach another class's method than the one that keeps"
        yield Match(message, call, event.where, found.flow, no_fix_reason=reason)
        return
    try:
        planned = partition.plan(call, event.stack, resolved.func, view, view.text)
    except partition.Unavailable as exc:
        yield Match(message, call, event.where, found.flow, no_fix_reason=str(exc))
        return
    yield Match(message, call, event.where, found.flow, fix=planned)


COST = "the helper holds the whole checkpoint in host RAM, once per tensor-parallel worker"
RULE = Rule("EL004", "weights-helper-drain", __doc__ or "", COST, on_event=check)
