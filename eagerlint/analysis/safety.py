"""May a rewrite make a materialization lazy without changing behaviour?

The rewrite moves work from "now, all at once" to "while the consumer
iterates".  That is invisible only when the value is consumed exactly once, in
order, by something that iterates it, with nothing in between that could
observe the difference.  `judge` decides every fix plan: `decide` follows the
materialized value to its consumer and returns the applicability with a
one-line reason; a plan that no value's uses can prove (the partition rewrite
moves a helper's work into its consumer's) is at most unsafe.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from eagerlint.analysis import streams
from eagerlint.analysis.cst_util import callee_name, last_part, names_in, root_name, target_names
from eagerlint.analysis.resolve import param_for
from eagerlint.analysis.walk import StackVisitor, ancestors_to, descendants
from eagerlint.model import Applicability, FixPlan

if TYPE_CHECKING:
    from eagerlint.analysis.module import ModuleView


@dataclass(frozen=True)
class Verdict:
    applicability: Applicability | None  # None: no fix at all
    reason: str


SAFE = Applicability.SAFE
UNSAFE = Applicability.UNSAFE
LOOPS = (cst.For, cst.While, cst.CompFor)
SCOPES = (cst.FunctionDef, cst.Lambda, cst.ClassDef)


INTERLEAVES = (
    "the helper's work now interleaves with the consumer's, and its other parts are complete "
    "only once the consumer has exhausted the generator"
)


def judge(plan: FixPlan, stack: Sequence[cst.CSTNode], view: ModuleView) -> Verdict:
    """How far `plan` may be trusted; `stack`: the ancestors of the finding's node."""
    if plan.judged is None:
        return Verdict(UNSAFE, INTERLEAVES)
    return decide(plan.judged, ancestors_to(stack, plan.judged), view)


def decide(value: cst.BaseExpression, stack: Sequence[cst.CSTNode], view: ModuleView) -> Verdict:
    """`stack`: ancestors of `value`, outermost first, ending with `value`."""
    parent = stack[-2]
    if isinstance(parent, cst.Assign) and parent.value is value:
        if len(parent.targets) == 1 and isinstance(parent.targets[0].target, cst.Name):
            return _binding(parent.targets[0].target.value, value, stack, view)
        if any(isinstance(t.target, cst.Attribute) for t in parent.targets):
            return Verdict(None, "the list is stored on an attribute")
        return Verdict(None, "the list is unpacked or stored")
    if isinstance(parent, cst.AnnAssign) and parent.value is value:
        if isinstance(parent.target, cst.Name):
            return _binding(parent.target.value, value, stack, view)
        return Verdict(None, "the list is stored on an attribute")
    return _consumer(value, stack, view, value)


def _consumer(
    use: cst.BaseExpression, stack: Sequence[cst.CSTNode], view: ModuleView, produced: cst.BaseExpression
) -> Verdict:
    """How the expression `use` (whose ancestors are `stack`) is consumed."""
    parent = stack[-2]
    if isinstance(parent, cst.For) and parent.iter is use:
        return _for_consumer(parent, produced)
    if isinstance(parent, cst.CompFor) and parent.iter is use:
        return Verdict(SAFE, "consumed once by a comprehension")
    if isinstance(parent, cst.From) and isinstance(stack[-3], cst.Yield):
        return Verdict(SAFE, "consumed once by `yield from`")
    if isinstance(parent, cst.Arg) and isinstance(stack[-3], cst.Call):
        return _call_consumer(stack[-3], parent, view)
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


def _call_consumer(call: cst.Call, arg: cst.Arg, view: ModuleView) -> Verdict:
    name = callee_name(call) or "a call"
    short = last_part(name)
    if short == "len" and isinstance(call.func, cst.Name):
        return Verdict(None, "`len()` is taken")
    if short in ("sorted", "reversed") and isinstance(call.func, cst.Name):
        return Verdict(None, f"the list is passed to `{short}()`")
    lazy = streams.is_lazy_consumer(call, view.options) or _iterable_param(call, arg, view)
    if not lazy:
        return Verdict(UNSAFE, f"passed to `{name}()`, which may need a list")
    if arg.star or (arg.keyword is not None and not lazy):
        return Verdict(UNSAFE, f"passed to `{name}()` in an unusual way")
    others = [a.value for a in call.args if a is not arg]
    if any(_has_effects(o) for o in others):
        return Verdict(UNSAFE, f"other arguments of `{name}()` run code")
    return Verdict(SAFE, f"consumed once by `{name}()`")


def _iterable_param(call: cst.Call, arg: cst.Arg, view: ModuleView) -> bool:
    resolved = view.resolve_call(call, None)
    if resolved is None:
        return False
    func, owner, _ = resolved
    param = param_for(func, owner is not None, call, arg)
    return (
        param is not None
        and param.annotation is not None
        and streams.is_iterable_annotation(param.annotation.annotation)
    )


