"""Stage 5: run the flow walker and the rules over one parsed module.

`ModuleAnalysis` is the `ModuleView` the walker and the rules ask about the
module: positions, source text, same-module call resolution and helper
summaries ("does this helper materialize that parameter?").  It turns rule
matches into frozen `Finding`s, with fix safety decided by `safety`.
"""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst
from libcst.metadata import CodeRange

from eagerlint import safety, streams
from eagerlint.cst_util import dotted_name, target_names
from eagerlint.flow import (
    COLLECTION_BUILTINS,
    Event,
    FunctionWalker,
    HelperSummary,
    ModuleView,
    ValueKind,
    WeightValue,
    walk_function,
)
from eagerlint.model import AnalysisOptions, Applicability, Finding, Fix, Position
from eagerlint.rules import RULES
from eagerlint.rules.base import Match

HelperKey = tuple[int, str]


class _Index(cst.CSTVisitor):
    """Top-level functions and classes, and module-level names that shadow collection builtins."""

    def __init__(self) -> None:
        self.functions: dict[str, cst.FunctionDef] = {}
        self.classes: dict[str, cst.ClassDef] = {}
        self.units: list[tuple[cst.FunctionDef, cst.ClassDef | None]] = []
        self.shadowed: set[str] = set()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self._shadow(node.name.value)
        self.functions[node.name.value] = node
        self.units.append((node, None))
        return False  # function scopes are checked per function (cst_util.binds_name)

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self._shadow(node.name.value)
        self.classes[node.name.value] = node
        for stmt in node.body.body:
            if isinstance(stmt, cst.FunctionDef):
                self.units.append((stmt, node))
        return False  # a class body's names are not visible inside its methods

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        for name in target_names(node.target):
            self._shadow(name)

    def visit_ImportAlias(self, node: cst.ImportAlias) -> None:
        bound = node.asname.name if node.asname else node.name
        if isinstance(bound, cst.Name):
            self._shadow(bound.value)

    def _shadow(self, name: str) -> None:
        if name in COLLECTION_BUILTINS:
            self.shadowed.add(name)


