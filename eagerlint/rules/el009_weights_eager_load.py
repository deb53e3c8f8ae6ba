"""## What it does
Checks for library calls that read every tensor of a checkpoint file at once
into private memory (`torch.load(path)` without `mmap=True`, safetensors'
`load(data)` of a file's bytes) where the loaded mapping is then used as a
whole: in a `load_weights`, iterated, `.items()`, yielded, returned, merged
with `.update()`, or handed on, also as one branch of a conditional expression
(`state["net"] if "net" in state else state`); elsewhere, handed to
`load_weights`/`load_state_dict` (also a part of it, `ckpt["model"]`, or what a
call makes of it), the files of a loop merged into one mapping, or returned by
a function named for reading a checkpoint (`_load_checkpoint`, `*_state_dict`,
`*weights*`: the whole mapping or its `"state_dict"`/`"model"` entry).  Looking
up any other entry by name is not reported.

safetensors' `load_file(path)` and `safe_open` are not reported: on the CPU
their tensors are views of a memory map of the file (measured: 0 MB of
anonymous memory for a 256 MB file, every tensor read), which the kernel can
drop and every worker reading the file shares.

## Why is this bad?
However lazily the code after it streams, the call has already put the whole
file in host RAM: every tensor is a fresh copy before the first one is
loaded, once per tensor-parallel worker.  A producer that does this per shard
holds a whole shard at a time; a loader that does it for a checkpoint of one
file holds the checkpoint.

## Example
```python
import torch


def load_weights(self, weights):
    state = torch.load(self.checkpoint_path, map_location="cpu")
    for name, tensor in state.items():
        self.params[name].copy_(tensor)
```

## Use instead
```python
import torch


def load_weights(self, weights):
    state = torch.load(self.checkpoint_path, map_location="cpu", mmap=True, weights_only=True)
    for name, tensor in state.items():
        self.params[name].copy_(tensor)
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
        each = {
            "shard": " (each file of the loop: a whole shard at a time)",
            "merged": " (every file of the loop merged into one mapping)",
        }.get(found.per_file, "")
        yield Match(
            f"`{found.kind.name}` reads every tensor of the file before the first is used{each}",
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
