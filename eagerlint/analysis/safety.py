"""May a rewrite make a materialization lazy without changing behaviour?

The rewrite moves work from "now, all at once" to "while the consumer
iterates".  That is invisible only when the value is consumed exactly once, in
order, by something that iterates it, with nothing in between that could
observe the difference.  `judge` decides every fix plan: `decide` follows the
materialized value to its consumer and returns the applicability with a
one-line reason; a plan that no value's uses can prove (the partition rewrite
moves a helper's work into its consumer's) is at most unsafe.

What "observe the difference" means here, each with its test below:

* each element holding a closure over the comprehension's variable (a
  `lambda: w` binds to the last `w` in a list, to the current one in a
  generator);
* state the elements are computed from, written between production and
  consumption or inside the consuming loop;
* the stream itself used between production and consumption, inside the
  consumer, or after a consumer that may stop early (a list used it up at once);
* any other code between production and consumption that is not known to be
  inert (literals, builtin constructors, `dict(self.named_parameters())`,
  logging, vLLM's `AutoWeightsLoader(...)` and `WeightsMapper(...)`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import libcst as cst

from eagerlint.analysis import purity, streams
from eagerlint.analysis.cst_util import (
    callee_name,
    dotted_name,
    last_part,
    names_in,
    root_name,
    target_names,
)
from eagerlint.analysis.keeps import KEEP_METHODS, LOGGING_ROOTS, OWN_STATE_METHODS, following_statements
from eagerlint.analysis.uses import Use, uses_after
from eagerlint.analysis.walk import ancestors_to, children, descendants, runs_with
from eagerlint.model import Applicability, FixPlan, LoopFacts
from eagerlint.outline import Block

if TYPE_CHECKING:
    from eagerlint.analysis.flow import Where
    from eagerlint.analysis.module import ModuleView


@dataclass(frozen=True)
class Verdict:
    applicability: Applicability | None  # None: no fix at all
    reason: str


SAFE = Applicability.SAFE
UNSAFE = Applicability.UNSAFE
LOOPS = (cst.For, cst.While, cst.CompFor)
SCOPES = (cst.FunctionDef, cst.Lambda, cst.ClassDef)
DEFERRED = (cst.Lambda, cst.GeneratorExp, cst.FunctionDef)

INTERLEAVES = (
    "the helper's work now interleaves with the consumer's, and its other parts are complete "
    "only once the consumer has exhausted the generator"
)

# Calls that cannot observe, or change, anything the rewritten code reads:
# builtin constructors and pure builtins, the model's own parameter and buffer
# views, and vLLM's loader and name-mapper constructors (they read the model,
# never the stream).
INERT_CALLS = frozenset(
    {"set", "dict", "list", "tuple", "frozenset", "len", "isinstance", "str", "repr", "int", "float"}
    | {"bool", "getattr", "hasattr", "type", "AutoWeightsLoader", "WeightsMapper"}
)
INERT_METHODS = OWN_STATE_METHODS | {"named_modules", "parameters", "buffers"}


def judge(plan: FixPlan, where: Where, view: ModuleView) -> Verdict:
    """How far `plan` may be trusted, for a finding at `where`."""
    if plan.judged is None:
        return Verdict(UNSAFE, INTERLEAVES)
    stack = ancestors_to(where.stack, plan.judged)
    if isinstance(plan.judged, cst.For) and plan.loop is not None:
        return decide_loop(plan.judged, plan.loop, stack, view, where.cls)
    assert isinstance(plan.judged, cst.BaseExpression)
    return decide(plan.judged, stack, view, where.cls)


# -- what the materialization reads ------------------------------------------------


@dataclass(frozen=True)
class Production:
    """What producing the list reads: the stream (`sources`), and the names and
    attribute paths each element is computed from (`reads`)."""

    node: cst.BaseExpression
    sources: frozenset[str]
    reads: frozenset[str]
    # A comprehension variable captured by a closure in each element.
    captured: str | None
    # The calls computing each element makes, and the names the computation
    # itself binds (its own values: their methods are its business).
    calls: tuple[cst.Call, ...] = ()
    own: frozenset[str] = frozenset()
    # A name each element assigns with `:=`.
    walrus: str | None = None

    @classmethod
    def of(
        cls,
        node: cst.BaseExpression,
        view: ModuleView,
        stack: Sequence[cst.CSTNode] = (),
        owner: Block | None = None,
    ) -> Production:
        comp = _comprehension_of(node)
        if comp is None:
            operand = _operand(node)
            if operand is None:
                return cls(node, frozenset(), frozenset(), None)
            # `list(producer(self, weights))`: what the producer reads and does.
            reads, calls, own = lazy_part(operand, view, stack, owner)
            return cls(node, sources_of(operand, view, stack), reads, None, calls, own)
        targets = set(_comp_targets(comp.for_in))
        parts: list[cst.CSTNode] = [comp.key, comp.value] if isinstance(comp, cst.DictComp) else [comp.elt]
        parts += _comp_parts(comp.for_in)
        element_reads = _without_roots({path for part in parts for path in _paths_read(part)}, targets)
        # The outer iterable is evaluated at once, but a generator it calls runs per element.
        outer_reads, outer_calls, outer_own = lazy_part(comp.for_in.iter, view, stack, owner)
        walrus = next(
            (n.target.value for part in parts for n in descendants(part)
             if isinstance(n, cst.NamedExpr) and isinstance(n.target, cst.Name)),
            None,
        )  # fmt: skip
        return cls(
            node,
            sources_of(comp.for_in.iter, view, stack),
            frozenset(element_reads | outer_reads),
            _captured(parts, targets),
            (*purity.calls_in(parts), *outer_calls),
            frozenset(targets | outer_own),
            walrus,
        )

    def without(self, name: str) -> Production:
        """After `name = <this>`, `name` is the list: it no longer reaches the stream."""
        return replace(self, sources=self.sources - {name})


RECEIVERS = frozenset({"self", "cls"})


def lazy_part(
    iterable: cst.BaseExpression, view: ModuleView, stack: Sequence[cst.CSTNode], cls: Block | None
) -> tuple[frozenset[str], tuple[cst.Call, ...], frozenset[str]]:
    """What pulling from `iterable` may read and call (and the names its nested
    generator functions bind, their own business): its own expression, and for
    a name bound in the function or one enclosing it (`stream = _scaled(self,
    weights)`), what it was bound to.  A loader's or a name mapper's own receiver is not read."""
    bindings = _enclosing_bindings(view, stack)
    nested_defs = {
        node.name.value: node
        for func in stack
        if isinstance(func, cst.FunctionDef)
        for node in runs_with(func.body)
        if isinstance(node, cst.FunctionDef) and node is not func
    }
    reads: set[str] = set()
    calls: list[cst.Call] = []
    own: set[str] = set()
    seen: set[int] = set()
    in_stack = {id(n) for n in stack}
    todo: list[cst.CSTNode] = [iterable]
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        walk: list[cst.CSTNode] = [node]
        while walk:
            n = walk.pop()
            if isinstance(n, cst.Call) and _known_lazy(n, view):
                walk.extend(a.value for a in n.args)
                continue
            nested = _nested_generator(n, nested_defs)
            if nested is not None:
                # `def llm_weights(): ...` of the function itself: read its body instead.
                todo.append(nested.body)
                own |= {p.name.value for p in streams.all_params(nested)}
                own |= purity.rebound([nested.body])
                walk.extend(nested_args(n))
                continue
            if isinstance(n, cst.Call):
                calls.append(n)
                through = purity.call_reads(n, view, cls)
                if through is not None:
                    # A function of the tree: what it reads of its arguments, not all of them.
                    reads |= through
                    walk.extend(a.value for a in n.args if dotted_name(a.value) is None)
                    continue
            if isinstance(n, cst.CompFor):
                own.update(target_names(n.target))  # a comprehension's own variables
            if isinstance(n, cst.Name):
                reads.add(n.value)
                # What the name was bound to, other than the value being judged.
                todo.extend(v for v in bindings.get(n.value, ()) if id(v) not in in_stack)
            elif isinstance(n, cst.Attribute) and (path := dotted_name(n)):
                reads.add(path)
            if not isinstance(n, cst.Lambda):
                walk.extend(children(n))
    return frozenset(_without_roots(reads, own)), tuple(calls), frozenset(own)


def _without_roots(paths: set[str], names: set[str]) -> set[str]:
    """`paths` less those that start from one of `names` (`n.upper` when `n` is the element's)."""
    return {p for p in paths if p.split(".")[0] not in names}


def nested_args(call: cst.CSTNode) -> list[cst.BaseExpression]:
    return [a.value for a in call.args] if isinstance(call, cst.Call) else []


def _nested_generator(node: cst.CSTNode, defs: dict[str, cst.FunctionDef]) -> cst.FunctionDef | None:
    """The function of the enclosing code that the call `node` makes, if it is one
    with nothing but a body (no defaults, no decorators) that pulls lazily."""
    if not (isinstance(node, cst.Call) and isinstance(node.func, cst.Name)):
        return None
    func = defs.get(node.func.value)
    if func is None or func.decorators or func.asynchronous:
        return None
    if not any(isinstance(n, cst.Yield) for n in runs_with(func.body)):
        return None
    if any(isinstance(n, (cst.Global, cst.Nonlocal)) for n in runs_with(func.body)):
        return None
    if purity.assigned([func.body]) - purity.rebound([func.body]):
        return None  # it changes state outside itself: an effect like any call's
    return func


def sources_of(
    iterable: cst.BaseExpression, view: ModuleView, stack: Sequence[cst.CSTNode]
) -> frozenset[str]:
    """The variables `iterable` draws from, and the ones they were bound from
    (`stream = weights; list(stream)` and `stream = (f(w) for w in weights);
    list(stream)` draw from `weights` too)."""
    bindings = _enclosing_bindings(view, stack)
    found: set[str] = set()
    todo = list(stream_names(iterable))
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.add(name)
        for value in bindings.get(name, ()):
            if value is iterable or _materializes(value):
                continue
            if isinstance(value, cst.GeneratorExp):
                todo.extend(stream_names(value.for_in.iter))  # a generator expression pulls lazily
            elif not _comprehension_of(value):
                todo.extend(stream_names(value))
    return frozenset(found)


def _materializes(value: cst.BaseExpression) -> bool:
    return (
        isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and value.func.value in READ_AT_ONCE
    )


def _enclosing_bindings(
    view: ModuleView, stack: Sequence[cst.CSTNode]
) -> dict[str, list[cst.BaseExpression]]:
    bindings: dict[str, list[cst.BaseExpression]] = {}
    for func in (n for n in stack if isinstance(n, cst.FunctionDef)):
        for name, values in _bindings(func, view).items():
            bindings.setdefault(name, []).extend(values)
    return bindings


def _bindings(func: cst.FunctionDef, view: ModuleView) -> dict[str, list[cst.BaseExpression]]:
    """Every value each plain name is assigned in `func` (not in nested scopes)."""
    memo = view.memo(_bindings)
    if id(func) not in memo:
        found: dict[str, list[cst.BaseExpression]] = {}
        for node in runs_with(func.body):
            if isinstance(node, cst.Assign):
                for t in node.targets:
                    if isinstance(t.target, cst.Name):
                        found.setdefault(t.target.value, []).append(node.value)
            elif isinstance(node, cst.AnnAssign) and node.value and isinstance(node.target, cst.Name):
                found.setdefault(node.target.value, []).append(node.value)
        memo[id(func)] = found
    result: dict[str, list[cst.BaseExpression]] = memo[id(func)]
    return result


def _known_lazy(call: cst.Call, view: ModuleView) -> bool:
    """A stream producer (a loader: pulling from it reads the checkpoint, which is
    the point) or a transform known to do nothing but map names (vLLM's WeightsMapper)."""
    return streams.is_weights_mapper_apply(call) or streams.is_producer_call(call, view.options)


def stream_names(node: cst.CSTNode) -> frozenset[str]:
    """The variables an iterable expression draws its elements from: `weights` in
    `self.mapper.apply(weights)` or `filter(lambda item: ..., weights)`, not the
    functions called, their receivers, or a lambda's parameters."""
    found: set[str] = set()
    todo: list[cst.CSTNode] = [node]
    while todo:
        n = todo.pop()
        if isinstance(n, cst.Name):
            found.add(n.value)
        elif isinstance(n, cst.Attribute):
            todo.append(n.value)
        elif isinstance(n, cst.Call):
            if isinstance(n.func, cst.Attribute):
                todo.extend(_receiver_args(n.func.value))
            todo.extend(a.value for a in n.args)
        elif isinstance(n, cst.Lambda):
            continue  # its body runs per element, on the element
        else:
            todo.extend(children(n))
    return frozenset(found - RECEIVERS)


def _receiver_args(receiver: cst.BaseExpression) -> list[cst.CSTNode]:
    """In `a.b(x).c(...)`, what the receiver chain passes along (`x`), not `a`."""
    found: list[cst.CSTNode] = []
    while isinstance(receiver, (cst.Attribute, cst.Call, cst.Subscript)):
        if isinstance(receiver, cst.Call):
            found.extend(a.value for a in receiver.args)
            receiver = receiver.func
        else:
            receiver = receiver.value
    return found


Comprehension = cst.ListComp | cst.SetComp | cst.DictComp | cst.GeneratorExp


def _comprehension_of(node: cst.BaseExpression) -> Comprehension | None:
    """`[e for x in s]`, or the generator expression in `list(e for x in s)`."""
    if isinstance(node, (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)):
        return node
    operand = _operand(node)
    return operand if isinstance(operand, cst.GeneratorExp) else None


def _operand(node: cst.BaseExpression) -> cst.BaseExpression | None:
    if isinstance(node, cst.Call) and node.args:
        return node.args[0].value
    if isinstance(node, (cst.List, cst.Tuple, cst.Set)) and node.elements:
        return node.elements[0].value
    return None


def _comp_targets(comp: cst.CompFor) -> list[str]:
    names = list(target_names(comp.target))
    if comp.inner_for_in is not None:
        names += _comp_targets(comp.inner_for_in)
    return names


def _comp_parts(comp: cst.CompFor) -> list[cst.CSTNode]:
    """What runs per element besides the element itself: conditions, inner loops."""
    parts: list[cst.CSTNode] = [i.test for i in comp.ifs]
    if comp.inner_for_in is not None:
        parts += [comp.inner_for_in.iter, *_comp_parts(comp.inner_for_in)]
    return parts


def _paths_read(node: cst.CSTNode) -> Iterator[str]:
    """Variables and attribute paths read in `node`: `w`, `self.scale`, `self`."""
    for n in descendants(node):
        if isinstance(n, cst.Name):
            yield n.value
        elif isinstance(n, cst.Attribute):
            path = dotted_name(n)
            if path:
                yield path


def _captured(parts: list[cst.CSTNode], targets: set[str]) -> str | None:
    """A loop variable that a closure (a lambda, a nested function, a generator
    expression) captures, other than a generator a builtin reads at once (`any(...)`)."""
    for part in parts:
        nodes = list(descendants(part))
        at_once = {
            id(a.value)
            for n in nodes
            if isinstance(n, cst.Call) and _reads_at_once(n)
            for a in n.args
            if isinstance(a.value, cst.GeneratorExp)
        }
        for n in nodes:
            if isinstance(n, DEFERRED) and id(n) not in at_once:
                hit = sorted(names_in(n) & targets)
                if hit:
                    return hit[0]
    return None


READ_AT_ONCE = frozenset(
    {"any", "all", "sum", "min", "max", "sorted", "list", "tuple", "set", "frozenset", "dict", "join"}
)


def _reads_at_once(call: cst.Call) -> bool:
    if isinstance(call.func, cst.Name):
        return call.func.value in READ_AT_ONCE
    return isinstance(call.func, cst.Attribute) and call.func.attr.value == "join"


def _clash(written: set[str], reads: frozenset[str]) -> str | None:
    """A written name or path that an element read depends on (`self` covers `self.x`)."""
    if "*" in written and reads:
        return sorted(reads)[0]  # something the code changes cannot be told
    hits = [w for w in written for r in reads if r == w or r.startswith(w + ".") or w.startswith(r + ".")]
    return max(hits, key=lambda w: (w.count("."), w), default=None)  # the most specific


def _inert(node: cst.CSTNode) -> bool:
    """Whether running `node` can neither observe nor change what the rewrite moves."""
    for n in descendants(node):
        if isinstance(n, (cst.Yield, cst.Await, cst.NamedExpr)):
            return False
        if isinstance(n, cst.Call) and not _inert_call(n):
            return False
    return True


def _inert_call(call: cst.Call) -> bool:
    if root_name(call.func) in LOGGING_ROOTS:
        return True
    name = last_part(callee_name(call))
    if isinstance(call.func, cst.Name):
        return name in INERT_CALLS
    return name in INERT_METHODS or (name in INERT_CALLS and dotted_name(call.func) is not None)


def _first_effect(node: cst.CSTNode, view: ModuleView) -> str | None:
    for n in descendants(node):
        if isinstance(n, cst.Call) and not _inert_call(n):
            return f"`{view.code(n.func)}()` runs"
        if isinstance(n, (cst.Yield, cst.Await, cst.NamedExpr)):
            return "code with effects runs"
    return None


def _mentions(node: cst.CSTNode, names: frozenset[str]) -> str | None:
    hit = sorted(names_in(node) & names)
    return hit[0] if hit else None


# -- deciding ------------------------------------------------------------------------


def decide(
    value: cst.BaseExpression, stack: Sequence[cst.CSTNode], view: ModuleView, cls: Block | None = None
) -> Verdict:
    """`stack`: ancestors of `value`, outermost first, ending with `value`."""
    production = Production.of(value, view, stack, cls)
    if production.captured is not None:
        return Verdict(
            None, f"each element holds a closure over `{production.captured}`, which a generator would rebind"
        )
    if production.walrus is not None:
        return Verdict(
            None, f"each element assigns `{production.walrus}` (`:=`), which a generator would assign later"
        )
    parent = stack[-2]
    if isinstance(parent, cst.Assign) and parent.value is value:
        if len(parent.targets) == 1 and isinstance(parent.targets[0].target, cst.Name):
            return _binding(parent.targets[0].target.value, production, stack, view, cls)
        if any(isinstance(t.target, cst.Attribute) for t in parent.targets):
            return Verdict(None, "the list is stored on an attribute")
        return Verdict(None, "the list is unpacked or stored")
    if isinstance(parent, cst.AnnAssign) and parent.value is value:
        if isinstance(parent.target, cst.Name):
            return _binding(parent.target.value, production, stack, view, cls)
        return Verdict(None, "the list is stored on an attribute")
    return _element_effects(_consumer(value, stack, view, production, cls), production, view, cls)


def _consumer(
    use: cst.BaseExpression,
    stack: Sequence[cst.CSTNode],
    view: ModuleView,
    production: Production,
    cls: Block | None,
) -> Verdict:
    """How the expression `use` (whose ancestors are `stack`) is consumed."""
    parent = stack[-2]
    if isinstance(parent, cst.For) and parent.iter is use:
        return _for_consumer(parent, production, stack, view, cls)
    if isinstance(parent, cst.CompFor) and parent.iter is use:
        return Verdict(SAFE, "consumed once by a comprehension")
    if isinstance(parent, cst.From) and isinstance(stack[-3], cst.Yield):
        return Verdict(SAFE, "consumed once by `yield from`")
    if isinstance(parent, cst.Arg) and isinstance(stack[-3], cst.Call):
        return _call_consumer(stack[-3], parent, view, production, cls, stack[:-2])
    if isinstance(parent, cst.Subscript):
        return Verdict(None, "the list is indexed")
    if isinstance(parent, cst.Attribute):
        return Verdict(None, f"the list's `.{parent.attr.value}` is used")
    if isinstance(parent, cst.Return):
        return Verdict(None, "the list is returned")
    if isinstance(parent, (cst.If, cst.While, cst.IfExp, cst.BooleanOperation, cst.UnaryOperation)):
        return Verdict(None, "the list is tested for truth")
    if isinstance(parent, cst.ComparisonTarget) and isinstance(parent.operator, (cst.In, cst.NotIn)):
        return Verdict(None, "the list is tested for membership")
    return Verdict(None, "the list is used as a value")


def _call_consumer(
    call: cst.Call,
    arg: cst.Arg,
    view: ModuleView,
    production: Production,
    cls: Block | None,
    stack: Sequence[cst.CSTNode],
) -> Verdict:
    """`stack`: the ancestors of `call`, ending with it."""
    name = callee_name(call) or "a call"
    short = last_part(name)
    if short == "len" and isinstance(call.func, cst.Name):
        return Verdict(None, "`len()` is taken")
    if short in ("sorted", "reversed") and isinstance(call.func, cst.Name):
        return Verdict(None, f"the list is passed to `{short}()`")
    others = [a.value for a in call.args if a is not arg]
    source = next((s for o in others if (s := _mentions(o, production.sources))), None)
    if source is not None:
        return Verdict(None, f"another argument of `{name}()` reads `{source}` itself")
    # What the function of the tree the call reaches does with the parameter (None:
    # not known).  An `Iterable` annotation is a promise the body may not keep: the
    # summary decides; a consumer by its name (`*.load_weights`) is held to it too.
    summary = view.helper_summary(call, cls, arg)
    lazy = streams.is_lazy_consumer(call, view.options) or (summary is not None and summary.single_pass)
    if not lazy and summary is None:
        return Verdict(UNSAFE, f"passed to `{name}()`, which eagerlint cannot follow (it may need a list)")
    if not lazy:
        return Verdict(UNSAFE, f"passed to `{name}()`, which does not read it once from start to end")
    if summary is not None and summary.second_pass is not None:
        how = summary.second_pass.note
        return Verdict(None, f"`{name}()` reads it {how}, which a list serves and a generator does not")
    if summary is not None and summary.consumed_at is None:
        later = _used_after(call, stack, production.sources)
        if later is not None:
            return Verdict(None, f"`{name}()` may stop before the end, and `{later}` is used after it")
    if arg.star:
        return Verdict(UNSAFE, f"passed to `{name}()` in an unusual way")
    if not all(_inert(o) for o in others):
        return Verdict(UNSAFE, f"other arguments of `{name}()` run code")
    if view.resolve_call(call, cls) is not None:
        clash = _clash(purity.call_writes(call, view, cls), production.reads)
        if clash is not None:
            return Verdict(UNSAFE, f"`{name}()` changes `{clash}`, which each element reads")
    return Verdict(SAFE, f"consumed once by `{name}()`")


def _for_consumer(
    loop: cst.For, production: Production, stack: Sequence[cst.CSTNode], view: ModuleView, cls: Block | None
) -> Verdict:
    source = _mentions(loop.body, production.sources) or (
        _mentions(loop.orelse, production.sources) if loop.orelse else None
    )
    if source is not None:
        return Verdict(None, f"the loop reads `{source}` itself, which the list has already used up")
    bodies = [loop.body, *([loop.orelse] if loop.orelse else [])]
    written = purity.written(bodies, view, cls) | set(target_names(loop.target))
    clash = _clash(written, production.reads)
    if clash is not None:
        return Verdict(UNSAFE, f"the loop changes `{clash}`, which each element reads")
    if _may_stop(loop):
        later = _used_after(loop, stack, production.sources)
        if later is not None:
            return Verdict(None, f"the loop may stop early, and `{later}` is used after it")
    return Verdict(SAFE, "consumed once by a `for` loop")


def _may_stop(loop: cst.For) -> bool:
    """A `break`, `return` or `raise` of the loop's own body (not of inner loops)."""
    todo: list[cst.CSTNode] = list(children(loop.body))
    while todo:
        node = todo.pop()
        if isinstance(node, (cst.Break, cst.Return, cst.Raise)):
            return True
        if not isinstance(node, (*LOOPS, *SCOPES)):
            todo.extend(children(node))
    return False


def _used_after(node: cst.CSTNode, stack: Sequence[cst.CSTNode], names: frozenset[str]) -> str | None:
    """A name of `names` read by a statement that runs after `node` in its function,
    or, when that function is nested and `names` are free in it, by a statement after
    its `def` in the function around it (which may call it, then read the stream)."""
    cut = ancestors_to(stack, node)
    later = following_statements(cut)
    for i in range(len(cut) - 1, 0, -1):
        func = cut[i]
        if not isinstance(func, cst.FunctionDef) or not any(isinstance(n, cst.FunctionDef) for n in cut[:i]):
            continue
        names = names - {p.name.value for p in streams.all_params(func)} - purity.rebound([func.body])
        body = list(getattr(cut[i - 1], "body", ()))
        if func in body:
            later += body[body.index(func) + 1 :] + following_statements(cut[:i])
    for stmt in later:
        hit = _mentions(stmt, names)
        if hit is not None:
            return hit
    return None


# -- `name = <materialization>` followed to its single use ------------------------


def _binding(
    name: str, production: Production, stack: Sequence[cst.CSTNode], view: ModuleView, cls: Block | None
) -> Verdict:
    statement = next(n for n in reversed(stack) if isinstance(n, cst.SimpleStatementLine))
    production = production.without(name)
    uses = uses_after(name, statement, stack)
    if not uses:
        return Verdict(None, "the list is not used in this function")
    if len(uses) > 1:
        return Verdict(None, f"the list is used {len(uses)} times")
    return _follow(
        uses[0], statement, stack, production, view, cls, _Words("the list", "the list", "each element")
    )


@dataclass(frozen=True)
class _Words:
    """How reasons name what was produced, for a list or a loop turned lazy."""

    value: str  # "the list", "`kept`"
    producer: str  # "the list", "the loop"
    reader: str  # "each element", "the loop"


def _follow(
    use: Use,
    statement: cst.CSTNode,
    stack: Sequence[cst.CSTNode],
    production: Production,
    view: ModuleView,
    cls: Block | None,
    words: _Words,
    *,
    before_consumer: Callable[[], Verdict | None] = lambda: None,
) -> Verdict:
    """The verdict for a produced value whose one use is `use`, produced by `statement`."""
    block_index = _sibling_path(stack, statement, use)
    if block_index is None:
        return Verdict(None, f"{words.value} is used in another block")
    inner = use.stack[len(block_index) :]
    if any(isinstance(n, SCOPES) for n in inner):
        return Verdict(None, f"{words.value} is captured by a nested scope")
    if any(isinstance(n, LOOPS) and not _is_for_iter(n, use) for n in inner):
        return Verdict(None, f"{words.value} is used inside a loop")
    between = _between(block_index, statement, use)
    for stmt in between:
        source = _mentions(stmt, production.sources)
        if source is not None:
            return Verdict(None, f"`{source}` is used between {words.producer} and its consumer")
        clash = _clash(purity.assigned([stmt]), production.reads)
        if clash is not None:
            reason = (
                f"`{clash}` changes between {words.producer} and its consumer, and {words.reader} reads it"
            )
            return Verdict(None, reason)
    early = before_consumer()
    if early is not None:
        return early
    verdict = _consumer(use.node, use.stack, view, production, cls)
    if verdict.applicability is not SAFE:
        return verdict
    effect = next((e for stmt in between if (e := _first_effect(stmt, view))), None)
    if effect is not None:
        return Verdict(UNSAFE, f"{effect} between {words.producer} and its consumer")
    if _conditional(block_index, use):
        return Verdict(UNSAFE, "the consumer runs only on some paths")
    return _element_effects(verdict, production, view, cls)


def _element_effects(
    verdict: Verdict, production: Production, view: ModuleView, cls: Block | None
) -> Verdict:
    """A safe verdict stays safe only when computing an element has no effect of its own."""
    if verdict.applicability is not SAFE:
        return verdict
    call = purity.impure_call(production.calls, set(production.own), view, cls)
    if call is None:
        return verdict
    name = view.code(call.func)
    return Verdict(
        UNSAFE, f"each element calls `{name}()`, whose effects would interleave with the consumer's"
    )


def _is_for_iter(node: cst.CSTNode, use: Use) -> bool:
    return isinstance(node, cst.For) and node.iter is use.node


def _sibling_path(
    stack: Sequence[cst.CSTNode], statement: cst.CSTNode, use: Use
) -> tuple[cst.CSTNode, ...] | None:
    """The shared ancestor chain when the use sits in or below a later sibling statement."""
    depth = list(stack).index(statement)
    if use.stack[:depth] != tuple(stack[:depth]):
        return None
    return use.stack[:depth]


def _block_of(prefix: tuple[cst.CSTNode, ...]) -> Sequence[cst.CSTNode]:
    owner = prefix[-1]
    body = getattr(owner, "body", ())
    return body if isinstance(body, Sequence) else ()


def _between(prefix: tuple[cst.CSTNode, ...], statement: cst.CSTNode, use: Use) -> Sequence[cst.CSTNode]:
    """The statements strictly between the binding and the statement holding the use."""
    block = _block_of(prefix)
    consumer_stmt = use.stack[len(prefix)]
    if statement not in block or consumer_stmt not in block:
        return ()
    return block[block.index(statement) + 1 : block.index(consumer_stmt)]


def _conditional(prefix: tuple[cst.CSTNode, ...], use: Use) -> bool:
    inner = use.stack[len(prefix) :]
    return any(isinstance(n, (cst.If, cst.Try, cst.Match, cst.IfExp, cst.BooleanOperation)) for n in inner)


# -- a loop that fills a list, turned into a generator --------------------------------

# Builtins a loop body may call per element without an effect anyone could see.
PURE_BUILTINS = INERT_CALLS | frozenset(
    {
        "any",
        "all",
        "max",
        "min",
        "sum",
        "enumerate",
        "zip",
        "range",
        "sorted",
        "map",
        "filter",
        "abs",
        "round",
    }
)


def decide_loop(
    loop: cst.For, facts: LoopFacts, stack: Sequence[cst.CSTNode], view: ModuleView, cls: Block | None
) -> Verdict:
    """How far turning `loop` into a generator of `facts.container` may be trusted."""
    bound = _loop_bound(loop)
    reads = frozenset(p for p in _paths_read(loop) if p.split(".")[0] not in bound)
    captured = _captured([loop.body], bound)
    if captured is not None:
        return Verdict(None, f"the loop makes a closure over `{captured}`, which a generator would rebind")
    iter_reads, iter_calls, iter_own = lazy_part(loop.iter, view, stack, cls)
    # What the loop draws from, through aliases (`stream = weights; for ... in stream`),
    # as for a comprehension: a use of `weights` after a consumer that stops early
    # reads what the generator left.
    production = Production(
        loop.iter, sources_of(facts.stream, view, stack), reads | iter_reads, None, iter_calls, iter_own
    )
    uses = uses_after(facts.container, loop, stack)
    if len(uses) != 1:
        return Verdict(None, f"`{facts.container}` is used {len(uses)} times after the loop")

    def hook_first() -> Verdict | None:
        hook = _first_hook(loop, facts)
        if hook is None:
            return None
        func = hook.func
        if (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.attr.value in KEEP_METHODS
        ):
            other = func.value.value
            return Verdict(
                None, f"the loop also fills `{other}`, which a generator would fill only as it is read"
            )
        return Verdict(
            None,
            f"the loop calls `{view.code(func)}()` (an in-place load or a hook), which a generator"
            " would call only as it is read",
        )

    words = _Words(f"`{facts.container}`", "the loop", "the loop")
    verdict = _follow(uses[0], loop, stack, production, view, cls, words, before_consumer=hook_first)
    if verdict.applicability is None:
        return verdict
    outside = sorted(
        p
        for p in purity.assigned([loop.body])
        if p.split(".")[0] not in bound | {facts.container, *facts.sides}
    )
    if outside:
        return Verdict(
            UNSAFE, f"the loop sets `{outside[0]}`, which would happen only as the consumer iterates"
        )
    if verdict.applicability is not SAFE:
        return verdict
    call = _first_impure_call(loop, bound, facts, view, cls) or purity.impure_call(
        production.calls, set(production.own), view, cls
    )
    if call is not None:
        return Verdict(
            UNSAFE, f"the loop calls `{view.code(call.func)}()`, which would run while the consumer iterates"
        )
    if any(isinstance(n, cst.Raise) for n in descendants(loop.body)):
        return Verdict(UNSAFE, "an error the loop raises would surface after some weights are loaded")
    if facts.sides:
        kept = ", ".join(f"`{s}`" for s in facts.sides)
        return Verdict(UNSAFE, f"{kept} is complete only once the consumer has exhausted the generator")
    return verdict


def _loop_bound(loop: cst.For) -> set[str]:
    bound = set(target_names(loop.target))
    for node in descendants(loop.body):
        if isinstance(
            node, (cst.AssignTarget, cst.AnnAssign, cst.AugAssign, cst.For, cst.CompFor, cst.NamedExpr)
        ):
            bound.update(target_names(node.target))
    return bound


def _first_hook(loop: cst.For, facts: LoopFacts) -> cst.Call | None:
    """A call the loop makes as a statement, for its effect, other than filling the
    containers and logging: an in-place load (`param.copy_(w)`) or a hook."""
    containers = {facts.container, *facts.sides}
    for node in runs_with(loop.body):
        if not (isinstance(node, cst.Expr) and isinstance(node.value, cst.Call)):
            continue
        call = node.value
        root = root_name(call.func)
        if root in containers or root in LOGGING_ROOTS:
            continue
        return call
    return None


def _first_impure_call(
    loop: cst.For, bound: set[str], facts: LoopFacts, view: ModuleView, cls: Block | None
) -> cst.Call | None:
    """A call in the loop whose effects could be seen if it ran later, other than
    filling the containers (see analysis/purity.py)."""
    containers = {facts.container, *facts.sides}
    calls = [
        c
        for c in purity.calls_in([loop.body])
        if not (isinstance(c.func, cst.Attribute) and root_name(c.func.value) in containers)
    ]
    return purity.impure_call(calls, bound, view, cls)
