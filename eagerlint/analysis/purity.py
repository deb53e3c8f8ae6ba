"""Whether a call has effects anyone could see if it ran later.

Turning a list into a generator moves each element's computation from "all
before the consumer starts" to "interleaved with the consumer".  That is
invisible only when computing an element has no effect of its own: no write
outside the call, no output, no error raised on purpose.  A call is *pure*
here when it is a pure builtin, a method of a value the element computation
itself holds (`name.split(".")`, `w.reshape(...)`, not an in-place `w.add_(1)`),
a function of a pure namespace (`torch.cat`, `math.prod`, `re.sub`), or a
function of the analysed tree whose body is pure by the same rules (looked
into two levels deep).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import libcst as cst

from eagerlint.analysis.cst_util import root_name, target_names
from eagerlint.analysis.keeps import KEEP_METHODS, LOGGING_ROOTS
from eagerlint.analysis.walk import descendants, runs_with
from eagerlint.outline import Block

if TYPE_CHECKING:
    from eagerlint.analysis.module import ModuleView

PURE_BUILTINS = frozenset(
    {"len", "isinstance", "str", "repr", "int", "float", "bool", "getattr", "hasattr", "type", "tuple"}
    | {"list", "dict", "set", "frozenset", "any", "all", "max", "min", "sum", "enumerate", "zip", "range"}
    | {"sorted", "map", "filter", "abs", "round", "divmod", "iter", "reversed", "hash", "id", "format"}
)
PURE_NAMESPACES = frozenset({"torch", "math", "re", "os", "np", "numpy", "functools", "operator", "string"})
# Methods that change the object they are called on (besides in-place tensor ops `*_`).
MUTATORS = KEEP_METHODS | {"pop", "popitem", "clear", "remove", "discard", "setdefault", "sort", "reverse"}
DEPTH = 2


def impure_call(
    calls: Iterable[cst.Call], own: set[str], view: ModuleView, cls: Block | None, depth: int = 0
) -> cst.Call | None:
    """The first of `calls` that may have an effect; `own`: the local names whose
    values the computation itself made (their methods are its own business)."""
    for call in calls:
        if not _pure(call, own, view, cls, depth):
            return call
    return None


def _pure(call: cst.Call, own: set[str], view: ModuleView, cls: Block | None, depth: int) -> bool:
    func = call.func
    if isinstance(func, cst.Name):
        if func.value in PURE_BUILTINS:
            return True
        return _pure_function(call, view, cls, depth)
    if not isinstance(func, cst.Attribute):
        return False
    method = func.attr.value
    root = root_name(func.value)
    if root in LOGGING_ROOTS:
        return False  # output: its order would change
    if isinstance(func.value, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
        return True  # `"{}.{}".format(...)`, `".".join(...)`
    if (method.endswith("_") and not method.endswith("__")) or method in MUTATORS:
        # A local list may grow; an in-place tensor op changes what others see.
        return root in own and not method.endswith("_")
    if root in own:
        return True
    if root in PURE_NAMESPACES and root not in view.shadowed_builtins:
        return True
    return _pure_function(call, view, cls, depth)


def _pure_function(call: cst.Call, view: ModuleView, cls: Block | None, depth: int) -> bool:
    """A function of the tree whose body has no effect (two levels of calls deep)."""
    if depth >= DEPTH:
        return False
    resolved = view.resolve_call(call, cls)
    if resolved is None:
        return False
    memo = view.memo(_pure_function)
    key = id(resolved.func)
    if key not in memo:
        memo[key] = False  # recursion guard
        memo[key] = _pure_body(resolved.func, resolved.home, resolved.owner, depth + 1)
    return bool(memo[key])


def _pure_body(func: cst.FunctionDef, view: ModuleView, cls: Block | None, depth: int) -> bool:
    own = {p.name.value for p in _params(func)}
    params = set(own)
    calls: list[cst.Call] = []
    for node in runs_with(func.body):
        if isinstance(node, (cst.Raise, cst.Yield, cst.Await, cst.Global, cst.Nonlocal, cst.Del)):
            return False
        if isinstance(node, (cst.AssignTarget, cst.AnnAssign, cst.AugAssign, cst.For, cst.NamedExpr)):
            target = node.target
            if not isinstance(target, (cst.Name, cst.Tuple, cst.List)):
                if root_name(target) not in own - params or root_name(target) is None:
                    return False  # `self.x = ...`, `arg[i] = ...`
            own.update(target_names(target))
        elif isinstance(node, cst.Call):
            calls.append(node)
    # A parameter's own methods are pure unless they change it.
    return impure_call(calls, own, view, cls, depth) is None and not any(_mutates(c, params) for c in calls)


def _mutates(call: cst.Call, params: set[str]) -> bool:
    func = call.func
    if not isinstance(func, cst.Attribute) or root_name(func.value) not in params:
        return False
    method = func.attr.value
    return method in MUTATORS or (method.endswith("_") and not method.endswith("__"))


def _params(func: cst.FunctionDef) -> list[cst.Param]:
    p = func.params
    stars = [star for star in (p.star_arg, p.star_kwarg) if isinstance(star, cst.Param)]
    return [*p.posonly_params, *p.params, *p.kwonly_params, *stars]


def calls_in(nodes: Iterable[cst.CSTNode]) -> list[cst.Call]:
    """The calls that run when `nodes` are evaluated (not inside lambdas)."""
    found: list[cst.Call] = []
    for node in nodes:
        found += [n for n in descendants(node) if isinstance(n, cst.Call)]
    return found
