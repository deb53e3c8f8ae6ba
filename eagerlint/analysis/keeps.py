"""Path analysis of a loop body: does it keep every element it is handed?

Each path through one iteration ends with an outcome: KEEP (the element, or a
value derived from it, went into a container that outlives the loop), YIELD,
CONSUME (handed to a call: loaded in place) or DROP (skipped).  The loop is a
drain when the *default* path (the `else` of every branch, the fall-through
past every `if` that diverts a subset) keeps, and no path yields: a generator
that buffers a conditional subset is the acceptable shape, not a drain.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import libcst as cst

from eagerlint.analysis.cst_util import (
    callee_name,
    dotted_name,
    last_part,
    names_in,
    root_name,
    target_names,
    tensor_names,
)
from eagerlint.analysis.views import HelperReturns, derived_views, holds_view
from eagerlint.analysis.walk import descendants, enclosing_blocks, runs_with

KEEP_METHODS = frozenset({"append", "extend", "insert", "add", "appendleft", "update"})
SCALAR_METHODS = frozenset(
    {"item", "tolist", "numel", "dim", "size", "element_size", "nelement", "hexdigest", "digest"}
)
SCALAR_ATTRIBUTES = frozenset({"shape", "dtype", "ndim", "device"})
EMPTYING_METHODS = frozenset({"clear", "pop", "popleft", "popitem"})
# `isinstance(w, T)` of a stream's tensor slot is decided by the (name, tensor)
# element type: true when T names Tensor, false when every T is one of these.
NOT_TENSOR_TYPES = frozenset(
    {
        "dict",
        "OrderedDict",
        "Mapping",
        "list",
        "tuple",
        "str",
        "bytes",
        "int",
        "float",
        "bool",
        "set",
        "frozenset",
    }
)
MAX_PATHS = 512
# Methods of a model that list its own parameters and buffers: a membership test
# against what they return is true for nearly every tensor of its checkpoint.
OWN_STATE_METHODS = frozenset({"named_parameters", "named_buffers", "state_dict"})
# Calls through these names report on an element; they do not load it.
LOGGING_ROOTS = frozenset({"logger", "logging", "log", "print", "warnings", "warn"})


class Outcome(enum.Enum):
    KEEP = "keep"
    YIELD = "yield"
    CONSUME = "consume"
    DROP = "drop"


class Exit(enum.Enum):
    FALL = "fall"
    CONTINUE = "continue"
    BREAK = "break"
    RETURN = "return"
    RAISE = "raise"


@dataclass(frozen=True)
class Path:
    keeps: tuple[cst.CSTNode, ...] = ()
    yields: bool = False
    consumes: bool = False
    # Handed an element itself to a call that is not logging: loaded in place.
    loads: bool = False
    exit: Exit = Exit.FALL
    default: bool = True
    # Went through an explicit `else:` (not merely past an `if` without one).
    via_else: bool = False
    # What it kept inside the branch of an `if` that picks an MoE checkpoint's expert
    # weights (`bulk_test`): most of the checkpoint, not a subset.
    bulk_keeps: tuple[cst.CSTNode, ...] = ()

    def outcome(self) -> Outcome:
        if self.keeps:
            return Outcome.KEEP
        if self.yields:
            return Outcome.YIELD
        return Outcome.CONSUME if self.consumes else Outcome.DROP

    def then(self, other: Path) -> Path:
        return Path(
            self.keeps + other.keeps,
            self.yields or other.yields,
            self.consumes or other.consumes,
            self.loads or other.loads,
            other.exit,
            self.default and other.default,
            self.via_else or other.via_else,
            self.bulk_keeps + other.bulk_keeps,
        )


@dataclass(frozen=True)
class Drain:
    containers: tuple[str, ...]
    keep_site: cst.CSTNode
    paths: tuple[Path, ...]
    # Kept under a test that picks the expert weights (`bulk_test`), not on the default path.
    experts: bool = False


def holds_nothing_of(node: cst.BaseExpression) -> bool:
    """`w.item()`, `w.shape`: a number; `load_one(w)`: what a loader returns;
    `executor.submit(f, w)`: a future, which holds what `f` returns (EL007)."""
    if isinstance(node, cst.Attribute):
        return node.attr.value in SCALAR_ATTRIBUTES
    if not isinstance(node, cst.Call):
        return False
    if isinstance(node.func, cst.Attribute) and node.func.attr.value in SCALAR_METHODS:
        return True
    callee = last_part(callee_name(node))
    return "load" in callee.lower() or callee == "submit"


class _TooManyPaths(Exception):
    pass


@dataclass(frozen=True)
class Retention:
    """Asks the analysis what outlives one iteration, not the whole loop (EL010).

    A buffer-reusing loader overwrites an element on the next `next()`, so what
    counts is any view of it kept past its own iteration: in a container, even
    one emptied later (a pending pair, a bounded batch) or only on some paths,
    in an attribute, in a local another iteration reads (`carried`), or in a
    task handed to an executor; a loop that yields or breaks still keeps what it
    kept.  An owning copy (`views.holds_view`) keeps nothing.
    """

    helpers: HelperReturns
    # Whether a plain local the loop body binds outlives the iteration (it is read
    # after the loop, or bound before it and read in the body).
    carried: Callable[[str], bool]


RETENTION_KEEP_METHODS = KEEP_METHODS | {"setdefault", "put", "put_nowait", "__setitem__"}


# The node classes `_body_facts` reads (all concrete): one pass skips every other node,
# so a branch added there for a class not listed here would never run.
_FACT_TYPES = frozenset(
    (
        cst.AssignTarget,
        cst.AnnAssign,
        cst.AugAssign,
        cst.For,
        cst.NamedExpr,
        cst.WithItem,
        cst.ExceptHandler,
        cst.MatchAs,
        cst.MatchStar,
        cst.Call,
        cst.Del,
    )
)


def _body_facts(body: cst.CSTNode) -> tuple[set[str], set[str], bool]:
    """Names bound inside the loop body, containers emptied there, and whether
    anything in it could keep an element at all (a cheap no for most loops)."""
    bound: set[str] = set()
    emptied: set[str] = set()
    may_keep = False
    for node in descendants(body):
        if type(node) not in _FACT_TYPES:  # most nodes; see walk.SCOPE_TYPES
            continue
        if isinstance(node, (cst.AssignTarget, cst.AnnAssign, cst.AugAssign, cst.For, cst.NamedExpr)):
            bound.update(target_names(node.target))
            may_keep |= isinstance(node, cst.AssignTarget) and isinstance(node.target, cst.Subscript)
        elif isinstance(node, cst.WithItem) and node.asname is not None:
            bound.update(target_names(node.asname.name))
        elif isinstance(node, cst.ExceptHandler) and node.name is not None:
            bound.update(target_names(node.name.name))
        elif isinstance(node, (cst.MatchAs, cst.MatchStar)) and node.name is not None:
            bound.add(node.name.value)
        elif isinstance(node, cst.Call):
            func = node.func
            if isinstance(func, cst.Attribute):
                may_keep |= func.attr.value in KEEP_METHODS
                if func.attr.value in EMPTYING_METHODS:
                    root = root_name(func.value)
                    if root:
                        emptied.add(root)
        elif isinstance(node, cst.Del):
            root = root_name(node.target)
            if root:
                emptied.add(root)
    return bound, emptied, may_keep


class _Analyzer:
    def __init__(self, loop: cst.For, context: Context, retention: Retention | None = None) -> None:
        self.loop = loop
        self.context = context
        self.retention = retention
        self.local, self.emptied, self.may_keep = _body_facts(loop.body)
        self._state_aliases: frozenset[str] | None = None
        # Locals that name part of a container outliving the loop (`bucket =
        # pending.setdefault(prefix, {})`): asked only with a retention.
        self.aliases: dict[str, str] = {}
        if retention is not None:
            self.emptied = set()  # emptied later is still kept past this iteration
            self.elements = derived_views(loop.body, self._element_names(loop.target), retention.helpers)
            self.elements |= _closures(loop.body, self.elements)
            self.aliases = self._container_aliases(loop.body)
        else:
            self.elements = self._element_names(loop.target) if self.may_keep else set()
        # Tensor slots of a `(name, tensor)` target that the body never rebinds.
        self.tensors = self._tensor_slots(loop) - self.local
        if self.elements and retention is None:
            self._derive(loop.body)

    @staticmethod
    def _element_names(target: cst.BaseExpression) -> set[str]:
        return tensor_names(target)

    @staticmethod
    def _tensor_slots(loop: cst.For) -> set[str]:
        """`tensor` in `for name, tensor in weights`: only when the loop reads the
        stream's own `(name, tensor)` pairs (not `enumerate(...)`, `zip(...)`)."""
        target = loop.target
        if not isinstance(loop.iter, (cst.Name, cst.Attribute)):
            return set()
        if isinstance(target, (cst.Tuple, cst.List)) and len(target.elements) == 2:
            second = target.elements[1]
            if type(second) is cst.Element and isinstance(second.value, cst.Name):
                return {second.value.value}
        return set()

    def _known_test(self, test: cst.BaseExpression) -> bool | None:
        """The value of `isinstance(tensor, T)` (or its `not`) for a weight stream."""
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            inner = self._known_test(test.expression)
            return None if inner is None else not inner
        if not (
            isinstance(test, cst.Call)
            and dotted_name(test.func) == "isinstance"
            and len(test.args) == 2
            and isinstance(test.args[0].value, cst.Name)
            and test.args[0].value.value in self.tensors
        ):
            return None
        spec = test.args[1].value
        parts = [el.value for el in spec.elements] if isinstance(spec, cst.Tuple) else [spec]
        types = {last_part(dotted_name(p)) for p in parts}
        if "Tensor" in types:
            return True
        return False if types <= NOT_TENSOR_TYPES else None

    def _derive(self, body: cst.CSTNode) -> None:
        """Names assigned from an expression over an element are elements too."""
        assigns = [n for n in descendants(body) if type(n) is cst.Assign]  # see walk.SCOPE_TYPES
        for _ in range(3):  # chains like a = f(w); b = g(a) settle quickly
            for node in assigns:
                if names_in(node.value) & self.elements and not holds_nothing_of(node.value):
                    for t in node.targets:
                        self.elements.update(tensor_names(t.target))

    def _container_aliases(self, body: cst.CSTNode) -> dict[str, str]:
        """`bucket = pending.setdefault(k, {})`, `group = groups[k]`, and `parts` in
        `pending[k] = parts`: a local that is part of an outer container."""
        aliases: dict[str, str] = {}
        for node in runs_with(body):
            if not isinstance(node, cst.Assign) or len(node.targets) != 1:
                continue
            target, value = node.targets[0].target, node.value
            if isinstance(target, cst.Name) and isinstance(value, (cst.Subscript, cst.Call)):
                root = root_name(value)
                outer = isinstance(value, cst.Subscript) or (
                    isinstance(value.func, cst.Attribute) and value.func.attr.value in ("setdefault", "get")
                )
                if outer and root is not None and root not in self.local:
                    aliases[target.value] = root
            elif isinstance(target, cst.Subscript) and isinstance(value, cst.Name):
                root = root_name(target.value)
                if root is not None and root not in self.local:
                    aliases[value.value] = root
        return aliases

    def _mentions_element(self, node: cst.CSTNode) -> bool:
        return bool(names_in(node) & self.elements)

    def holder(self, site: cst.CSTNode) -> str:
        """What a keep site stores the element in, for the message."""
        if isinstance(site, cst.Expr) and isinstance(site.value, cst.Call):
            call = site.value
            if _is_submit(call):
                return "a task submitted to an executor"
            if dotted_name(call.func) == "setattr":
                return f"an attribute of `{dotted_name(call.args[0].value) or 'an object'}`"
            if isinstance(call.func, cst.Attribute):
                return f"`{self._root_of(call.func.value)}`"
        if isinstance(site, cst.Assign):
            if _is_submit(site.value):
                return "a task submitted to an executor"
            for t in site.targets:
                if isinstance(t.target, cst.Subscript):
                    return f"`{self._root_of(t.target.value)}`"
                if isinstance(t.target, cst.Attribute):
                    return f"`{dotted_name(t.target) or self._root_of(t.target)}`"
                if isinstance(t.target, cst.Name):
                    return f"`{t.target.value}`, which a later iteration or the code after the loop reads"
        if isinstance(site, cst.AugAssign):
            return f"`{dotted_name(site.target) or self._root_of(site.target)}`"
        return "a container"

    def _root_of(self, node: cst.BaseExpression) -> str:
        """`self.qkv_parts` for `self.qkv_parts[name]`; `pending` for a local alias of it."""
        root = root_name(node) or "?"
        if root in self.aliases:
            return self.aliases[root]
        while isinstance(node, cst.Subscript):
            node = node.value
        return dotted_name(node) or root

    def _carries_element(self, node: cst.BaseExpression) -> bool:
        """Whether keeping `node` keeps an element alive.

        `loaded.add(self.embedder.load_weight(name, w))` keeps what a loader
        returned (a name), not `w`: an element that only reaches a call to
        something called `load*` is consumed there.  `executor.submit(f, w)`
        gives a future, which holds what `f` returns, not `w` (EL007 judges
        futures).  A function of the analysed tree declared to return `str`,
        `int`, ... returns no tensor.
        """
        if self.retention is not None:
            return holds_view(node, self.elements, self.retention.helpers)
        if isinstance(node, (cst.Tuple, cst.List)):
            return any(self._carries_element(el.value) for el in node.elements)
        if not self._mentions_element(node):
            return False
        if holds_nothing_of(node):
            return False
        if isinstance(node, cst.Call):
            # A tensor method (`w.to(...)`) is no function of the tree: no lookup.
            on_element = root_name(node.func) in self.elements
            return on_element or not self.context.returns_scalar(node)
        return True

    def _outlives(self, container: cst.BaseExpression) -> str | None:
        root = root_name(container)
        if root is not None and root in self.aliases:
            return self.aliases[root]
        if root is not None and root in self.local and self.retention is not None:
            # `batch = []` again after a flush: the container still spans iterations.
            return root if self.retention.carried(root) else None
        if root is not None and root in self.local and _container_in_state(container):
            if root in self.state_aliases:
                return root
        if root is None or root in self.local or root in self.emptied:
            return None
        return root

    @property
    def state_aliases(self) -> frozenset[str]:
        """Locals the body binds only to a part of `self` (`p = self.up_proj`): a store
        into one of their containers (`p._pending[i] = w`) outlives the iteration."""
        if self._state_aliases is None:
            self._state_aliases = _state_aliases(self.loop.body)
        return self._state_aliases

    # -- one simple statement --------------------------------------------------
    def _small(self, stmt: cst.BaseSmallStatement) -> Path:
        if isinstance(stmt, cst.Continue):
            return Path(exit=Exit.CONTINUE)
        if isinstance(stmt, cst.Break):
            return Path(exit=Exit.BREAK)
        if isinstance(stmt, cst.Return):
            return Path(exit=Exit.RETURN)
        if isinstance(stmt, cst.Raise):
            return Path(exit=Exit.RAISE)
        keep = self._keep(stmt)
        if keep is not None:
            return Path(keeps=(keep,))
        yields = _contains(stmt, cst.Yield)
        calls = _calls(stmt)
        consumes = any(self._mentions_element(call) for call in calls)
        loads = consumes and any(self._loads(call) for call in calls)
        return Path(yields=yields, consumes=consumes, loads=loads)

    def _loads(self, call: cst.Call) -> bool:
        """`weight_loader(param, w)`, `buf.copy_(w)`: an element itself is passed on."""
        if root_name(call.func) in LOGGING_ROOTS:
            return False
        return any(self._carries_element(a.value) for a in call.args)

    def _keep(self, stmt: cst.BaseSmallStatement) -> cst.CSTNode | None:
        if self.retention is not None:
            kept = self._retained(stmt)
            if kept is not None:
                return kept
        methods = KEEP_METHODS if self.retention is None else RETENTION_KEEP_METHODS
        if isinstance(stmt, cst.Expr) and isinstance(stmt.value, cst.Call):
            call = stmt.value
            func = call.func
            if (
                isinstance(func, cst.Attribute)
                and func.attr.value in methods
                and any(self._carries_element(a.value) for a in call.args)
                and self._outlives(func.value)
                and not (func.attr.value == "update" and root_name(func.value) in self.context.other_objects)
            ):
                return stmt  # (`hasher.update(w.numpy())` digests, it keeps nothing)
        if isinstance(stmt, cst.Assign) and self._carries_element(stmt.value):
            for t in stmt.targets:
                if isinstance(t.target, cst.Subscript) and self._outlives(t.target.value):
                    return stmt
        return None

    def _retained(self, stmt: cst.BaseSmallStatement) -> cst.CSTNode | None:
        """What only a retention counts: an attribute store, a carried local, `+=` into
        an outer container, `setattr`, a task submitted with an element."""
        assert self.retention is not None
        if isinstance(stmt, cst.Assign) and self._carries_element(stmt.value):
            if _is_submit(stmt.value):
                return stmt
            for t in stmt.targets:
                if isinstance(t.target, cst.Attribute):
                    return stmt
                if isinstance(t.target, cst.Name) and self.retention.carried(t.target.value):
                    return stmt
        if isinstance(stmt, cst.AugAssign) and self._carries_element(stmt.value):
            target = stmt.target
            if isinstance(target, cst.Attribute) or (
                isinstance(target, (cst.Name, cst.Subscript)) and self._outlives(target)
            ):
                return stmt
        if (
            isinstance(stmt, cst.Expr)
            and isinstance(stmt.value, cst.Call)
            and self._carries_element(stmt.value)
        ):
            call = stmt.value
            if _is_submit(call) or (dotted_name(call.func) == "setattr" and len(call.args) == 3):
                return stmt
        return None

    # -- statements and blocks -------------------------------------------------
    def block(self, stmts: Sequence[cst.BaseStatement]) -> list[Path]:
        paths = [Path()]
        before = set(self.elements)
        for stmt in stmts:
            alternatives = self.statement(stmt)
            nxt: list[Path] = []
            for p in paths:
                if p.exit is not Exit.FALL:
                    nxt.append(p)
                else:
                    nxt.extend(p.then(q) for q in alternatives)
            if len(nxt) > MAX_PATHS:
                raise _TooManyPaths
            paths = nxt
            if self.retention is not None:
                self._rebound(stmt)
        if self.retention is not None:
            self.elements = before  # what this block rebinds is its own business
        return paths

    def _rebound(self, stmt: cst.BaseStatement) -> None:
        """`w = w.clone()`: from here on in this block `w` owns its storage (and
        `w = w.t()` keeps it a view).  The derivation up front cannot tell: it
        does not know the order of the statements."""
        if not isinstance(stmt, cst.SimpleStatementLine):
            return
        assert self.retention is not None
        for small in stmt.body:
            if isinstance(small, cst.Assign) and all(isinstance(t.target, cst.Name) for t in small.targets):
                view = holds_view(small.value, self.elements, self.retention.helpers)
                for t in small.targets:
                    name = t.target.value  # type: ignore[attr-defined]
                    if view:
                        self.elements.add(name)
                    else:
                        self.elements.discard(name)

    def _suite(self, suite: cst.BaseSuite) -> list[Path]:
        if isinstance(suite, cst.SimpleStatementSuite):
            return self._simple(suite.body)
        return self.block(suite.body)  # type: ignore[arg-type]

    def _simple(self, body: Sequence[cst.BaseSmallStatement]) -> list[Path]:
        path = Path()
        for small in body:
            path = path.then(self._small(small))
            if path.exit is not Exit.FALL:
                break
        return [path]

    def statement(self, stmt: cst.BaseStatement) -> list[Path]:
        if isinstance(stmt, cst.SimpleStatementLine):
            return self._simple(stmt.body)
        if isinstance(stmt, cst.If):
            known = self._known_test(stmt.test)
            if known is not None:  # decided by the element type: no branch
                return self._suite(stmt.body) if known else self._orelse(stmt.orelse)
            if self.context.own_membership(stmt.test, self.local):
                # True for nearly every tensor: the body is the default path, the else the rare one.
                return self._suite(stmt.body) + [_not_default(p) for p in self._orelse(stmt.orelse)]
            taken = [_not_default(p) for p in self._suite(stmt.body)]
            if bulk_test(stmt.test):
                taken = [dataclasses.replace(p, bulk_keeps=p.keeps) for p in taken]
            elif narrows(stmt.test):
                # `if name.endswith("_scale"):` around it: what is kept inside is small.
                taken = [dataclasses.replace(p, bulk_keeps=()) for p in taken]
            return taken + self._orelse(stmt.orelse)
        if isinstance(stmt, (cst.For, cst.While)):
            # One pass of an inner loop; its break/continue stay inside it.
            inner = [_not_default(_fall(p)) for p in self._suite(stmt.body)]
            return inner + self._orelse(stmt.orelse)
        if isinstance(stmt, cst.With):
            return self._suite(stmt.body)
        if isinstance(stmt, cst.Try):
            body = self._suite(stmt.body)
            handlers = [_not_default(p) for h in stmt.handlers for p in self._suite(h.body)]
            paths = body + handlers
            if stmt.finalbody is not None:
                fin = self._suite(stmt.finalbody.body)
                paths = [p.then(q) for p in paths for q in fin]
            return paths
        if isinstance(stmt, cst.Match):
            return [_not_default(p) for case in stmt.cases for p in self._suite(case.body)]
        return [Path()]  # def, class: nothing runs per element

    def _orelse(self, orelse: cst.If | cst.Else | None) -> list[Path]:
        if orelse is None:
            return [Path()]
        if isinstance(orelse, cst.If):
            return self.statement(orelse)
        return [dataclasses.replace(p, via_else=True) for p in self._suite(orelse.body)]


