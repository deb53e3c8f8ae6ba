"""Follow weight streams through one function.

A `FunctionWalker` visits a function body in source order, keeping an
environment from local names to the weight-carrying value they hold.  A binding
takes effect when its statement is left, so `weights = [f(w) for w in weights]`
reads the stream on the right and rebinds the name to a list on the left;
rebinding a name to anything else ends its stream.  Wherever a weight-carrying
value meets a construct that may keep or consume it, the walker records an
`Event` with the ancestor chain; `materialize` and `consume` say what the event
means, and the rules word it.

What the walker asks of the module around it (the options, the builtins it
shadows, what a called helper does with a parameter) is the `FlowContext`
protocol; `analysis/module.py` implements it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple, Protocol

import libcst as cst

from eagerlint.analysis import streams
from eagerlint.analysis.cst_util import callee_name, last_part, names_in, target_names, tensor_names
from eagerlint.analysis.walk import StackVisitor, runs_with
from eagerlint.model import AnalysisOptions
from eagerlint.outline import Block

if TYPE_CHECKING:
    from eagerlint.analysis.source import ModuleSource


class ValueKind(enum.Enum):
    STREAM = "stream"  # lazy: iterating it pulls weights one by one
    MATERIALIZED = "materialized"  # a container already holding streamed weights


class Step(NamedTuple):
    """A flow step before positions are known: positions are computed only for the
    few steps that end up in a finding, by the source the node belongs to."""

    node: cst.CSTNode
    note: str
    source: ModuleSource


# (id of a function, name of its parameter): where a value entered a function.
Seed = tuple[int, str]


@dataclass(frozen=True)
class WeightValue:
    kind: ValueKind
    steps: tuple[Step, ...]
    # The function parameter this value entered through, if any.
    seed: Seed | None = None
    # Materialized by a helper that keeps every element (a partition of the stream).
    drained_by_helper: bool = False
    # One branch of an `itertools.tee` of a stream: (id of the tee call, branch index).
    branch: tuple[int, int] | None = None

    def then(self, step: Step, kind: ValueKind | None = None, *, by_helper: bool = False) -> WeightValue:
        return WeightValue(kind or self.kind, (*self.steps, step), self.seed, by_helper, self.branch)

    def as_branch(self, step: Step, tee: int, index: int) -> WeightValue:
        return WeightValue(ValueKind.STREAM, (*self.steps, step), self.seed, False, (tee, index))


class EventKind(enum.Enum):
    COMPREHENSION = "comprehension"  # [.. for .. in S], {..}, {k: v ..}
    COLLECTION_CALL = "collection call"  # list(S), tuple(S), sorted(S), ...
    STAR_UNPACK = "star unpack"  # [*S], (*S,), {*S}
    FOR_LOOP = "for loop"  # for .. in S:
    CALL_ARG = "call argument"  # f(.., S, ..)


@dataclass(frozen=True)
class Where:
    """Where a finding sits: the ancestors of its node (outermost first, from the
    enclosing function), the function, its class, and the parameter the value
    entered through."""

    stack: tuple[cst.CSTNode, ...]
    function: cst.FunctionDef
    cls: Block | None
    seed: Seed | None = None


@dataclass(frozen=True)
class Event:
    kind: EventKind
    node: cst.CSTNode
    operand: cst.BaseExpression
    value: WeightValue
    # Ancestors of `node`, outermost first, ending with the enclosing function.
    stack: tuple[cst.CSTNode, ...]
    function: cst.FunctionDef
    cls: Block | None

    @property
    def where(self) -> Where:
        return Where(self.stack, self.function, self.cls, self.value.seed)


COLLECTION_BUILTINS = frozenset({"list", "tuple", "set", "frozenset", "dict", "sorted"})


@dataclass(frozen=True)
class HelperSummary:
    """What a function does with one parameter when handed a weight stream."""

    name: str
    # The flow from the parameter to the materialization, when it keeps everything.
    drain_flow: tuple[Step, ...] | None
    # A generator or generator-returning function that hands the weights on lazily.
    preserves: bool
    # Returns this many lazy views, one per branch of an `itertools.tee` of the parameter.
    returns_tee: int = 0
    # Where it reads the whole stream before returning (a loop, `any(...)`, a drain):
    # after the call, the caller's one-shot stream is used up.
    consumed_at: Step | None = None
    # Reads the parameter exactly once, by iterating it in order to the end: a
    # generator serves it as well as a list does.
    single_pass: bool = False
    # Where it reads the parameter again, while or after reading it (EL008's shapes;
    # the note says how): a list serves that, a one-shot generator does not.
    second_pass: Step | None = None


class FlowContext(Protocol):
    """What a walker asks of the module around it."""

    @property
    def options(self) -> AnalysisOptions: ...

    @property
    def shadowed_builtins(self) -> frozenset[str]: ...

    def step(self, node: cst.CSTNode, note: str) -> Step: ...

    def helper_summary(self, call: cst.Call, cls: Block | None, arg: cst.Arg) -> HelperSummary | None:
        """What the function of the analysed tree called by `call` does with `arg`'s parameter."""
        ...


