"""Does a value share storage with a streamed tensor, or own a copy of it?

A loader that reuses its buffer on the next `next()` hands out views of it:
what is kept of an element is safe only if it owns its storage.  `holds_view`
answers for one expression, given the names that hold elements (or views of
them): the tensor itself, a slice, `.view()`, `.t()`, `.narrow()`, `.data`,
a container or closure holding one, a task submitted with one, keep the
buffer; `.clone()`, `.to(..., copy=True)`, `torch.empty_like(w).copy_(w)`,
arithmetic, and a helper of the tree that returns a copy (even only under a
test, as SGLang's `_clone_if_runai_streamed_tensor` does) do not.  Methods
that may return their receiver unchanged (`.contiguous()`, `.float()`,
`.to(dtype)`, `.cpu()`, `.detach()`) are views: whether they copy depends on
the tensor.  Metadata (`w.shape`, `w.numel()`) and what a `load*` call
returns hold nothing.
"""

from __future__ import annotations

import enum
from collections.abc import Callable

import libcst as cst

from eagerlint.analysis.cst_util import callee_name, last_part, names_in, target_names, tensor_names
from eagerlint.analysis.walk import runs_with

# Tensor methods whose result may share the receiver's storage (or be the receiver).
VIEW_METHODS = frozenset(
    {
        "view",
        "view_as",
        "reshape",
        "reshape_as",
        "narrow",
        "t",
        "transpose",
        "permute",
        "squeeze",
        "unsqueeze",
        "flatten",
        "unflatten",
        "expand",
        "expand_as",
        "split",
        "chunk",
        "unbind",
        "tensor_split",
        "select",
        "detach",
        "contiguous",
        "float",
        "half",
        "bfloat16",
        "double",
        "int",
        "long",
        "short",
        "bool",
        "byte",
        "char",
        "type",
        "to",
        "cpu",
        "numpy",
        "as_strided",
        "movedim",
        "moveaxis",
        "swapaxes",
        "swapdims",
        "diagonal",
        "unfold",
        "view_as_real",
        "view_as_complex",
        "__getitem__",
        "get",
        "pop",
        "values",
        "items",
    }
)
# Free functions (by last name part) whose result shares storage with an argument.
VIEW_FUNCTIONS = frozenset(
    {
        "Parameter",
        "as_tensor",
        "asarray",
        "from_numpy",
        "narrow",
        "split",
        "chunk",
        "unbind",
        "tensor_split",
        "t",
        "transpose",
        "reshape",
        "flatten",
        "squeeze",
        "unsqueeze",
        "permute",
        "movedim",
        "view_as_real",
        "view_as_complex",
        "detach",
        "partial",  # a closure over its arguments
        "submit",  # the task holds its arguments until a worker runs it
        # Containers and lazy wrappers hold their items.
        "list",
        "tuple",
        "dict",
        "set",
        "frozenset",
        "sorted",
        "reversed",
        "iter",
        "zip",
        "enumerate",
        "chain",
        "OrderedDict",
        "defaultdict",
        "deque",
    }
)
SPLITTING_METHODS = frozenset({"split", "chunk", "unbind", "tensor_split"})
# Tensor methods that always return a new tensor holding its own storage.
OWNING_METHODS = frozenset({"clone", "deepcopy", "copy"})
OWNING_FUNCTIONS = frozenset(
    {"clone", "deepcopy", "cat", "concat", "concatenate", "stack", "hstack", "vstack"}
)
METADATA_METHODS = frozenset(
    {"item", "tolist", "numel", "dim", "size", "element_size", "nelement", "data_ptr", "stride"}
    | {"is_contiguous", "storage_offset", "untyped_storage", "hexdigest", "digest", "get_device"}
)
VIEW_ATTRIBUTES = frozenset({"data", "T", "mT", "H", "mH", "real", "imag"})


class Returns(enum.Enum):
    """What a helper returns of one parameter."""

    VIEW = "view"  # the parameter itself or a view of it, never a copy
    COPY = "copy"  # an owning copy on some path (the other paths return it unchanged at most)
    OTHER = "other"  # nothing of it


# What a function of the analysed tree returns of the parameter `arg` binds to,
# or None when the call does not resolve (or `arg` binds to no parameter).
HelperReturns = Callable[[cst.Call, cst.Arg], "Returns | None"]


def _no_helpers(call: cst.Call, arg: cst.Arg) -> Returns | None:
    return None


def holds_view(node: cst.BaseExpression, views: set[str], helpers: HelperReturns = _no_helpers) -> bool:
    """Whether keeping `node` keeps storage of one of `views` (names of elements or views)."""
    if not names_in(node) & views:
        return False
    return _holds(node, views, helpers)