def bound_only_to(body: cst.CSTNode, ok: Callable[[cst.BaseExpression], bool]) -> frozenset[str]:
    """Names `body` binds (in any branch) only by plain assignment to values `ok`
    accepts, never otherwise (an augmented assignment, a loop or `with` target, `:=`)."""
    only: dict[str, bool] = {}
    for node in runs_with(body):
        if isinstance(node, cst.Assign):
            for t in node.targets:
                fine = isinstance(t.target, cst.Name) and ok(node.value)
                for name in target_names(t.target):
                    only[name] = only.get(name, True) and fine
        elif isinstance(node, cst.AnnAssign) and isinstance(node.target, cst.Name):
            name = node.target.value
            only[name] = only.get(name, True) and node.value is not None and ok(node.value)
        elif isinstance(node, (cst.AnnAssign, cst.AugAssign, cst.For, cst.NamedExpr)):
            for name in target_names(node.target):
                only[name] = False
        elif isinstance(node, cst.WithItem) and node.asname is not None:
            for name in target_names(node.asname.name):
                only[name] = False
    return frozenset(name for name, fine in only.items() if fine)


def _state_aliases(body: cst.CSTNode) -> frozenset[str]:
    """Names `body` binds only to `None` or to an attribute of `self` (`p = self.up`,
    in any branch), never to anything else."""
    return bound_only_to(body, _part_of_self) - {"self"}


