"""Library calls that read every tensor of a checkpoint file at once.

A producer or loader can stream its own stream perfectly and still hold the
whole checkpoint: the library call it starts from reads every tensor before
the first one is used.  This is the table of such calls and their lazy
spelling; `eager_loads` finds them in a function, and only where the loaded
mapping is used as a whole (iterated, `.items()`, yielded, returned, merged,
or handed to `load_state_dict`/`load_weights`), not where one entry is looked
up by name.

safetensors' `load_file(path)` and `safe_open(...).get_tensor(name)` are not in
the table: on the CPU their tensors are views of a memory map of the file, not
private copies.  Measured (safetensors 0.8.0, torch 2.13, a 256 MB file):
`load_file` adds 0 MB of anonymous memory, even with every tensor read;
`torch.load` adds 256 MB (0 MB with `mmap=True`), and so does
`safetensors.torch.load(data)` of the file's bytes.  What is converted or
copied from a mapped file (`.to(dtype)`, `.clone()`) is a private copy again,
which the stream analysis follows when it is kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from eagerlint.analysis.cst_util import callee_name, dotted_name, last_part, target_names
from eagerlint.analysis.project import Imported, imports
from eagerlint.analysis.uses import uses_after
from eagerlint.analysis.walk import StackVisitor, descendants

if TYPE_CHECKING:
    from eagerlint.analysis.module import ModuleView


@dataclass(frozen=True)
class EagerCall:
    """One row of the table: a library call, and how to read lazily instead."""

    name: str  # as reported: `torch.load()`
    module: str  # where the function comes from
    function: str
    lazy: str  # the lazy spelling, as advice


TORCH_LOAD = EagerCall(
    "torch.load()",
    "torch",
    "load",
    "pass `mmap=True` (with `weights_only=True`): tensors stay on disk until read",
)
LOAD_BYTES = EagerCall(
    "safetensors load()",
    "safetensors.torch",
    "load",
    "read the file with `safe_open` instead of loading its bytes",
)
TABLE: tuple[EagerCall, ...] = (TORCH_LOAD, LOAD_BYTES)
# Words every call of the table leaves in the text (the unit selection's screen).
WORDS: tuple[str, ...] = ("torch.load", "safetensors", "import load")

# What a loaded mapping is used as a whole by.
WHOLE_METHODS = frozenset({"items", "values"})
WHOLE_CALLS = frozenset({"load_state_dict", "load_weights", "update", "list", "dict", "iter", "sorted"})


@dataclass(frozen=True)
class EagerLoad:
    call: cst.Call
    kind: EagerCall
    stack: tuple[cst.CSTNode, ...]
    # "shard": called once per file of a loop and used a file at a time; "merged":
    # every file of the loop joins one mapping; "": called once.
    per_file: str = ""


def eager_call(call: cst.Call, imports: Mapping[str, Imported]) -> EagerCall | None:
    """The table's row for `call`, resolved through the imports in scope."""
    name = callee_name(call)
    if name is None:
        return None
    head, _, attr = name.rpartition(".")
    if head:
        module = _module_of(head, imports)
        if module == "torch" and attr == "load":
            return None if _mmapped(call) else TORCH_LOAD
        if module == "safetensors.torch":
            return LOAD_BYTES if attr == "load" else None
        return None
    imported = imports.get(name)
    if imported is None or imported.module != "safetensors.torch":
        return None
    return LOAD_BYTES if imported.attr == "load" else None


def _module_of(head: str, imports: Mapping[str, Imported]) -> str:
    """`torch` for `torch`, `safetensors.torch` for `st` (`import safetensors.torch as st`)."""
    first, _, rest = head.partition(".")
    imported = imports.get(first)
    if imported is None:
        return head
    base = imported.module if imported.attr is None else f"{imported.module}.{imported.attr}"
    return f"{base}.{rest}" if rest else base


def _mmapped(call: cst.Call) -> bool:
    return any(
        a.keyword is not None
        and a.keyword.value == "mmap"
        and not (isinstance(a.value, cst.Name) and a.value.value == "False")
        for a in call.args
    )


class _Calls(StackVisitor):
    def __init__(self, func: cst.FunctionDef) -> None:
        self.stack: list[cst.CSTNode] = [func]
        self.found: list[tuple[cst.Call, tuple[cst.CSTNode, ...]]] = []
        self.imports = False  # whether the function imports anything itself
        self.walk(func.body)

    def visit_Call(self, node: cst.Call) -> None:
        self.found.append((node, tuple(self.stack)))

    def visit_Import(self, node: cst.Import) -> None:
        self.imports = True

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self.imports = True

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False  # a nested function is read when it is a unit of its own