def _holds(node: cst.BaseExpression, views: set[str], helpers: HelperReturns) -> bool:
    if isinstance(node, cst.Name):
        return node.value in views
    if isinstance(node, (cst.Tuple, cst.List, cst.Set)):
        return any(holds_view(el.value, views, helpers) for el in node.elements)
    if isinstance(node, cst.Dict):
        return any(
            holds_view(el.value, views, helpers)
            or (isinstance(el, cst.DictElement) and holds_view(el.key, views, helpers))
            for el in node.elements
        )
    if isinstance(node, cst.Attribute):
        return node.attr.value in VIEW_ATTRIBUTES and holds_view(node.value, views, helpers)
    if isinstance(node, cst.Subscript):
        return holds_view(node.value, views, helpers)
    if isinstance(node, cst.Call):
        return _call_holds(node, views, helpers)
    if isinstance(node, cst.Lambda):
        return True  # a closure over an element (names_in found one)
    if isinstance(node, cst.IfExp):
        return holds_view(node.body, views, helpers) or holds_view(node.orelse, views, helpers)
    if isinstance(node, cst.BooleanOperation):
        return holds_view(node.left, views, helpers) or holds_view(node.right, views, helpers)
    if isinstance(node, cst.NamedExpr):
        return holds_view(node.value, views, helpers)
    if isinstance(node, (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
        return _comprehension_holds(node, views, helpers)
    # Arithmetic makes a new tensor; comparisons, f-strings and the rest hold no storage.
    return False


def _call_holds(call: cst.Call, views: set[str], helpers: HelperReturns) -> bool:
    func = call.func
    args_hold = any(holds_view(a.value, views, helpers) for a in call.args)
    if isinstance(func, cst.Attribute):
        method = func.attr.value
        receiver_holds = holds_view(func.value, views, helpers)
        if method in OWNING_METHODS or method in METADATA_METHODS:
            return False
        if method == "to" and _copies(call):
            return False
        if receiver_holds:
            # `w.view(...)`, `w.mul_(2)` (an in-place op returns its receiver); any other
            # method of an element (`w.sum()`, `w.abs()`) computes a new tensor.
            return method in VIEW_METHODS or (method.endswith("_") and not method.startswith("_"))
        if method == "copy_":
            return False  # `torch.empty_like(w).copy_(w)`: the receiver owns its storage
    name = last_part(callee_name(call))
    if not args_hold or name in OWNING_FUNCTIONS or "load" in name.lower():
        return False
    if name in VIEW_FUNCTIONS:
        return True
    for arg in call.args:
        if holds_view(arg.value, views, helpers):
            found = helpers(call, arg)
            if found is Returns.VIEW:
                return True
            if found is not None:
                continue
            # An unknown class keeps what it is built from (a record, a namedtuple); an
            # unknown function is taken to compute a new value.
            if name[:1].isupper():
                return True
    return False


def _copies(call: cst.Call) -> bool:
    """`.to(..., copy=True)`."""
    return any(
        a.keyword is not None
        and a.keyword.value == "copy"
        and isinstance(a.value, cst.Name)
        and a.value.value == "True"
        for a in call.args
    )


def _comprehension_holds(
    comp: cst.ListComp | cst.SetComp | cst.GeneratorExp | cst.DictComp,
    views: set[str],
    helpers: HelperReturns,
) -> bool:
    inner = set(views)
    for_in: cst.CompFor | None = comp.for_in
    while for_in is not None:
        if holds_view(for_in.iter, inner, helpers):
            inner |= tensor_names(for_in.target)
        for_in = for_in.inner_for_in
    if isinstance(comp, cst.DictComp):
        return holds_view(comp.key, inner, helpers) or holds_view(comp.value, inner, helpers)
    return holds_view(comp.elt, inner, helpers)


def derived_views(body: cst.CSTNode, views: set[str], helpers: HelperReturns = _no_helpers) -> set[str]:
    """`views` and the names `body` binds to views of them (`w2 = w.t()`; not `w2 = w.clone()`)."""
    found = set(views)
    assigns = [n for n in runs_with(body) if isinstance(n, cst.Assign)]
    for _ in range(3):  # chains like a = w[0]; b = a.t() settle quickly
        for node in assigns:
            if holds_view(node.value, found, helpers):
                # `name, w = item` and `name, w = rename(name, w)` hold a name in the
                # first slot; `q, k, v = w.split(...)` gives views in every slot.
                whole = (
                    isinstance(node.value, cst.Call)
                    and isinstance(node.value.func, cst.Attribute)
                    and node.value.func.attr.value in SPLITTING_METHODS
                )
                for t in node.targets:
                    found |= set(target_names(t.target)) if whole else tensor_names(t.target)
    return found


def returns_of(func: cst.FunctionDef, param: str, helpers: HelperReturns = _no_helpers) -> Returns:
    """What `func` returns of its parameter `param`: the parameter or a view of it on
    every path that returns it (VIEW), an owning copy on at least one (COPY: the
    author decided when a copy is needed), or nothing of it (OTHER)."""
    views = derived_views(func.body, {param}, helpers)
    returned = [n.value for n in runs_with(func.body) if isinstance(n, cst.Return) and n.value is not None]
    viewed = [r for r in returned if holds_view(r, views, helpers)]
    copied = [r for r in returned if not holds_view(r, views, helpers) and _copy_of(r, views)]
    if copied:
        return Returns.COPY
    return Returns.VIEW if viewed else Returns.OTHER


def _copy_of(node: cst.BaseExpression, views: set[str]) -> bool:
    """`w.clone()`, `w.to("cpu", copy=True)`, `torch.empty_like(w).copy_(w)` (with their
    `.detach()` and friends around them)."""
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        method = node.func.attr.value
        if method in OWNING_METHODS or (method == "to" and _copies(node)) or method == "copy_":
            return bool(names_in(node) & views)
        if method not in VIEW_METHODS:
            return False
        node = node.func.value
    if isinstance(node, cst.Call):
        return last_part(callee_name(node)) in OWNING_FUNCTIONS and bool(names_in(node) & views)
    return False