def _part_of_self(value: cst.BaseExpression) -> bool:
    """`None`, or `self.a.b`: attributes only (no call, no subscript)."""
    if isinstance(value, cst.Name):
        return value.value == "None"
    node: cst.BaseExpression = value
    while isinstance(node, cst.Attribute):
        node = node.value
    return node is not value and isinstance(node, cst.Name) and node.value == "self"


def _container_in_state(container: cst.BaseExpression) -> bool:
    """`p._pending` in `p._pending[i] = w`: an attribute of the alias, not the alias
    itself nor its `.data` (`p[i] = w`, `p.data[i] = w` copy into a tensor)."""
    if not isinstance(container, cst.Attribute):
        return False
    node: cst.BaseExpression = container
    while isinstance(node, cst.Attribute):
        if node.attr.value == "data":
            return False
        node = node.value
    return isinstance(node, cst.Name)


def _is_submit(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Call) and last_part(callee_name(node)) == "submit"


def _closures(body: cst.CSTNode, elements: set[str]) -> set[str]:
    """Functions defined in the loop body that read an element: keeping one keeps it."""
    return {
        n.name.value
        for n in runs_with(body)
        if isinstance(n, cst.FunctionDef) and names_in(n.body) & elements
    }


def _not_default(p: Path) -> Path:
    return dataclasses.replace(p, default=False)