def scope_imports(func: cst.FunctionDef, view: ModuleView, *, local: bool = True) -> dict[str, Imported]:
    """The module's top-level imports, overridden by those inside `func` (a local
    `from json_utils import load_file` is not safetensors'); `local=False`: `func`
    imports nothing itself."""
    module = view.resolver.module_name
    memo = view.memo(scope_imports)  # the module's own lines are read once, not per unit
    if 0 not in memo:
        memo[0] = imports(
            "".join(line for line in view.outline.lines if line[:1] not in (" ", "\t")), module, False
        )
    top: dict[str, Imported] = memo[0]
    if not local:
        return top
    table = dict(top)
    table.update(imports(view.code(func), module, False))
    return table


def eager_loads(func: cst.FunctionDef, view: ModuleView) -> Iterator[EagerLoad]:
    """The table's calls in `func` whose loaded mapping is used as a whole."""
    calls = _Calls(func)
    if not calls.found:
        return
    table = scope_imports(func, view, local=calls.imports)
    loader = func.name.value == "load_weights"
    for call, stack in calls.found:
        kind = eager_call(call, table)
        if kind is None:
            continue
        if isinstance(call.func, cst.Name) and _defines(func, call.func.value):
            continue  # a function of its own called `load`
        # In a loader, any whole use; elsewhere, what reaches a loader, and the files
        # of a loop merged into one mapping (`state.update(torch.load(shard))`).  A
        # producer reading a shard at a time holds a shard, not the checkpoint.
        merged = _in_loop(stack) and _merged(stack)
        if merged or (used_whole(stack) if loader else reaches_loader(stack) or returned(stack, func)):
            per_file = "merged" if merged else "shard" if _in_loop(stack) else ""
            yield EagerLoad(call, kind, stack, per_file)


def _in_loop(stack: Sequence[cst.CSTNode]) -> bool:
    """Whether the call on top of `stack` runs once per iteration of something: not
    the iterable of a `for` or of a comprehension's first `for`, which runs once."""
    comprehensions = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)
    for i, node in enumerate(stack[:-1]):
        child = stack[i + 1]
        if isinstance(node, cst.While) or (isinstance(node, cst.For) and child is not node.iter):
            return True
        if isinstance(node, comprehensions) and child is not node.for_in:
            return True  # the element expression
        if isinstance(node, cst.CompFor) and child is not node.iter and child is not node.inner_for_in:
            return True  # an `if` of the comprehension
        if isinstance(node, cst.CompFor) and child is node.inner_for_in:
            # What the inner `for` iterates runs once per element of this one.
            if i + 2 < len(stack) and stack[i + 2] is node.inner_for_in.iter:
                return True
    return False


# Names of functions whose job is to read a checkpoint (`_load_checkpoint`,
# `load_state_dict_from`, `read_weights`): what they return is weights.
_CHECKPOINT_READER = re.compile(r"checkpoint|ckpt|state_dict|weights", re.IGNORECASE)


def returned(stack: Sequence[cst.CSTNode], func: cst.FunctionDef, depth: int = 0) -> bool:
    """A function named for reading a checkpoint returns the loaded mapping: as it
    is, its weights entry (`ckpt["state_dict"]`, `ckpt.get("model", ckpt)`), what a
    call makes of it (`remap(sd)`), or a name bound to any of those.  Its caller
    gets the whole file.  Returning another entry (`ckpt["config"]`) is looking up
    an entry by name."""
    if not _CHECKPOINT_READER.search(func.name.value) or depth > 8 or len(stack) < 3:
        return False
    node, parent = stack[-1], stack[-2]
    if isinstance(parent, cst.Return):
        return True
    if isinstance(parent, cst.Subscript) and parent.value is node:
        key = _subscript_key(parent.slice)
        return key is not None and _weights_key(key) and returned(stack[:-1], func, depth + 1)
    if isinstance(parent, cst.Attribute) and parent.value is node and parent.attr.value == "get":
        call = stack[-3]
        if (
            isinstance(call, cst.Call)
            and call.func is parent
            and call.args
            and _weights_key(call.args[0].value)
        ):
            return returned(stack[:-2], func, depth + 1)
        return False
    if isinstance(parent, cst.Arg) and isinstance(stack[-3], cst.Call) and len(stack) > 3:
        return returned(stack[:-2], func, depth + 1)
    if isinstance(parent, cst.Assign) and len(parent.targets) == 1:
        target, statement = parent.targets[0].target, stack[-3]
        if isinstance(target, cst.Name) and isinstance(statement, cst.SimpleStatementLine):
            uses = uses_after(target.value, statement, stack[:-1])
            return any(returned(u.stack, func, depth + 1) for u in uses)
    return False


# Keys a checkpoint keeps its weights under (`ckpt["state_dict"]`, `["model"]`).
WEIGHTS_KEYS = frozenset(
    {
        "state_dict",
        "model",
        "model_state_dict",
        "module",
        "params",
        "params_ema",
        "weights",
        "generator",
        "ema",
        "net",
    }
)


def _weights_key(key: cst.BaseExpression) -> bool:
    if not isinstance(key, cst.SimpleString):
        return False
    try:
        text = key.evaluated_value
    except (SyntaxError, ValueError, UnicodeError):
        return False
    return isinstance(text, str) and text in WEIGHTS_KEYS