def _for_consumer(loop: cst.For, produced: cst.BaseExpression) -> Verdict:
    if isinstance(produced, cst.ListComp):
        read = names_in(produced.elt) - set(_comp_targets(produced.for_in))
        written = _written_names(loop.body)
        clash = sorted(read & written)
        if clash:
            return Verdict(UNSAFE, f"the loop body changes `{clash[0]}`, which each element reads")
    return Verdict(SAFE, "consumed once by a `for` loop")


def _comp_targets(comp: cst.CompFor) -> list[str]:
    names = list(target_names(comp.target))
    if comp.inner_for_in is not None:
        names += _comp_targets(comp.inner_for_in)
    return names


def _written_names(node: cst.CSTNode) -> set[str]:
    """Variables rebound, or whose attributes or items are stored to, inside `node`."""
    names: set[str] = set()
    for n in descendants(node):
        if isinstance(n, (cst.AssignTarget, cst.AugAssign, cst.AnnAssign)):
            root = root_name(n.target)
            if root:
                names.add(root)
    return names


def _has_effects(node: cst.CSTNode) -> bool:
    return any(isinstance(n, (cst.Call, cst.Yield, cst.Await, cst.NamedExpr)) for n in descendants(node))


# -- `name = <materialization>` followed to its single use ------------------------


@dataclass(frozen=True)
class _Use:
    node: cst.Name
    stack: tuple[cst.CSTNode, ...]


class _UseFinder(StackVisitor):
    """Loads of `name` after the statement `after`, up to the next rebinding."""

    def __init__(self, name: str, after: cst.CSTNode, prefix: Sequence[cst.CSTNode]) -> None:
        self.name = name
        self.after = after
        self.started = False
        self.stack: list[cst.CSTNode] = list(prefix)
        self.uses: list[_Use] = []
        self.rebound = False

    def on_leave(self, node: cst.CSTNode) -> None:
        super().on_leave(node)
        if node is self.after:
            self.started = True

    def visit_Name(self, node: cst.Name) -> None:
        if node.value != self.name or self.rebound or not self.started:
            return
        parent = self.stack[-2]
        if isinstance(parent, (cst.AssignTarget, cst.AnnAssign)) or (
            isinstance(parent, (cst.For, cst.CompFor)) and parent.target is node
        ):
            self.rebound = True
            return
        self.uses.append(_Use(node, tuple(self.stack)))

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        # `x.name` does not read a variable called `name`.
        self.walk(node.value)
        return False


def _binding(name: str, value: cst.BaseExpression, stack: Sequence[cst.CSTNode], view: ModuleView) -> Verdict:
    statement = next(n for n in reversed(stack) if isinstance(n, cst.SimpleStatementLine))
    function = next(n for n in reversed(stack) if isinstance(n, cst.FunctionDef))
    finder = _UseFinder(name, statement, stack[: list(stack).index(function) + 1])
    finder.walk(function.body)
    uses = finder.uses
    if not uses:
        return Verdict(None, "the list is not used in this function")
    if len(uses) > 1:
        rows = ", ".join(str(view.position(u.node).row) for u in uses)
        return Verdict(None, f"the list is used {len(uses)} times (lines {rows})")
    use = uses[0]
    block_index = _sibling_path(stack, statement, use)
    if block_index is None:
        return Verdict(None, "the list is used in another block")
    if any(isinstance(n, SCOPES) for n in use.stack[len(block_index) :]):
        return Verdict(None, "the list is captured by a nested scope")
    if any(isinstance(n, LOOPS) and not _is_for_iter(n, use) for n in use.stack[len(block_index) :]):
        return Verdict(None, "the list is used inside a loop")
    verdict = _consumer(use.node, use.stack, view, value)
    if verdict.applicability is not SAFE:
        return verdict
    between = _between(block_index, statement, use)
    if between is not None:
        row = view.position(between).row
        return Verdict(UNSAFE, f"code at line {row} runs between the list and its consumer")
    if _conditional(block_index, use):
        return Verdict(UNSAFE, "the consumer runs only on some paths")
    return verdict


def _is_for_iter(node: cst.CSTNode, use: _Use) -> bool:
    return isinstance(node, cst.For) and node.iter is use.node


def _sibling_path(
    stack: Sequence[cst.CSTNode], statement: cst.CSTNode, use: _Use
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


def _between(prefix: tuple[cst.CSTNode, ...], statement: cst.CSTNode, use: _Use) -> cst.CSTNode | None:
    """The first statement with effects strictly between the binding and the use."""
    block = _block_of(prefix)
    consumer_stmt = use.stack[len(prefix)]
    if statement not in block or consumer_stmt not in block:
        return None
    start, stop = block.index(statement), block.index(consumer_stmt)
    for stmt in block[start + 1 : stop]:
        if _has_effects(stmt):
            return stmt
    return None


def _conditional(prefix: tuple[cst.CSTNode, ...], use: _Use) -> bool:
    inner = use.stack[len(prefix) :]
    return any(isinstance(n, (cst.If, cst.Try, cst.Match, cst.IfExp, cst.BooleanOperation)) for n in inner)