def _fall(p: Path) -> Path:
    if p.exit in (Exit.BREAK, Exit.CONTINUE):
        return dataclasses.replace(p, exit=Exit.FALL)
    return p


def _contains(node: cst.CSTNode, kind: type[cst.CSTNode]) -> bool:
    return any(isinstance(n, kind) for n in descendants(node))


def _calls(node: cst.CSTNode) -> list[cst.Call]:
    return [n for n in descendants(node) if isinstance(n, cst.Call)]


class Context:
    """What the function around a loop says about names and calls in it, asked
    only when a loop can keep something at all."""

    def __init__(
        self,
        func: cst.FunctionDef | None = None,
        returns_scalar: Callable[[cst.Call], bool] = lambda call: False,
        stack: Sequence[cst.CSTNode] = (),
    ) -> None:
        self._func = func
        # The loop's ancestors, ending with it: where its function binds names before it.
        self._stack = stack
        self._other_objects: frozenset[str] | None = None
        # id(loop) -> (loop, its paths): a loop is asked for its drain and its keeps.
        self.paths: dict[int, tuple[cst.For, list[Path] | None]] = {}
        # Whether a call is to a function declared to return a scalar (`-> str`).
        self.returns_scalar = returns_scalar

    @property
    def other_objects(self) -> frozenset[str]:
        """Local names bound only to hash objects (see `other_objects`)."""
        if self._other_objects is None:
            self._other_objects = other_objects(self._func) if self._func is not None else frozenset()
        return self._other_objects

    def own_membership(self, test: cst.BaseExpression, loop_local: set[str]) -> bool:
        """`name in params_dict`, `name in self.state_dict()`: a test against the
        model's own parameters or buffers, true for nearly every tensor of its
        checkpoint, so it bounds nothing (a typo'd or foreign name is the rare case).
        A local counts when its last binding before the loop, in a block around it,
        is such a mapping and the loop body does not rebind it (`loop_local`)."""
        if not (
            type(test) is cst.Comparison
            and len(test.comparisons) == 1
            and type(test.comparisons[0].operator) is cst.In
        ):
            return False
        mapping = test.comparisons[0].comparator
        if type(mapping) is not cst.Name:
            return own_state_value(mapping)
        name = mapping.value
        if name in loop_local:
            return False
        for body, index in enclosing_blocks(self._stack):
            for stmt in reversed(body[:index]):
                if name not in names_in(stmt):
                    continue
                value = _plain_binding(stmt, name)
                if value is not None:
                    return own_state_value(value)
                if name in _body_facts(stmt)[0]:
                    return False  # bound otherwise, or in a branch: not known
        return False


