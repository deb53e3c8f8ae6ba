"""Stage 5: run the flow walker and the rules over one module.

`ModuleAnalysis` is the `ModuleView` the walker and the rules ask about the
module: positions, source text, same-module call resolution and helper
summaries ("does this helper materialize that parameter?").  It parses only
the functions it needs (see scan.py): the loaders first, then on demand the
helpers they pass streams to.  Rule matches become frozen `Finding`s, with fix
safety decided by `safety`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import NamedTuple

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from eagerlint import safety, streams
from eagerlint.cst_util import binds_name, dotted_name, last_part
from eagerlint.flow import (
    COLLECTION_BUILTINS,
    Event,
    FunctionWalker,
    HelperSummary,
    ModuleView,
    ValueKind,
    WeightValue,
)
from eagerlint.model import AnalysisOptions, Applicability, Finding, Fix, FlowStep, Position
from eagerlint.parse import decode
from eagerlint.project import Imported, Project, imports, module_name
from eagerlint.rules import RULES, materializes
from eagerlint.rules import el008_weights_multi_pass as multi_pass
from eagerlint.rules.base import Match
from eagerlint.scan import STREAM_ANNOTATION, Block, Outline, outline
from eagerlint.walk import descendants, every_node

HelperKey = tuple[int, str]
# Return annotations that promise no tensor (`ModuleAnalysis.returns_scalar`).
SCALAR_TYPES = frozenset({"str", "bytes", "int", "float", "bool", "None"})


class Resolved(NamedTuple):
    """A called function, the class it was found in, and the module that holds it."""

    func: cst.FunctionDef
    owner: Block | None
    home: ModuleAnalysis


_SHADOW = re.compile(
    r"^(?:(?:def|class)\s+(?P<d>\w+)|(?P<a>\w+)\s*(?::[^=\n]*)?=(?!=)|(?:from\s+\S+\s+)?import\s+(?P<i>.*))",
    re.M,
)


class SnippetError(Exception):
    """A block the outline found does not parse on its own."""


class _Parsed:
    """One parsed piece of source: a snippet or the whole module."""

    def __init__(self, module: cst.Module, row_offset: int) -> None:
        self.module = module
        self.row_offset = row_offset
        self._positions: Mapping[cst.CSTNode, CodeRange] | None = None

    @property
    def positions(self) -> Mapping[cst.CSTNode, CodeRange]:
        # Position metadata costs more than the parse: only pieces that hold
        # a finding ever need it.
        if self._positions is None:
            self._positions = MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(PositionProvider)
        return self._positions

    def owns(self, node: cst.CSTNode) -> bool:
        return node in self.nodes

    @property
    def nodes(self) -> set[cst.CSTNode]:
        if not hasattr(self, "_nodes"):
            self._nodes = set(every_node(self.module))
        return self._nodes


def shadowed_builtins(text: str) -> frozenset[str]:
    """Collection builtins rebound at module level (`list = ...`, `import x as list`)."""
    found: set[str] = set()
    for m in _SHADOW.finditer(text):
        names = {m["d"], m["a"]} | set(re.findall(r"\w+", m["i"] or ""))
        found |= names & COLLECTION_BUILTINS
    return frozenset(found)


class ModuleAnalysis(ModuleView):
    def __init__(
        self,
        text: str,
        outline: Outline,
        filename: str,
        options: AnalysisOptions,
        *,
        whole: bool = False,
        project: Project | None = None,
        module_name: str = "",
    ) -> None:
        self.text = text
        self.outline = outline
        self.filename = filename
        self.options = options
        self._shadowed: frozenset[str] | None = None
        self._pieces: list[_Parsed] = []
        self._last_piece: _Parsed | None = None
        self._functions: dict[int, cst.FunctionDef] = {}  # header line -> node
        self._summaries: dict[HelperKey, HelperSummary] = {}
        self._whole = whole
        self.project = project
        self._module_name = module_name or None
        self._import_table: dict[str, Imported] | None = None
        # Other modules of the tree this analysis consulted (for cache validation).
        self.deps: set[str] = set()
        if whole:
            self._parse_whole()

    @property
    def shadowed_builtins(self) -> frozenset[str]:  # type: ignore[override]
        # A regex over the whole module: only run when a rule asks.
        if self._shadowed is None:
            self._shadowed = shadowed_builtins(self.text)
        return self._shadowed

    # -- parsing ------------------------------------------------------------------
    def _parse_whole(self) -> None:
        piece = _Parsed(cst.parse_module(self.text), 0)
        self._pieces = [piece]

        for node in descendants(piece.module):
            if isinstance(node, cst.FunctionDef):
                # The `def` keyword's row (decorators come before it).
                self._functions[piece.positions[node.name].start.line - 1] = node

    def function(self, block: Block) -> cst.FunctionDef | None:
        found = self._functions.get(block.header)
        if found is not None or self._whole:
            # Whole-module mode: a `def` the outline saw inside a string is no function.
            return found
        snippet = block.text(self.outline.lines)
        # An indented method parses as the body of a dummy block; rows shift by one.
        prefix = "if 1:\n" if block.indent else ""
        try:
            module = cst.parse_module(prefix + snippet)
        except cst.ParserSyntaxError as exc:
            raise SnippetError(block.name) from exc
        node = _first_function(module)
        if node is None or node.name.value != block.name:
            raise SnippetError(block.name)
        self._pieces.append(_Parsed(module, block.start - (1 if prefix else 0)))
        self._functions[block.header] = node
        return node

    def _range(self, node: cst.CSTNode) -> tuple[CodeRange, int]:
        # Most nodes asked about belong to the piece asked about last.
        pieces = sorted(self._pieces, key=lambda p: p is not self._last_piece)
        for piece in pieces:
            if len(self._pieces) == 1 or piece.owns(node):
                self._last_piece = piece
                return piece.positions[node], piece.row_offset
        raise KeyError(node)

    # -- ModuleView ---------------------------------------------------------------
    def position(self, node: cst.CSTNode) -> Position:
        r, offset = self._range(node)
        return Position(r.start.line + offset, r.start.column + 1)

    def span(self, node: cst.CSTNode) -> tuple[Position, Position]:
        r, offset = self._range(node)
        return (
            Position(r.start.line + offset, r.start.column + 1),
            Position(r.end.line + offset, r.end.column + 1),
        )

    def code(self, node: cst.CSTNode) -> str:
        return self._pieces[0].module.code_for_node(node)

    def resolve_call(self, call: cst.Call, cls: Block | None) -> Resolved | None:
        func = call.func
        if isinstance(func, cst.Name):
            return self._function_named(func.value)
        if not isinstance(func, cst.Attribute):
            return None
        receiver = func.value
        if isinstance(receiver, cst.Name) and receiver.value in ("self", "cls") and cls is not None:
            return self._method(cls, func.attr.value, include_self=True)
        if isinstance(receiver, cst.Call) and dotted_name(receiver.func) == "super" and cls is not None:
            return self._method(cls, func.attr.value, include_self=False)
        if isinstance(receiver, cst.Name):
            # `module.helper(...)` for an imported module of the analysed tree.
            target = self._imported_module(receiver.value)
            return target._function_named(func.attr.value, local_only=True) if target else None
        return None

    def _function_named(self, name: str, *, local_only: bool = False) -> Resolved | None:
        block = self.outline.function(name)
        if block is not None:
            node = self.function(block)
            return Resolved(node, None, self) if node else None
        if local_only:
            return None
        imported = self._imports().get(name)
        if imported is None or imported.attr is None:
            return None
        target = self._other(imported.module)
        return target._function_named(imported.attr, local_only=True) if target else None

    def _method(
        self, cls: Block, name: str, *, include_self: bool, seen: frozenset[str] = frozenset()
    ) -> Resolved | None:
        if include_self:
            block = cls.method(name)
            node = self.function(block) if block is not None else None
            if node is not None:
                return Resolved(node, cls, self)
        for base in cls.bases:
            if base in seen:
                continue
            owner, parent = self._class_named(base)
            if owner is not None and parent is not None:
                found = owner._method(parent, name, include_self=True, seen=seen | {base})
                if found:
                    return found
        return None

    def _class_named(self, name: str) -> tuple[ModuleAnalysis | None, Block | None]:
        """A base class by the name this module uses for it, here or imported."""
        local = self.outline.cls(name)
        if local is not None:
            return self, local
        head, _, attr = name.rpartition(".")
        imported = self._imports().get(head or name)
        if imported is None:
            return None, None
        if head:  # `module.Base`
            target = self._other(
                imported.module if imported.attr is None else f"{imported.module}.{imported.attr}"
            )
            return (target, target.outline.cls(attr)) if target else (None, None)
        if imported.attr is None:
            return None, None
        target = self._other(imported.module)
        return (target, target.outline.cls(imported.attr)) if target else (None, None)

    def _imported_module(self, name: str) -> ModuleAnalysis | None:
        imported = self._imports().get(name)
        if imported is None:
            return None
        module = imported.module if imported.attr is None else f"{imported.module}.{imported.attr}"
        return self._other(module)

    @property
    def module_name(self) -> str:
        if self._module_name is None:
            self._module_name = module_name(Path(self.filename))
        return self._module_name

    def _imports(self) -> dict[str, Imported]:
        if self._import_table is None:
            self._import_table = (
                imports(self.text, self.module_name, self.filename.endswith("__init__.py"))
                if self.project
                else {}
            )
        return self._import_table

    def _other(self, module: str) -> ModuleAnalysis | None:
        if self.project is None or module == self.module_name:
            return None
        found = self.project.analysis(module, Path(self.filename), self.module_name)
        self.deps.add(module)  # found or not: its absence decided the result too
        return found if isinstance(found, ModuleAnalysis) else None

    def returns_scalar(
        self, call: cst.Call, cls: Block | None, within: cst.FunctionDef | None = None
    ) -> bool:
        # A name the calling function binds itself (a nested `def`, an
        # assignment) is not the module's function of that name.
        if isinstance(call.func, cst.Name) and within is not None and binds_name(within, call.func.value):
            return False
        resolved = self.resolve_call(call, cls)
        if resolved is None or resolved.func.returns is None:
            return False
        if any(last_part(dotted_name(d.decorator)) == "overload" for d in resolved.func.decorators):
            return False  # one signature of several
        annotation = resolved.func.returns.annotation
        if isinstance(annotation, cst.SimpleString):
            try:
                text = annotation.evaluated_value
            except (SyntaxError, ValueError, UnicodeError):
                return False
            return isinstance(text, str) and text.strip() in SCALAR_TYPES
        return last_part(dotted_name(annotation)) in SCALAR_TYPES

    def helper_summary(self, call: cst.Call, cls: Block | None, arg: cst.Arg) -> HelperSummary | None:
        resolved = self.resolve_call(call, cls)
        if resolved is None:
            return None
        func, owner, home = resolved
        param = safety.param_for(func, owner is not None, call, arg)
        if param is None:
            return None
        return home._summary(func, owner, param)

    def _summary(self, func: cst.FunctionDef, owner: Block | None, param: cst.Param) -> HelperSummary:
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
        events = walker.run()
        matches = self._matches(events, materializing_only=True)
        drain_flow = next((m.flow for m in matches if m.event.value.seed == key), None)
        consumed = None if walker.preserves else multi_pass.full_consumption(func, events, key, self)
        summary = HelperSummary(
            func.name.value,
            drain_flow,
            walker.preserves,
            walker.returns_tee,
            None if consumed is None else self.step(consumed.node, f"read to the end by {func.name.value}()"),
        )
        self._summaries[key] = summary
        return summary

    # -- orchestration ------------------------------------------------------------------
    def _matches(self, events: list[Event], *, materializing_only: bool = False) -> Iterator[Match]:
        rules = [r for r in RULES if materializes(r)] if materializing_only else RULES
        for event in events:
            for rule in rules:
                yield from rule.check(event, self)
        for rule in rules:
            whole = getattr(rule, "check_function", None)
            if whole is not None:
                yield from whole(events, self)

    def units(self) -> Iterator[tuple[Block, Block | None]]:
        """The functions that can hold a weight stream, judged from their text.

        A selected function is walked with everything nested in it, except
        classes, whose methods are units of their own.
        """
        producers = ("_weights_iterator", *(p.rsplit(".", 1)[-1] for p in self.options.stream_producers))
        lines = self.outline.lines

        def selected(block: Block) -> bool:
            text = block.text(lines)
            return (
                block.name == "load_weights"
                or any(p in text for p in producers)
                or STREAM_ANNOTATION.search(text) is not None
            )

        def visit(blocks: list[Block], owner: Block | None) -> Iterator[tuple[Block, Block | None]]:
            for block in blocks:
                if block.kind == "class":
                    yield from visit(block.children, block)
                elif selected(block):
                    yield block, owner
                    yield from visit([c for c in block.children if c.kind == "class"], None)
                else:
                    yield from visit(block.children, None)

        yield from visit(self.outline.blocks, None)

    def findings(self) -> list[Finding]:
        matches: list[Match] = []
        for block, owner in self.units():
            func = self.function(block)
            if func is None:
                continue
            text = block.text(self.outline.lines)
            params = {p.name.value: p for p in streams.all_params(func)}
            seeds: dict[str, WeightValue | None] = {
                name: WeightValue(
                    ValueKind.STREAM,
                    (self.step(params[name], f"{kind.value} `{name}` of {func.name.value}()"),),
                    (id(func), name),
                )
                for name, kind in streams.source_params(func, is_method=owner is not None, text=text).items()
            }
            matches.extend(self._matches(FunctionWalker(self, func, owner, seeds).run()))
            for rule in RULES:
                unit_check = getattr(rule, "check_unit", None)
                # Syntactic rules name the words they need: a cheap no first.
                triggers = getattr(rule, "UNIT_TRIGGERS", ())
                if unit_check is not None and any(t in text for t in triggers):
                    matches.extend(unit_check(func, owner, self))
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
            if resolved is None or resolved.home is not self:
                continue
            func, owner, _ = resolved
            if func.name.value == "load_weights":
                continue  # an entry point is reported in its own right
            param = safety.param_for(func, owner is not None, call, arg)
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
        # Without a fix, the reason is the finding's news; with one, the report
        # shows it beside the fix.
        message = f"{m.message}: {reason}" if fix is None and reason else m.message
        statement = _statement_of(m.event.stack, m.node)
        flow = tuple(FlowStep(view.filename, view.position(node), note) for node, note, view in m.flow)
        return Finding(
            m.code,
            m.name,
            message,
            self.filename,
            start,
            end,
            fix,
            flow,
            reason,
            statement_row=self.position(statement).row,
            scope=_scope(m),
        )


def _first_function(module: cst.Module) -> cst.FunctionDef | None:
    for stmt in module.body:
        if isinstance(stmt, cst.FunctionDef):
            return stmt
        if isinstance(stmt, cst.If) and isinstance(stmt.body, cst.IndentedBlock):
            inner = stmt.body.body
            if inner and isinstance(inner[0], cst.FunctionDef):
                return inner[0]
    return None


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


def analyse(
    text: str, outline: Outline, filename: str, options: AnalysisOptions, project: Project | None = None
) -> tuple[list[Finding], set[str]]:
    """Findings for one module, and the other modules consulted.

    Snippets first; the whole module if a snippet does not parse on its own.
    """
    name = module_name(Path(filename)) if project else ""
    try:
        analysis = ModuleAnalysis(text, outline, filename, options, project=project, module_name=name)
        return analysis.findings(), analysis.deps
    except SnippetError:
        analysis = ModuleAnalysis(
            text, outline, filename, options, whole=True, project=project, module_name=name
        )
        return analysis.findings(), analysis.deps


def load_other(options: AnalysisOptions, project: Project) -> Callable[[str, Path], ModuleAnalysis]:
    """How a project opens another module of the tree: outline now, parse on demand."""

    def load(module: str, path: Path) -> ModuleAnalysis:
        text, _ = decode(path.read_bytes())
        return ModuleAnalysis(text, outline(text), str(path), options, project=project, module_name=module)

    return load


def _scope(m: Match) -> str:
    func = m.event.function.name.value
    return f"{m.event.cls.name}.{func}" if m.event.cls is not None else func
