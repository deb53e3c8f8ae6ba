"""## What it does
Checks for a weight stream passed to a function of the same module or class,
or of another module of the analysed tree, that materializes that parameter:
a comprehension, `list(...)`, or a loop that keeps every element.  The finding
sits at the call, with the helper's materialization in its flow.  A container
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
No fix is applied by default.  When the helper partitions the stream and the
caller feeds one partition to a lazy consumer before touching the others, the
partition-drain rewrite is offered as an unsafe fix: it reorders the helper's
side effects relative to the consumer's work, which eagerlint cannot prove
harmless.
"""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from eagerlint.cst_util import callee_name
from eagerlint.flow import Event, EventKind, ModuleView, ValueKind
from eagerlint.rewrites import partition
from eagerlint.rules.base import Match

CODE = "EL004"
NAME = "weights-helper-drain"


def check(event: Event, view: ModuleView) -> Iterator[Match]:
    if event.kind is not EventKind.CALL_ARG:
        return
    value = event.value
    if value.kind is ValueKind.MATERIALIZED and not value.drained_by_helper:
        return  # a list built in plain sight is reported where it is built
    call = event.node
    assert isinstance(call, cst.Call)
    arg = next(a for a in call.args if a.value is event.operand)
    helper_flow = view.drains(call, event.cls, arg)
    if helper_flow is None:
        return
    name = callee_name(call) or view.code(call.func)
    what = (
        "re-buffers weights already drained"
        if value.kind is ValueKind.MATERIALIZED
        else "drains the weight stream"
    )
    flow = (*value.steps, view.step(call, f"passed to {name}()"), *helper_flow)
    message = f"`{name}()` {what} into containers"
    resolved = view.resolve_call(call, event.cls)
    assert resolved is not None  # drains() resolved it
    if resolved.func.name.value == "load_weights":
        return  # another entry point: its own materialization is reported where it happens
    if resolved.home is not view:
        where = resolved.home.filename
        yield Match(CODE, NAME, message, call, event, flow, no_fix_reason=f"the helper lives in {where}")
        return
    try:
        planned = partition.plan(call, event.stack, resolved.func, view, view.text)
    except partition.Unavailable as exc:
        yield Match(CODE, NAME, message, call, event, flow, no_fix_reason=str(exc))
        return
    yield Match(
        CODE,
        NAME,
        message,
        call,
        event,
        flow,
        inherited_fix=(partition.TITLE, planned.edits, partition.REASON),
    )