def _plain_binding(stmt: cst.CSTNode, name: str) -> cst.BaseExpression | None:
    """The value of a statement line `name = value` or `name: T = value`, else None."""
    if type(stmt) is not cst.SimpleStatementLine or len(stmt.body) != 1:
        return None
    small = stmt.body[0]
    if type(small) is cst.Assign and len(small.targets) == 1:
        target: cst.BaseExpression = small.targets[0].target
    elif type(small) is cst.AnnAssign and small.value is not None:
        target = small.target
    else:
        return None
    return small.value if type(target) is cst.Name and target.value == name else None


def own_state_value(value: cst.BaseExpression) -> bool:
    """`dict(self.named_parameters())`, `self.state_dict()`, `dict(self.model.named_buffers())`,
    and a dict comprehension over one of them that keeps all but what an `if not ...`
    leaves out: the model's own parameters or buffers.  A comprehension that keeps only
    what a test picks (`if n.startswith("head.")`) may be a small part."""
    if type(value) is cst.Call and dotted_name(value.func) == "dict" and len(value.args) == 1:
        value = value.args[0].value
    elif type(value) is cst.DictComp:
        comp = value.for_in
        if comp.inner_for_in is not None or not all(_leaves_out(c.test) for c in comp.ifs):
            return False
        value = comp.iter
        if type(value) is cst.Call and type(value.func) is cst.Attribute and value.func.attr.value == "items":
            return own_state_value(value.func.value)
    if not (type(value) is cst.Call and type(value.func) is cst.Attribute):
        return False
    return value.func.attr.value in OWN_STATE_METHODS and root_name(value.func.value) == "self"


