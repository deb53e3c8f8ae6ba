"""## What it does
Checks for library calls that read every tensor of a checkpoint file at once
(`torch.load(path)` without `mmap=True`, safetensors' `load_file(path)` and
`load(data)`) where the loaded mapping is then used as a whole: iterated,
`.items()`, yielded, returned, merged with `.update()`, or handed to
`load_state_dict`/`load_weights`, also as one branch of a conditional
expression (`state["net"] if "net" in state else state`).  Looking up one
entry by name is not reported.

## Why is this bad?
However lazily the code after it streams, the call has already put the whole
file in host RAM: every tensor is a fresh copy before the first one is
loaded, once per tensor-parallel worker.  A producer that does this per shard
holds a whole shard at a time; a loader that does it for a checkpoint of one
file holds the checkpoint.

## Example
```python
from safetensors.torch import load_file


def load_weights(self, weights):
    state = load_file(self.checkpoint_path)
    for name, tensor in state.items():
        self.params[name].copy_(tensor)
```

## Use instead
```python
from safetensors import safe_open


def load_weights(self, weights):
    with safe_open(self.checkpoint_path, framework="pt") as f:
        for name in f.keys():
            self.params[name].copy_(f.get_tensor(name))
```

## Fix safety
No automatic fix: `mmap=True` needs a file saved in the zip format and a
mapping that outlives the file handle; `safe_open` changes the code's shape.
The message gives the lazy spelling for the call found.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import libcst as cst

from eagerlint.analysis import eager
from eagerlint.analysis.flow import Where
from eagerlint.outline import Block
from eagerlint.rules.base import Match, Rule

if TYPE_CHECKING:
    from eagerlint.analysis.module import ModuleView


def check_unit(func: cst.FunctionDef, owner: Block | None, view: ModuleView) -> Iterator[Match]:
    for found in eager.eager_loads(func, view):
        yield Match(
            f"`{found.kind.name}` reads every tensor of the file before the first is used",
            found.call,
            Where(found.stack, func, owner),
            (view.step(found.call, f"every tensor read at once by {found.kind.name}"),),
            no_fix_reason=found.kind.lazy,
        )


RULE = Rule(
    "EL009",
    "weights-eager-load",
    __doc__ or "",
    "the whole file sits in host RAM at once, once per tensor-parallel worker",
    on_unit=check_unit,
    unit_triggers=eager.WORDS,
)