class FunctionWalker(StackVisitor):
    def __init__(
        self,
        view: FlowContext,
        function: cst.FunctionDef,
        cls: Block | None,
        env: dict[str, WeightValue | None],
    ) -> None:
        self.view = view
        self.function = function
        self.cls = cls
        self.env = env
        self.stack: list[cst.CSTNode] = []
        self.events: list[Event] = []
        # Loop variables that hold elements of a stream, and whether this
        # function hands stream elements on lazily (yield / return a stream).
        self.element_vars: set[str] = set()
        self.preserves = False
        self.returns_tee = 0
        # Generator functions defined in this body that hand on elements of a
        # stream: calling one gives a stream.
        self.local_generators: set[str] = set()

    # -- traversal bookkeeping -------------------------------------------------
    def run(self) -> list[Event]:
        self.stack.append(self.function)
        self.walk(self.function.body)
        return self.events

    def _emit(
        self, kind: EventKind, node: cst.CSTNode, operand: cst.BaseExpression, value: WeightValue
    ) -> None:
        self.events.append(Event(kind, node, operand, value, tuple(self.stack), self.function, self.cls))

    def _step(self, node: cst.CSTNode, note: str) -> Step:
        return self.view.step(node, note)

    # -- values ----------------------------------------------------------------
    def value_of(self, expr: cst.BaseExpression) -> WeightValue | None:
        # Concrete classes, tested by type (see `walk.SCOPE_TYPES`): most expressions miss them all.
        if type(expr) is cst.Name:
            return self.env.get(expr.value)
        if type(expr) is cst.GeneratorExp:
            inner = self.value_of(expr.for_in.iter)
            if inner is not None and inner.kind is ValueKind.STREAM:
                return inner.then(self._step(expr, "lazily transformed by a generator expression"))
            if streams.is_handle_pairs(expr):
                note = "stream of `(name, get_tensor(name))` pairs read from a file handle"
                return WeightValue(ValueKind.STREAM, (self._step(expr, note),))
            return None
        if type(expr) is cst.ListComp or type(expr) is cst.SetComp or type(expr) is cst.DictComp:
            inner = self.value_of(expr.for_in.iter)
            if inner is None:
                return None
            return inner.then(self._step(expr, "materialized by a comprehension"), ValueKind.MATERIALIZED)
        if type(expr) is cst.Call:
            return self._call_value(expr)
        if type(expr) is cst.IfExp:
            # `w.items() if isinstance(w, Mapping) else w`: a stream is no Mapping.
            branch = streams.container_guard(expr)
            return None if branch is None else self.value_of(branch)
        return None

    def _call_value(self, call: cst.Call) -> WeightValue | None:
        options = self.view.options
        if streams.is_producer_call(call, options):
            return WeightValue(
                ValueKind.STREAM, (self._step(call, f"stream produced by {callee_name(call)}()"),)
            )
        if isinstance(call.func, cst.Name) and call.func.value in self.local_generators:
            note = f"stream produced by the nested generator {call.func.value}()"
            return WeightValue(ValueKind.STREAM, (self._step(call, note),))
        name = last_part(callee_name(call))
        for operand in streams.lazy_wrapper_operands(call):
            inner = self.value_of(operand)
            if inner is not None and inner.kind is ValueKind.STREAM:
                return inner.then(self._step(call, f"lazily wrapped by {name}()"))
        args = [a.value for a in call.args]
        if name in COLLECTION_BUILTINS and args and name not in self.view.shadowed_builtins:
            inner = self.value_of(args[0])
            if inner is not None:
                return inner.then(self._step(call, f"materialized by {name}()"), ValueKind.MATERIALIZED)
        if streams.is_weights_mapper_apply(call) and args:
            inner = self.value_of(args[0])
            if inner is not None and inner.kind is ValueKind.STREAM:
                return inner.then(self._step(call, "renamed lazily by a WeightsMapper"))
        for arg in call.args:
            inner = self.value_of(arg.value)
            if inner is None:
                continue
            summary = self.view.helper_summary(call, self.cls, arg)
            if summary is None:
                continue
            if summary.drain_flow is not None:
                return inner.then(
                    self._step(call, f"drained into containers by {summary.name}()"),
                    ValueKind.MATERIALIZED,
                    by_helper=True,
                )
            if summary.preserves and inner.kind is ValueKind.STREAM:
                return inner.then(self._step(call, f"passed through generator {summary.name}()"))
        return None

    # -- bindings (take effect when the statement is left) ---------------------
    def _bind(self, target: cst.BaseExpression, value: WeightValue | None) -> None:
        for name in target_names(target):
            self.env[name] = value
            self.local_generators.discard(name)

    def leave_Assign(self, original_node: cst.Assign) -> None:
        if self._bind_tee(original_node):
            return
        value = self.value_of(original_node.value)
        for t in original_node.targets:
            unpacked = _unpacked(t.target, original_node.value, value, self.view.options)
            if unpacked is None:
                self._bind(t.target, value)
                continue
            self._bind(t.target, None)
            elements = t.target.elements  # type: ignore[attr-defined]
            if unpacked == "elements" and value is not None:
                if any(isinstance(el, cst.StarredElement) for el in elements):
                    # `first, *rest = weights`: the starred name is a list of the rest.
                    self._emit(EventKind.STAR_UNPACK, t.target, original_node.value, value)
            elif unpacked == "producer" and value is not None:
                head = elements[0] if elements else None
                if type(head) is cst.Element and isinstance(head.value, cst.Name):
                    note = "first item of the tuple a producer returned"
                    self._bind(head.value, value.then(self._step(head.value, note)))

    def _bind_tee(self, node: cst.Assign) -> bool:
        """`a, b = tee(s)`, or a helper that returns lazy views of a tee of `s`."""
        call, target = node.value, node.targets[0].target
        if len(node.targets) != 1 or not isinstance(call, cst.Call) or not isinstance(target, cst.Tuple):
            return False
        arity = len(target.elements)
        helper = ""
        if last_part(callee_name(call)) == "tee" and call.args:
            source = self.value_of(call.args[0].value)
        else:
            source = None
            for arg in call.args:
                inner = self.value_of(arg.value)
                summary = self.view.helper_summary(call, self.cls, arg) if inner is not None else None
                if summary is not None and summary.returns_tee == arity:
                    source, helper = inner, summary.name
                    break
        if source is None or source.kind is not ValueKind.STREAM:
            return False
        note = f"split by {helper}() into tee branches" if helper else "split by itertools.tee"
        for index, element in enumerate(target.elements):
            if isinstance(element.value, cst.Name):
                self.env[element.value.value] = source.as_branch(self._step(call, note), id(call), index)
        return True

    def leave_AnnAssign(self, original_node: cst.AnnAssign) -> None:
        if original_node.value is not None:
            self._bind(original_node.target, self.value_of(original_node.value))

    def leave_AugAssign(self, original_node: cst.AugAssign) -> None:
        self._bind(original_node.target, None)

    def leave_NamedExpr(self, original_node: cst.NamedExpr) -> None:
        self._bind(original_node.target, self.value_of(original_node.value))

    def visit_AsName(self, node: cst.AsName) -> None:
        self._bind(node.name, None)

    def visit_Del(self, node: cst.Del) -> None:
        self._bind(node.target, None)

    # -- events ----------------------------------------------------------------
    def visit_For(self, node: cst.For) -> None:
        value = self.value_of(node.iter)
        if value is not None:
            self._emit(EventKind.FOR_LOOP, node, node.iter, value)
        self._bind(node.target, None)
        if value is not None and value.kind is ValueKind.STREAM:
            self.element_vars |= tensor_names(node.target)

    def visit_Yield(self, node: cst.Yield) -> None:
        if isinstance(node.value, cst.From):
            value = self.value_of(node.value.item)
            self.preserves |= value is not None and value.kind is ValueKind.STREAM
        elif node.value is not None:
            self.preserves |= bool(names_in(node.value) & self.element_vars)

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is None:
            return
        value = self.value_of(node.value)
        self.preserves |= value is not None and value.kind is ValueKind.STREAM
        if isinstance(node.value, cst.Tuple):
            parts = [self.value_of(el.value) for el in node.value.elements]
            branches = {p.branch for p in parts if p is not None and p.kind is ValueKind.STREAM}
            tees = {b[0] for b in branches if b is not None}
            if len(tees) == 1 and len(branches) == len(parts) and None not in branches:
                self.returns_tee = len(parts)

    def _comprehension(self, node: cst.ListComp | cst.SetComp | cst.DictComp) -> None:
        value = self.value_of(node.for_in.iter)
        if value is not None:
            self._emit(EventKind.COMPREHENSION, node, node.for_in.iter, value)

    def visit_ListComp(self, node: cst.ListComp) -> None:
        self._comprehension(node)

    def visit_SetComp(self, node: cst.SetComp) -> None:
        self._comprehension(node)

    def visit_DictComp(self, node: cst.DictComp) -> None:
        self._comprehension(node)

    def visit_Call(self, node: cst.Call) -> None:
        name = last_part(callee_name(node))
        args = [a for a in node.args if a.keyword is None and a.star == ""]
        if (
            name in COLLECTION_BUILTINS
            and isinstance(node.func, cst.Name)
            and len(node.args) >= 1
            and args
            and args[0] is node.args[0]
        ):
            value = self.value_of(args[0].value)
            if value is not None:
                self._emit(EventKind.COLLECTION_CALL, node, args[0].value, value)
                return
        for arg in node.args:
            if arg.keyword is None and arg.star == "":
                value = self.value_of(arg.value)
                if value is not None:
                    self._emit(EventKind.CALL_ARG, node, arg.value, value)

    def _star(self, node: cst.List | cst.Tuple | cst.Set) -> None:
        if _is_target(node, self.stack):
            return  # `head, *rest = ...` binds `rest`; it does not read it
        for el in node.elements:
            if isinstance(el, cst.StarredElement):
                value = self.value_of(el.value)
                if value is not None:
                    self._emit(EventKind.STAR_UNPACK, node, el.value, value)

    def visit_List(self, node: cst.List) -> None:
        self._star(node)

    def visit_Tuple(self, node: cst.Tuple) -> None:
        self._star(node)

    def visit_Set(self, node: cst.Set) -> None:
        self._star(node)

    # -- nested scopes -----------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        # A nested function sees the enclosing streams as closure variables,
        # minus the names its own parameters shadow.
        env = dict(self.env)
        for param in streams.all_params(node):
            env[param.name.value] = None
        params = {p.name.value: p for p in streams.all_params(node)}
        for name, kind in streams.source_params(node, is_method=False).items():
            env[name] = WeightValue(
                ValueKind.STREAM,
                (self._step(params[name], f"{kind.value} `{name}` of {node.name.value}()"),),
                (id(node), name),
            )
        inner = FunctionWalker(self.view, node, self.cls, env)
        inner.stack = self.stack[:-1]  # `node` itself is pushed again by run()
        self.events.extend(inner.run())
        self._bind(node.name, None)
        if inner.preserves and any(isinstance(n, cst.Yield) for n in runs_with(node.body)):
            self.local_generators.add(node.name.value)
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self._bind(node.name, None)
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False


def _unpacked(
    target: cst.BaseExpression, expr: cst.BaseExpression, value: WeightValue | None, options: AnalysisOptions
) -> str | None:
    """How a stream value binds to a tuple target: None when it is not unpacked;
    "producer" for a producer's returned tuple (`it, state =
    quantized_weights_iterator(...)`), whose first item is the iterator its name
    promises; "elements" otherwise (`a, b = weights`, `first, *rest =
    iter(weights)`): the names get elements of the stream, not streams."""
    if value is None or value.kind is not ValueKind.STREAM or not isinstance(target, (cst.Tuple, cst.List)):
        return None
    if isinstance(expr, cst.Call) and streams.is_producer_call(expr, options):
        return "producer"
    return "elements"


def _is_target(node: cst.CSTNode, stack: list[cst.CSTNode]) -> bool:
    """Whether `node` (the top of `stack`) is what an assignment or loop binds."""
    parent = stack[-2] if len(stack) >= 2 else None
    if isinstance(parent, cst.AssignTarget):
        return True
    return isinstance(parent, (cst.For, cst.AnnAssign, cst.AugAssign, cst.CompFor)) and (
        parent.target is node
    )