def _leaves_out(test: cst.BaseExpression) -> bool:
    return type(test) is cst.UnaryOperation and type(test.operator) is cst.Not


# Objects whose `update(...)` digests its argument and keeps none of it.
HASHERS = frozenset(
    {"sha1", "sha224", "sha256", "sha384", "sha512", "md5", "blake2b", "blake2s"}
    | {"sha3_224", "sha3_256", "sha3_384", "sha3_512", "shake_128", "shake_256"}
)
HASH_MODULES = frozenset({"hashlib", "hmac", "xxhash"})


def _is_hasher(value: cst.BaseExpression) -> bool:
    if not isinstance(value, cst.Call):
        return False
    name = callee_name(value) or ""
    last = last_part(name)
    return last in HASHERS or last.startswith("xxh") or name.split(".")[0] in HASH_MODULES


def other_objects(func: cst.FunctionDef) -> frozenset[str]:
    """Local names `func` itself binds only to hash objects (`hashlib.sha256()`,
    `hmac.new(...)`): their `update(...)` keeps nothing."""
    return bound_only_to(func.body, _is_hasher)


def _loop_paths(loop: cst.For, context: Context | None) -> list[Path] | None:
    """Every path through one iteration, or None when nothing in the loop can keep,
    when the loop yields (a generator buffering a subset: the acceptable shape) or
    may stop early (a bounded probe).  Computed once per loop and context."""
    context = context or Context()
    found = context.paths.get(id(loop))
    if found is not None and found[0] is loop:
        return found[1]
    paths = _iteration_paths(loop, context)
    context.paths[id(loop)] = (loop, paths)
    return paths