class ModuleAnalysis(ModuleView):
    def __init__(
        self,
        module: cst.Module,
        positions: dict[cst.CSTNode, CodeRange],
        filename: str,
        options: AnalysisOptions,
    ) -> None:
        self.module = module
        self.positions = positions
        self.filename = filename
        self.options = options
        index = _Index()
        module.visit(index)
        self.index = index
        self.shadowed_builtins = frozenset(index.shadowed)
        self._summaries: dict[HelperKey, HelperSummary] = {}

    # -- ModuleView ---------------------------------------------------------------
    def position(self, node: cst.CSTNode) -> Position:
        start = self.positions[node].start
        return Position(start.line, start.column + 1)

    def span(self, node: cst.CSTNode) -> tuple[Position, Position]:
        r = self.positions[node]
        return Position(r.start.line, r.start.column + 1), Position(r.end.line, r.end.column + 1)

    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    def resolve_call(
        self, call: cst.Call, cls: cst.ClassDef | None
    ) -> tuple[cst.FunctionDef, cst.ClassDef | None] | None:
        func = call.func
        if isinstance(func, cst.Name):
            found = self.index.functions.get(func.value)
            return (found, None) if found else None
        if not isinstance(func, cst.Attribute):
            return None
        receiver = func.value
        if isinstance(receiver, cst.Name) and receiver.value in ("self", "cls") and cls is not None:
            return self._method(cls, func.attr.value, include_self=True)
        if isinstance(receiver, cst.Call) and dotted_name(receiver.func) == "super" and cls is not None:
            return self._method(cls, func.attr.value, include_self=False)
        return None

    def _method(
        self, cls: cst.ClassDef, name: str, *, include_self: bool, seen: frozenset[str] = frozenset()
    ) -> tuple[cst.FunctionDef, cst.ClassDef] | None:
        if include_self:
            for stmt in cls.body.body:
                if isinstance(stmt, cst.FunctionDef) and stmt.name.value == name:
                    return stmt, cls
        for base in cls.bases:
            base_name = dotted_name(base.value)
            parent = self.index.classes.get(base_name or "")
            if parent is not None and base_name not in seen:
                found = self._method(parent, name, include_self=True, seen=seen | {base_name or ""})
                if found:
                    return found
        return None

    def helper_summary(self, call: cst.Call, cls: cst.ClassDef | None, arg: cst.Arg) -> HelperSummary | None:
        resolved = self.resolve_call(call, cls)
        if resolved is None:
            return None
        func, owner = resolved
        param = safety._param_for(func, owner is not None, call, arg)
        if param is None:
            return None
        return self._summary(func, owner, param)

    def _summary(self, func: cst.FunctionDef, owner: cst.ClassDef | None, param: cst.Param) -> HelperSummary:
        key = (id(func), param.name.value)
        if key in self._summaries:
            return self._summaries[key]
        # Recursion guard: while a helper is being summarized, calling it proves nothing.
        self._summaries[key] = HelperSummary(func.name.value, None, False)
        seed = WeightValue(
            ValueKind.STREAM,
            (self.step(param, f"helper parameter `{param.name.value}` of {func.name.value}()"),),
            key,
        )
        walker = FunctionWalker(self, func, owner, {param.name.value: seed})
        drain_flow = next((m.flow for m in self._matches(walker.run()) if m.event.value.seed == key), None)
        summary = HelperSummary(func.name.value, drain_flow, walker.preserves)
        self._summaries[key] = summary
        return summary

    # -- orchestration ----------------------------------------------------------------
    def _matches(self, events: list[Event]) -> Iterator[Match]:
        for event in events:
            for rule in RULES:
                yield from rule.check(event, self)

    def findings(self) -> list[Finding]:
        matches: list[Match] = []
        for func, cls in self.index.units:
            params = {p.name.value: p for p in streams.all_params(func)}
            seeds = {
                name: WeightValue(
                    ValueKind.STREAM,
                    (self.step(params[name], f"{kind.value} `{name}` of {func.name.value}()"),),
                    (id(func), name),
                )
                for name, kind in streams.source_params(func, is_method=cls is not None).items()
            }
            matches.extend(self._matches(walk_function(self, func, cls, seeds)))
        helper_targets = self._helper_targets(matches)
        kept = [self._finding(m) for m in matches if m.event.value.seed not in helper_targets]
        return sorted(kept, key=lambda f: (f.location, f.code))

    def _helper_targets(self, matches: list[Match]) -> set[HelperKey]:
        """Helper parameters whose drain is already reported at a call site."""
        targets: set[HelperKey] = set()
        for m in matches:
            if m.code != "EL004":
                continue
            call = m.node
            assert isinstance(call, cst.Call)
            resolved = self.resolve_call(call, m.event.cls)
            arg = next(a for a in call.args if a.value is m.event.operand)
            if resolved is None:
                continue
            func, owner = resolved
            if func.name.value == "load_weights":
                continue  # an entry point is reported in its own right
            param = safety._param_for(func, owner is not None, call, arg)
            if param is not None:
                targets.add((id(func), param.name.value))
        return targets

    def _finding(self, m: Match) -> Finding:
        start, end = self.span(m.node)
        fix: Fix | None = None
        reason = m.no_fix_reason
        if m.rewrite is not None and m.value_node is not None:
            verdict = safety.decide(m.value_node, _stack_to(m.event.stack, m.value_node), self)
            reason = verdict.reason
            if verdict.applicability is not None:
                fix = Fix(verdict.applicability, m.fix_title, m.rewrite())
        elif m.inherited_fix is not None:
            title, edits, reason = m.inherited_fix
            fix = Fix(Applicability.UNSAFE, title, edits)
        shown = fix is None or fix.applicability is not Applicability.SAFE
        message = f"{m.message}: {reason}" if shown and reason else m.message
        statement = _statement_of(m.event.stack, m.node)
        return Finding(
            m.code,
            m.name,
            message,
            self.filename,
            start,
            end,
            fix,
            m.flow,
            reason,
            statement_row=self.position(statement).row,
        )


def _stack_to(stack: tuple[cst.CSTNode, ...], node: cst.CSTNode) -> tuple[cst.CSTNode, ...]:
    for i in range(len(stack) - 1, -1, -1):
        if stack[i] is node:
            return stack[: i + 1]
    return (*stack, node)


def _statement_of(stack: tuple[cst.CSTNode, ...], node: cst.CSTNode) -> cst.CSTNode:
    """The innermost statement holding `node` (for `# noqa` on its first line)."""
    for ancestor in reversed(_stack_to(stack, node)):
        if isinstance(ancestor, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            return ancestor
    return node
