"""The reads of a local name after a statement, up to its next rebinding."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst

from eagerlint.analysis.cst_util import target_names
from eagerlint.analysis.walk import StackVisitor


@dataclass(frozen=True)
class Use:
    node: cst.Name
    stack: tuple[cst.CSTNode, ...]


COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)
UNPACKING = (cst.Tuple, cst.List, cst.Element, cst.StarredElement)


def binds(stack: Sequence[cst.CSTNode]) -> bool:
    """Whether the name on top of `stack` is bound there (an assignment or loop
    target, also inside a tuple it unpacks into), not read."""
    node, i = stack[-1], len(stack) - 2
    while i >= 0 and isinstance(stack[i], UNPACKING):
        node, i = stack[i], i - 1
    if i < 0:
        return False
    parent = stack[i]
    if isinstance(parent, cst.AssignTarget):
        return True
    if isinstance(parent, (cst.AnnAssign, cst.For, cst.CompFor)):
        return parent.target is node
    return False


class _UseFinder(StackVisitor):
    """Loads of `name` after the statement `after`, up to the next rebinding.

    A comprehension that binds `name` itself reads its own variable, not this one.
    """

    def __init__(
        self,
        name: str,
        after: cst.CSTNode,
        prefix: Sequence[cst.CSTNode],
        around: Sequence[cst.CSTNode] = (),
    ) -> None:
        self.name = name
        self.after = after
        # The blocks that hold `after`: the `elif`/`else` of an `if` whose body
        # holds it never runs after it (unless a loop runs the `if` again).
        self.around = {id(n) for n in around}
        self.started = False
        self.stack: list[cst.CSTNode] = list(prefix)
        self.uses: list[Use] = []
        self.rebound = False
        self.shadowed = 0  # comprehensions entered that bind `name`

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, COMPREHENSIONS) and self.name in comprehension_targets(node):
            self.shadowed += 1
        go_on = super().on_visit(node)
        # Before `after`, only the nodes that hold it lead to anything after it.
        return go_on and (self.started or not self.around or id(node) in self.around)

    def on_leave(self, node: cst.CSTNode) -> None:
        super().on_leave(node)
        if isinstance(node, COMPREHENSIONS) and self.name in comprehension_targets(node):
            self.shadowed -= 1
        if node is self.after:
            self.started = True

    def visit_Name(self, node: cst.Name) -> None:
        if node.value != self.name or self.rebound or not self.started or self.shadowed:
            return
        if binds(self.stack):
            self.rebound = True
            return
        self.uses.append(Use(node, tuple(self.stack)))

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        # `x.name` does not read a variable called `name`.
        self.walk(node.value)
        return False

    def visit_If(self, node: cst.If) -> bool:
        # In a loop, the `else` runs after the body on a later pass.
        if id(node.body) not in self.around or any(isinstance(n, (cst.For, cst.While)) for n in self.stack):
            return True
        self.walk(node.test)
        self.walk(node.body)
        return False

    def visit_Assign(self, node: cst.Assign) -> bool:
        # `x = x["model"]` reads `x` before it binds it.
        self.walk(node.value)
        for target in node.targets:
            self.walk(target)
        return False


def uses_after(name: str, statement: cst.CSTNode, stack: Sequence[cst.CSTNode]) -> list[Use]:
    """The reads of `name` after `statement` in the function holding it, up to a rebinding."""
    function = next(n for n in reversed(stack) if isinstance(n, cst.FunctionDef))
    prefix = stack[: list(stack).index(function) + 1]
    finder = _UseFinder(name, statement, prefix, stack)
    finder.walk(function.body)
    if not finder.started:  # `stack` did not lead to `statement`: read the whole body
        finder = _UseFinder(name, statement, prefix)
        finder.walk(function.body)
    return finder.uses


class _Finder(StackVisitor):
    def __init__(self, target: cst.CSTNode, prefix: Sequence[cst.CSTNode]) -> None:
        self.target = target
        self.stack: list[cst.CSTNode] = list(prefix)
        self.found: tuple[cst.CSTNode, ...] | None = None

    def on_visit(self, node: cst.CSTNode) -> bool:
        go_on = super().on_visit(node)
        if node is self.target:
            self.found = tuple(self.stack)
        return go_on and self.found is None


def stack_of(node: cst.CSTNode, function: cst.FunctionDef) -> tuple[cst.CSTNode, ...] | None:
    """The ancestors of `node` in `function` (outermost first, ending with `node`)."""
    finder = _Finder(node, [function])
    finder.walk(function.body)
    return finder.found


def comprehension_targets(comp: cst.BaseComp) -> set[str]:
    names: set[str] = set()
    for_in: cst.CompFor | None = comp.for_in
    while for_in is not None:
        names.update(target_names(for_in.target))
        for_in = for_in.inner_for_in
    return names