def _iteration_paths(loop: cst.For, context: Context) -> list[Path] | None:
    analyzer = _Analyzer(loop, context)
    if not analyzer.elements:
        return None
    try:
        paths = analyzer.block(loop.body.body)  # type: ignore[arg-type]
    except _TooManyPaths:
        return None
    iteration = [p for p in paths if p.exit not in (Exit.RETURN, Exit.RAISE)]
    if any(p.yields for p in iteration):
        return None
    if any(p.exit in (Exit.BREAK, Exit.RETURN) for p in paths):
        return None
    return paths


def find_keeps(loop: cst.For, context: Context | None = None) -> Drain | None:
    """Every container the loop keeps elements in, on any path (not only the default
    one): what a loop buffers for later."""
    paths = _loop_paths(loop, context)
    if paths is None:
        return None
    iteration = [p for p in paths if p.exit not in (Exit.RETURN, Exit.RAISE)]
    sites = [k for p in iteration for k in p.keeps]
    if not sites:
        return None
    containers = list(dict.fromkeys(n for s in sites if (n := container_of(s)) is not None))
    return Drain(tuple(containers), sites[0], tuple(iteration))


@dataclass(frozen=True)
class Retained:
    """A statement that keeps a view of an element past its iteration, and what holds it."""

    site: cst.CSTNode
    holder: str


def find_retained(
    loop: cst.For, retention: Retention, context: Context | None = None
) -> tuple[Retained, ...]:
    """Every place a view of an element is kept past its own iteration, on any
    path, also in a loop that yields or stops early: what a buffer-reusing loader
    overwrites before it is used."""
    analyzer = _Analyzer(loop, context or Context(), retention)
    if not analyzer.elements:
        return ()
    try:
        paths = analyzer.block(loop.body.body)  # type: ignore[arg-type]
    except _TooManyPaths:
        return ()
    sites = list({id(k): k for p in paths for k in p.keeps}.values())
    return tuple(Retained(site, analyzer.holder(site)) for site in sites)


def find_drain(loop: cst.For, context: Context | None = None) -> Drain | None:
    """The containers a loop drains its iterable into, or None."""
    paths = _loop_paths(loop, context)
    if paths is None:
        return None
    iteration = [p for p in paths if p.exit not in (Exit.RETURN, Exit.RAISE)]
    bulk = [k for p in iteration for k in p.bulk_keeps]
    if bulk:
        bulk_containers = tuple(dict.fromkeys(n for k in bulk if (n := container_of(k)) is not None))
        return Drain(bulk_containers, bulk[0], tuple(iteration), experts=True)
    default = [p for p in iteration if p.default]
    rejects = [p for p in paths if p.default and p.exit is Exit.RAISE and p.via_else]
    if not default and not rejects:
        return None
    outcomes = {p.outcome() for p in default} or {Outcome.DROP}
    if outcomes == {Outcome.DROP} and all(p.via_else for p in default):
        # `else: log("unexpected weight")` or `else: raise`: the data flows
        # through the branches; a drain when they mostly keep.
        kept = sum(1 for p in iteration if p.outcome() is Outcome.KEEP)
        consumed = sum(1 for p in iteration if p.outcome() is Outcome.CONSUME)
        if kept <= consumed:
            return None
    elif outcomes != {Outcome.KEEP}:
        return None
    sites = [k for p in iteration for k in p.keeps]
    containers: list[str] = []
    for site in sites:
        name = container_of(site)
        if name and name not in containers:
            containers.append(name)
    site = next(k for p in [*default, *iteration] for k in p.keeps)
    return Drain(tuple(containers), site, tuple(iteration))


# Words in a test that picks an MoE checkpoint's expert weights, and words that
# narrow it to their small companions.
_EXPERT = re.compile(r"expert", re.IGNORECASE)
_SMALL_PART = re.compile(r"scale|bias|norm|router|gate\b|zero|shared", re.IGNORECASE)


_ORDERING = (cst.LessThan, cst.LessThanEqual, cst.GreaterThan, cst.GreaterThanEqual)


# Comparisons that pick the other side or a share: `not in`, `is None`, ordering.
_NOT_BULK = (cst.NotIn, cst.Is, *_ORDERING)


