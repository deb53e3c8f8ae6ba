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

`written` answers the other half: which variables and attribute paths running
some code may change, through the calls it makes too (a method of the tree is
read two levels deep and its writes mapped to the caller's arguments; a call
the tree cannot resolve may change its receiver and whatever it is passed).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import libcst as cst

from eagerlint.analysis.cst_util import dotted_name, root_name, target_names
from eagerlint.analysis.keeps import KEEP_METHODS, LOGGING_ROOTS
from eagerlint.analysis.resolve import bound_arguments
from eagerlint.analysis.walk import children, descendants, runs_with
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
        # `yield` is no effect: a generator's body runs as it is pulled, which is the point.
        if isinstance(node, (cst.Raise, cst.Await, cst.Global, cst.Nonlocal, cst.Del)):
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


# -- what running code may change ---------------------------------------------------


def written(nodes: Iterable[cst.CSTNode], view: ModuleView, cls: Block | None) -> set[str]:
    """Variables and attribute paths that running `nodes` may assign, augment,
    delete or rebind as a loop target, or change through the calls it makes.  A
    root name stands for anything under it (`self` after `self.cache[k] = v`)."""
    found = assigned(nodes)
    for node in nodes:
        for call in _calls_run(node):
            found |= _call_writes(call, view, cls, 0)
    return found


def assigned(nodes: Iterable[cst.CSTNode]) -> set[str]:
    """What `nodes` assign themselves, without looking into the calls they make."""
    found: set[str] = set()
    for node in nodes:
        found |= _written_here(node)
    return found


def rebound(nodes: Iterable[cst.CSTNode]) -> set[str]:
    """The plain variables `nodes` bind (`x = ...`, `for a, b in ...`), nothing reached through them."""
    found: set[str] = set()
    for node in nodes:
        for n in runs_with(node):
            if isinstance(n, (cst.AssignTarget, cst.AugAssign, cst.AnnAssign, cst.For, cst.NamedExpr)):
                found.update(target_names(n.target))
    return found


def call_writes(call: cst.Call, view: ModuleView, cls: Block | None) -> set[str]:
    """What `call` itself may change (not what its arguments' evaluation does)."""
    return _call_writes(call, view, cls, 0)


def _calls_run(node: cst.CSTNode) -> list[cst.Call]:
    return [n for n in runs_with(node) if isinstance(n, cst.Call)]


def _written_here(node: cst.CSTNode) -> set[str]:
    found: set[str] = set()
    for n in runs_with(node):
        targets: list[cst.BaseExpression] = []
        if isinstance(n, (cst.AssignTarget, cst.AugAssign, cst.AnnAssign, cst.For)):
            targets = [n.target]
        elif isinstance(n, cst.NamedExpr):
            targets = [n.target]
        elif isinstance(n, cst.Del):
            targets = [n.target]
        for target in targets:
            found.update(target_names(target))
            found |= _path_of(target)
    return found


def _path_of(node: cst.BaseExpression) -> set[str]:
    """The path a value is reached by: `self.scale`; `self.params` for an item of
    it (`self.params[n].data`); the root for what a call returned (`self` for
    `self.get(n).data`)."""
    while isinstance(node, (cst.Attribute, cst.Subscript)):
        path = dotted_name(node)
        if path is not None:
            return {path}
        node = node.value
    path = dotted_name(node)
    if path is not None:
        return {path}
    root = root_name(node)
    return {root} if root is not None else set()


def _call_writes(call: cst.Call, view: ModuleView, cls: Block | None, depth: int) -> set[str]:
    func = call.func
    if isinstance(func, cst.Name) and func.value in PURE_BUILTINS:
        return set()
    if isinstance(func, cst.Attribute):
        root = root_name(func.value)
        method = func.attr.value
        if root in LOGGING_ROOTS or isinstance(
            func.value, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)
        ):
            return set()
        if method in MUTATORS or (method.endswith("_") and not method.endswith("__")):
            return _path_of(func.value)
        if root in PURE_NAMESPACES and root not in view.shadowed_builtins:
            return set()
    resolved = view.resolve_call(call, cls) if depth < DEPTH else None
    if resolved is None:
        # Unknown code may change its receiver and anything it is given.
        found: set[str] = set()
        if isinstance(func, cst.Attribute):
            found |= _path_of(func.value)
        for arg in call.args:
            found |= _path_of(arg.value)
        return found
    return _mapped(call, resolved.func, resolved.receiver, resolved.home, resolved.owner, depth)