def _subscript_key(slices: Sequence[cst.SubscriptElement]) -> cst.BaseExpression | None:
    if len(slices) != 1 or not isinstance(slices[0].slice, cst.Index):
        return None
    return slices[0].slice.value


def _merged(stack: Sequence[cst.CSTNode]) -> bool:
    """`state.update(torch.load(shard))`: every file read joins one mapping."""
    return (
        len(stack) >= 3
        and isinstance(stack[-2], cst.Arg)
        and isinstance(stack[-3], cst.Call)
        and isinstance(stack[-3].func, cst.Attribute)
        and stack[-3].func.attr.value == "update"
    )


def _defines(func: cst.FunctionDef, name: str) -> bool:
    """Whether `func` defines or assigns `name` itself (an import is resolved instead)."""
    for node in descendants(func.body):
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)) and node.name.value == name:
            return True
        if isinstance(node, (cst.AssignTarget, cst.AnnAssign)) and name in set(target_names(node.target)):
            return True
    return False


def used_whole(stack: Sequence[cst.CSTNode]) -> bool:
    """Whether the value of the call on top of `stack` is used as a whole mapping."""
    parent = stack[-2]
    if isinstance(parent, cst.IfExp) and stack[-1] is not parent.test and len(stack) > 2:
        return used_whole(stack[:-1])  # `state["net"] if "net" in state else state`
    if isinstance(parent, cst.Attribute) and parent.value is stack[-1]:
        return parent.attr.value in WHOLE_METHODS
    if isinstance(parent, (cst.Return, cst.From)):
        return True
    if isinstance(parent, cst.Arg) and isinstance(stack[-3], cst.Call):
        return last_part(callee_name(stack[-3])) in WHOLE_CALLS
    if isinstance(parent, (cst.For, cst.CompFor)) and parent.iter is stack[-1]:
        return True
    if isinstance(parent, cst.Assign) and len(parent.targets) == 1:
        target = parent.targets[0].target
        statement = stack[-3]
        if isinstance(target, cst.Name) and isinstance(statement, cst.SimpleStatementLine):
            return any(used_whole(u.stack) for u in uses_after(target.value, statement, stack[:-1]))
    return False


# Methods a loaded mapping passes through: as a whole, or a part of it
# (`ckpt.get("state_dict", ckpt)`), which was read with the rest.
PASSING_METHODS = WHOLE_METHODS | {"get"}
# What loads a mapping into a model.
LOADERS = frozenset({"load_weights", "load_state_dict"})


def reaches_loader(stack: Sequence[cst.CSTNode], depth: int = 0) -> bool:
    """Whether the value on top of `stack` is handed to a `load_weights` or
    `load_state_dict` call: as it is, as `.items()`/`.values()`, as a part of it
    (`ckpt["model"]`, `ckpt.get("model", ckpt)`, a comprehension of its entries),
    as what a call makes of it (`list(sd)`, `convert(sd)`), through a comprehension
    over it, or as a name bound to any of those (twelve steps at most)."""
    if depth > 12 or len(stack) < 3:
        return False
    node, parent = stack[-1], stack[-2]
    if isinstance(parent, cst.Attribute) and parent.value is node and parent.attr.value in PASSING_METHODS:
        call = stack[-3]
        return isinstance(call, cst.Call) and call.func is parent and reaches_loader(stack[:-2], depth + 1)
    if isinstance(parent, cst.Arg) and isinstance(stack[-3], cst.Call):
        name = last_part(callee_name(stack[-3]))
        # What a call makes of it (`hf_sd = convert(sd)`) is handed on as it.
        return name in LOADERS or reaches_loader(stack[:-2], depth + 1)
    if isinstance(parent, cst.Subscript) and parent.value is node:
        return reaches_loader(stack[:-1], depth + 1)  # `ckpt["state_dict"]`: the rest was read too
    if isinstance(parent, (cst.ListComp, cst.SetComp, cst.GeneratorExp)) and parent.elt is node:
        return reaches_loader(stack[:-1], depth + 1)  # a comprehension of its parts
    if isinstance(parent, cst.DictComp) and node in (parent.key, parent.value):
        return reaches_loader(stack[:-1], depth + 1)
    if isinstance(parent, cst.CompFor) and parent.iter is node and len(stack) >= 4:
        return reaches_loader(stack[:-2], depth + 1)  # the generator over it
    if isinstance(parent, cst.Assign) and len(parent.targets) == 1:
        target, statement = parent.targets[0].target, stack[-3]
        if isinstance(target, cst.Name) and isinstance(statement, cst.SimpleStatementLine):
            return any(
                reaches_loader(u.stack, depth + 1) for u in uses_after(target.value, statement, stack[:-1])
            )
    return False


def is_eager_call(call: cst.Call) -> bool:
    """The CST form of the sources row: a call spelled like one of the table's
    (the imports decide in `eager_call`)."""
    name = dotted_name(call.func) or ""
    return name.endswith("torch.load")