def bulk_test(test: cst.BaseExpression) -> bool:
    """A test that picks the expert weights of an MoE checkpoint, most of its bytes:
    it names experts (`"experts" in name`, `is_expert`, `expert_id is not None`), and
    nothing narrows them to scales, biases, norms or the router, to a range or set
    of expert ids (`lo <= expert_id < hi`, `expert_id in self.local_ids`: one rank's
    share), or turns it round (`not`, `not in`, `is None`)."""
    nodes = list(descendants(test))
    words = [n.value for n in nodes if isinstance(n, (cst.Name, cst.SimpleString))]
    if not any(_EXPERT.search(w) for w in words) or narrows(test):
        return False
    for node in nodes:
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not):
            return False
        if isinstance(node, cst.Comparison):
            for target in node.comparisons:
                if isinstance(target.operator, _NOT_BULK):
                    return False
                # A name test (`"experts" in name`), not a set of ids.
                if isinstance(target.operator, cst.In) and not isinstance(node.left, cst.SimpleString):
                    return False
    return True


def narrows(test: cst.BaseExpression) -> bool:
    """A test that names the small companions of weights: scales, biases, norms, the router."""
    return any(
        isinstance(n, (cst.Name, cst.SimpleString)) and _SMALL_PART.search(n.value) is not None
        for n in descendants(test)
    )


def container_labels(drain: Drain) -> tuple[str, ...]:
    """The drain's containers as a reader names them: one rooted at `self` by its
    attribute (`self.expert_buffer`, not `self`)."""
    found = (container_label(k) for p in drain.paths for k in p.keeps if container_of(k) in drain.containers)
    return tuple(dict.fromkeys(n for n in found if n is not None))


def container_label(stmt: cst.CSTNode) -> str | None:
    """`self.buffer` for a keep into `self.buffer[...]`/`self.buffer.append(...)`;
    any other container by its root name (`container_of`)."""
    node: cst.BaseExpression | None = None
    if isinstance(stmt, cst.Expr) and isinstance(stmt.value, cst.Call):
        node = stmt.value.func
    elif isinstance(stmt, cst.Assign):
        node = next((t.target for t in stmt.targets if isinstance(t.target, cst.Subscript)), None)
    while node is not None:
        if (
            isinstance(node, cst.Attribute)
            and isinstance(node.value, cst.Name)
            and node.value.value == "self"
        ):
            return f"self.{node.attr.value}"
        node = getattr(node, "func", None) or getattr(node, "value", None)
        if not isinstance(node, cst.BaseExpression) or isinstance(node, cst.Name):
            break
    return container_of(stmt)


def container_of(stmt: cst.CSTNode) -> str | None:
    if isinstance(stmt, cst.Expr) and isinstance(stmt.value, cst.Call):
        func = stmt.value.func
        if isinstance(func, cst.Attribute):
            return root_name(func.value)
    if isinstance(stmt, cst.Assign):
        for t in stmt.targets:
            if isinstance(t.target, cst.Subscript):
                return root_name(t.target.value)
    return None


def optional_remainder(drain: Drain, following: Sequence[cst.CSTNode]) -> bool:
    """Whether the loop loads in place and keeps only a remainder the code itself
    treats as optional.

    `if regular_weights: loader.load_weights(regular_weights)` after a loop whose
    branches load elements in place says, in the code, that the default path is
    a fallback which may stay empty: the names the in-place branches do not
    handle.  A loop that loads nothing in place (every element is sorted into
    containers) is a drain however its containers are consumed.
    """
    if not any(p.loads and not p.keeps for p in drain.paths):
        return False
    default = {
        name for p in drain.paths if p.default for k in p.keeps if (name := container_of(k)) is not None
    }
    return bool(default) and all(_only_used_if_nonempty(name, following) for name in default)


def _only_used_if_nonempty(name: str, following: Sequence[cst.CSTNode]) -> bool:
    uses = [stmt for stmt in following if name in names_in(stmt)]
    return (
        len(uses) == 1
        and isinstance(uses[0], cst.If)
        and _tests_nonempty(uses[0].test, name)
        and (uses[0].orelse is None or name not in names_in(uses[0].orelse))
    )


def _tests_nonempty(test: cst.BaseExpression, name: str) -> bool:
    """`if c:`, `if c and ...:`, `if len(c):`, `if len(c) > 0:`."""
    if isinstance(test, cst.Name):
        return test.value == name
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        return _tests_nonempty(test.left, name) or _tests_nonempty(test.right, name)
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        target = test.comparisons[0]
        zero = isinstance(target.comparator, cst.Integer) and target.comparator.value == "0"
        return (
            zero
            and isinstance(target.operator, (cst.GreaterThan, cst.NotEqual))
            and _is_len_of(test.left, name)
        )
    return _is_len_of(test, name)


def _is_len_of(node: cst.BaseExpression, name: str) -> bool:
    return (
        isinstance(node, cst.Call)
        and dotted_name(node.func) == "len"
        and len(node.args) == 1
        and isinstance(node.args[0].value, cst.Name)
        and node.args[0].value.value == name
    )


def following_statements(stack: Sequence[cst.CSTNode]) -> list[cst.CSTNode]:
    """Every statement that can run after `stack[-1]` in its function: the rest of
    its own block, then the rest of each enclosing block out to the function body."""
    return [stmt for body, index in enclosing_blocks(stack) for stmt in body[index + 1 :]]