def _mapped(
    call: cst.Call, func: cst.FunctionDef, receiver: bool, home: ModuleView, owner: Block | None, depth: int
) -> set[str]:
    """What `func`'s body writes, named as the caller sees it: a path under a
    parameter becomes the same path under the argument it was given."""
    memo = home.memo(_mapped)
    key = id(func)
    if key not in memo:
        memo[key] = set()  # recursion guard
        inner: set[str] = set()
        if any(isinstance(n, (cst.Global, cst.Nonlocal)) for n in runs_with(func.body)):
            inner.add("*")  # it writes names outside itself
        for node in func.body.body:
            inner |= _written_here(node)
        for c in _calls_run(func.body):
            inner |= _call_writes(c, home, owner, depth + 1)
        memo[key] = inner
    inner = memo[key]
    params = _params(func)
    bound = _bound(call, func, receiver)
    names = {p.name.value for p in params}
    found: set[str] = set()
    for path in inner:
        head, _, rest = path.partition(".")
        if head == "*":
            found.add("*")
        elif head in bound:
            found |= _as_caller_sees(bound[head], rest)
        elif head in names:
            found.add("*")  # a starred or defaulted parameter: cannot be told
        # Otherwise a local of `func`: nobody outside sees it.
    return found


# -- what a call of the tree reads ----------------------------------------------------


def call_reads(call: cst.Call, view: ModuleView, cls: Block | None) -> set[str] | None:
    """The paths a call of the tree reads through the arguments it is given, named
    as the caller sees them (`_scaled(self, weights)` reads `self.scale` and
    `weights`), or None when the call does not resolve.  A parameter passed on
    whole, or whose methods are called, stands for everything under it."""
    resolved = view.resolve_call(call, cls)
    if resolved is None:
        return None
    func, home = resolved.func, resolved.home
    memo = home.memo(call_reads)
    if id(func) not in memo:
        memo[id(func)] = _body_reads(func)
    inner: set[str] = memo[id(func)]
    bound = _bound(call, func, resolved.receiver)
    local = {p.name.value for p in _params(func)} | rebound([func.body])
    local |= {t for n in descendants(func.body) if isinstance(n, cst.CompFor) for t in target_names(n.target)}
    found: set[str] = set()
    for path in inner:
        head, _, rest = path.partition(".")
        if head in bound:
            found |= _as_caller_sees(bound[head], rest)
        elif head not in local:
            found.add(head)  # a global the function reads
    return found


def _as_caller_sees(given: cst.BaseExpression, rest: str) -> set[str]:
    """`rest` (`scale` of `model.scale`) under the argument given for the parameter."""
    base = dotted_name(given)
    if base is not None:
        return {f"{base}.{rest}" if rest else base}
    return _path_of(given)


def _body_reads(func: cst.FunctionDef) -> set[str]:
    """Paths read in `func`'s body (`model.scale`); a name whose method is called,
    or that is passed on or used whole, counts as read whole (`model`)."""
    found: set[str] = set()
    todo: list[cst.CSTNode] = [func.body]
    while todo:
        node = todo.pop()
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            found |= _path_of(node.func.value)
            todo.append(node.func.value)
            todo.extend(a.value for a in node.args)
            continue
        if isinstance(node, cst.Attribute) and (path := dotted_name(node)) is not None:
            found.add(path)
            continue
        if isinstance(node, cst.Name):
            found.add(node.value)
        todo.extend(children(node))
    return found


def _bound(call: cst.Call, func: cst.FunctionDef, receiver: bool) -> dict[str, cst.BaseExpression]:
    """Each parameter of `func` the call gives a value, with that value."""
    return {param.name.value: value for param, value, _ in bound_arguments(func, call, receiver=receiver)}
