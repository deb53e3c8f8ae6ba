"""One module of the analysed tree, as the walker, the analyses and the rules see it.

A `ModuleView` puts together the module's source (`source.py`: snippets and
positions), call resolution (`resolve.py`) and the helper summaries computed
for its functions (`summary.py`), and implements what the flow walker asks of
the module around it (`flow.FlowContext`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import libcst as cst

from eagerlint.analysis import summary
from eagerlint.analysis.flow import HelperSummary, Seed, Step
from eagerlint.analysis.project import Project
from eagerlint.analysis.resolve import Resolved, Resolver, param_for
from eagerlint.analysis.source import ModuleSource
from eagerlint.model import AnalysisOptions, Position
from eagerlint.outline import Block, Outline


class ModuleView:
    def __init__(
        self,
        source: ModuleSource,
        options: AnalysisOptions,
        project: Project | None = None,
        module_name: str = "",
    ) -> None:
        self.source = source
        self._options = options
        self.resolver = Resolver(self, project, module_name)
        self._summaries: dict[Seed, HelperSummary] = {}
        self._memos: dict[Callable[..., Any], dict[int, Any]] = {}

    # -- the module's text --------------------------------------------------------
    @property
    def options(self) -> AnalysisOptions:
        return self._options

    @property
    def filename(self) -> str:
        return self.source.filename

    @property
    def text(self) -> str:
        return self.source.text

    @property
    def outline(self) -> Outline:
        return self.source.outline

    @property
    def shadowed_builtins(self) -> frozenset[str]:
        return self.source.shadowed_builtins

    @property
    def deps(self) -> set[str]:
        return self.resolver.deps

    def position(self, node: cst.CSTNode) -> Position:
        return self.source.position(node)

    def span(self, node: cst.CSTNode) -> tuple[Position, Position]:
        return self.source.span(node)

    def code(self, node: cst.CSTNode) -> str:
        return self.source.code(node)

    def step(self, node: cst.CSTNode, note: str) -> Step:
        return Step(node, note, self.source)

    def memo(self, owner: Callable[..., Any]) -> dict[int, Any]:
        """A per-module table where `owner` keeps answers it computes once."""
        return self._memos.setdefault(owner, {})

    # -- calls ----------------------------------------------------------------------
    def resolve_call(self, call: cst.Call, cls: Block | None) -> Resolved | None:
        return self.resolver.resolve_call(call, cls)

    def returns_scalar(
        self, call: cst.Call, cls: Block | None, within: cst.FunctionDef | None = None
    ) -> bool:
        return self.resolver.returns_scalar(call, cls, within)

    def param_of(self, call: cst.Call, cls: Block | None, arg: cst.Arg) -> tuple[Resolved, cst.Param] | None:
        """The function of the tree `call` reaches, and the parameter `arg` binds to."""
        resolved = self.resolve_call(call, cls)
        if resolved is None:
            return None
        param = param_for(resolved.func, call, arg, receiver=resolved.receiver)
        return None if param is None else (resolved, param)

    def helper_summary(self, call: cst.Call, cls: Block | None, arg: cst.Arg) -> HelperSummary | None:
        found = self.param_of(call, cls, arg)
        if found is None:
            return None
        (func, owner, home, _), param = found
        return home.summary_of(func, owner, param)

    def draining_helper(
        self, call: cst.Call, cls: Block | None, arg: cst.Arg
    ) -> tuple[Resolved, cst.Param, tuple[Step, ...], bool] | None:
        """The function of the tree `call` reaches that keeps every element `arg`
        hands it, the parameter it binds to, the flow into that materialization, and
        whether the call certainly reaches that function.

        The callee `resolve_call` finds (certain); or, for `self.<attr>.<method>(...)`,
        the first of the methods that attribute's classes define that keeps them (the
        call may reach another of them)."""
        resolved = self.param_of(call, cls, arg)
        if resolved is not None:
            candidates = [resolved]
        else:
            candidates = []
            for method in self.resolver.attribute_methods(call, cls):
                param = param_for(method.func, call, arg, receiver=method.receiver)
                if param is not None:
                    candidates.append((method, param))
        for found, param in candidates:
            flow = found.home.summary_of(found.func, found.owner, param).drain_flow
            if flow is not None:
                return found, param, flow, resolved is not None
        return None

    def summary_of(self, func: cst.FunctionDef, owner: Block | None, param: cst.Param) -> HelperSummary:
        """What `func` (a function of this module) does with `param`, computed once."""
        key = (id(func), param.name.value)
        found = self._summaries.get(key)
        if found is None:
            # Recursion guard: while a helper is being summarized, calling it proves nothing.
            self._summaries[key] = HelperSummary(func.name.value, None, False)
            found = self._summaries[key] = summary.summarize(self, func, owner, param)
        return found
