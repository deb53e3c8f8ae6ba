"""Library calls that read every tensor of a checkpoint file at once.

A producer or loader can stream its own stream perfectly and still hold the
whole checkpoint: the library call it starts from reads every tensor before
the first one is used.  This is the table of such calls and their lazy
spelling; `eager_loads` finds them in a function, and only where the loaded
mapping is used as a whole (iterated, `.items()`, yielded, returned, merged,
or handed to `load_state_dict`/`load_weights`), not where one entry is looked
up by name.
"""

from __future__ import annotations

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
LOAD_FILE = EagerCall(
    "safetensors load_file()",
    "safetensors.torch",
    "load_file",
    'open the file with `safe_open(path, framework="pt")` and `get_tensor(name)` each tensor as it is loaded',
)
LOAD_BYTES = EagerCall(
    "safetensors load()",
    "safetensors.torch",
    "load",
    "read the file with `safe_open` instead of loading its bytes",
)
TABLE: tuple[EagerCall, ...] = (TORCH_LOAD, LOAD_FILE, LOAD_BYTES)
# Words every call of the table leaves in the text (the unit selection's screen).
WORDS: tuple[str, ...] = ("torch.load", "load_file", "safetensors")

# What a loaded mapping is used as a whole by.
WHOLE_METHODS = frozenset({"items", "values"})
WHOLE_CALLS = frozenset({"load_state_dict", "load_weights", "update", "list", "dict", "iter", "sorted"})


@dataclass(frozen=True)
class EagerLoad:
    call: cst.Call
    kind: EagerCall
    stack: tuple[cst.CSTNode, ...]


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
            return {"load_file": LOAD_FILE, "load": LOAD_BYTES}.get(attr)
        return None
    imported = imports.get(name)
    if imported is None or imported.module != "safetensors.torch":
        return None
    return {"load_file": LOAD_FILE, "load": LOAD_BYTES}.get(imported.attr or "")


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
            continue  # a function of its own called `load_file`
        # In a loader, any whole use; elsewhere, only what reaches a loader: a
        # producer reading a shard at a time holds a shard, not the checkpoint.
        if used_whole(stack) if loader else reaches_loader(stack):
            yield EagerLoad(call, kind, stack)


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


# Calls a loaded mapping passes through on its way to a loader.
PASSING = frozenset({"list", "iter", "chain", "dict", "sorted", "tuple"})


def reaches_loader(stack: Sequence[cst.CSTNode], depth: int = 0) -> bool:
    """Whether the value on top of `stack` is handed to a `load_weights` call, as it
    is, as `.items()`/`.values()`, through `list()`/`iter()`/`chain()`, a
    generator over it, or a name bound to any of those."""
    if depth > 4 or len(stack) < 3:
        return False
    node, parent = stack[-1], stack[-2]
    if isinstance(parent, cst.Attribute) and parent.value is node and parent.attr.value in WHOLE_METHODS:
        call = stack[-3]
        return isinstance(call, cst.Call) and call.func is parent and reaches_loader(stack[:-2], depth + 1)
    if isinstance(parent, cst.Arg) and isinstance(stack[-3], cst.Call):
        name = last_part(callee_name(stack[-3]))
        return name == "load_weights" or (name in PASSING and reaches_loader(stack[:-2], depth + 1))
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
    return name.endswith(("torch.load", "load_file")) or last_part(name) in ("load_file",)
