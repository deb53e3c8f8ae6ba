"""Units -> walker -> rules -> findings with their fix plans, for one module.

The only module that imports the rules.  It picks the functions that can hold
a weight stream (the units: the text form of `analysis/sources.py`), walks each
with its stream parameters, hands the events to every rule's hooks, and turns
the matches into frozen `Finding`s, with each fix plan's applicability decided
by `analysis/safety.py`.  The analysis itself (what keeps, what consumes, what
a helper does) lives in `analysis/` and never asks a rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import libcst as cst

from eagerlint.analysis import materialize, safety, sources, streams
from eagerlint.analysis.flow import Event, EventKind, FunctionWalker, Seed, Step, ValueKind, WeightValue
from eagerlint.analysis.module import ModuleView
from eagerlint.analysis.project import Project
from eagerlint.analysis.source import ModuleSource, Parses, SnippetError
from eagerlint.analysis.walk import ancestors_to
from eagerlint.edits import apply_fixes, text_between
from eagerlint.model import AnalysisOptions, Applicability, Edit, Finding, Fix, FlowStep, Position, Unused
from eagerlint.outline import Block, Outline, outline, reoutline, split_lines
from eagerlint.prefilter import decode
from eagerlint.rules import RULES, lookup
from eagerlint.rules.base import Match, Rule, RuleDoc

__all__ = ["analyse", "findings", "load_other", "noqa_findings", "rule_doc", "rule_docs", "units"]


def rule_docs() -> list[RuleDoc]:
    """Every rule's documentation, in code order."""
    return [r.docs for r in RULES]


def rule_doc(code_or_name: str) -> RuleDoc | None:
    found = lookup(code_or_name)
    return None if found is None else found.docs


def noqa_findings(unused: list[Unused], filename: str, codes: frozenset[str]) -> list[Finding]:
    """Findings for directives that silenced nothing, from the rules that word them
    (`codes`: those enabled for the file); a directive naming such a rule's own code
    silences its report."""
    return [
        rule.on_directive(u, filename)
        for rule in RULES
        if rule.on_directive is not None and rule.code in codes
        for u in unused
        if rule.code not in u.directive
    ]


def directive_codes() -> frozenset[str]:
    """The codes of the rules that judge directives (never themselves judged unused)."""
    return frozenset(r.code for r in RULES if r.on_directive is not None)


def analyse(
    text: str,
    outline: Outline,
    filename: str,
    options: AnalysisOptions,
    project: Project | None = None,
    parses: Parses | None = None,
) -> tuple[list[Finding], set[str]]:
    """Findings for one module, and the other modules consulted.

    Snippets first; the whole module if a snippet does not parse on its own.
    `parses`: the snippet parses of the same file's earlier rounds of fixing.
    """
    name = project.module_name(Path(filename)) if project else ""
    try:
        view = ModuleView(ModuleSource(text, outline, filename, parses=parses), options, project, name)
        return findings(view), view.deps
    except SnippetError:
        view = ModuleView(ModuleSource(text, outline, filename, whole=True), options, project, name)
        return findings(view), view.deps


def load_other(options: AnalysisOptions, project: Project) -> Callable[[str, Path], ModuleView]:
    """How a project opens another module of the tree: outline now, parse on demand."""

    def load(module: str, path: Path) -> ModuleView:
        text, _ = decode(path.read_bytes())
        return ModuleView(ModuleSource(text, outline(text), str(path)), options, project, module)

    return load


def units(view: ModuleView) -> Iterator[tuple[Block, Block | None]]:
    """The functions that can hold a weight stream, judged from their text.

    A selected function is walked with everything nested in it, except
    classes, whose methods are units of their own.
    """
    lines = view.outline.lines

    def visit(blocks: list[Block], owner: Block | None) -> Iterator[tuple[Block, Block | None]]:
        for block in blocks:
            if block.kind == "class":
                yield from visit(block.children, block)
            elif sources.selects_unit(block.name, block.text(lines), view.options):
                yield block, owner
                yield from visit([c for c in block.children if c.kind == "class"], None)
            else:
                yield from visit(block.children, None)

    yield from visit(view.outline.blocks, None)


def findings(view: ModuleView) -> list[Finding]:
    matches, reached = _matches(view)
    absorbed = {id(node) for _, m in matches for node in m.absorbs}
    kept = [
        (r, _reached_from(m, reached)) for r, m in matches if id(m.node) not in absorbed or not r.absorbable
    ]
    judged = _what_remains([_judge(r, m, view) for r, m in kept], view)
    return sorted((_finding(j, view) for j in judged), key=lambda f: (f.location, f.code))


def _seeds(
    view: ModuleView, func: cst.FunctionDef, owner: Block | None, text: str
) -> dict[str, WeightValue | None]:
    params = {p.name.value: p for p in streams.all_params(func)}
    return {
        name: WeightValue(
            ValueKind.STREAM,
            (view.step(params[name], f"{kind.value} `{name}` of {func.name.value}()"),),
            (id(func), name),
        )
        for name, kind in streams.source_params(func, is_method=owner is not None, text=text).items()
    }


@dataclass
class _Reached:
    """A helper of this module that a unit hands a stream to, and the calls that do."""

    func: cst.FunctionDef
    owner: Block | None
    param: cst.Param
    calls: list[Step]


def _matches(view: ModuleView) -> tuple[list[tuple[Rule, Match]], dict[Seed, _Reached]]:
    """Every rule's matches on the units, then on the helpers of this module that
    units (or those helpers) hand a stream to, so that a helper's own line is
    reported where it keeps the stream."""
    matches: list[tuple[Rule, Match]] = []
    walked: set[Seed] = set()  # the (function, parameter) streams walked so far
    reached: dict[Seed, _Reached] = {}
    for block, owner in units(view):
        func = view.source.function(block)
        if func is None:
            continue
        text = block.text(view.outline.lines)
        seeds = _seeds(view, func, owner, text)
        walked |= {(id(func), name) for name in seeds}
        events = FunctionWalker(view, func, owner, seeds).run()
        matches += _rule_matches(view, func, owner, text, events, syntax=True)
        _record_reached(view, events, reached)
    todo = list(reached)
    while todo:
        seed = todo.pop(0)
        if seed in walked:
            continue
        walked.add(seed)
        helper = reached[seed]
        name, param = helper.func.name.value, helper.param.name.value
        entry = WeightValue(
            ValueKind.STREAM, (view.step(helper.param, f"helper parameter `{param}` of {name}()"),), seed
        )
        events = FunctionWalker(view, helper.func, helper.owner, {param: entry}).run()
        # The syntactic rules have read this function already if it is a unit.
        matches += _rule_matches(view, helper.func, helper.owner, "", events, syntax=False)
        before = set(reached)
        _record_reached(view, events, reached)
        todo += [k for k in reached if k not in before]
    return matches, reached


def _rule_matches(
    view: ModuleView,
    func: cst.FunctionDef,
    owner: Block | None,
    text: str,
    events: list[Event],
    *,
    syntax: bool,
) -> list[tuple[Rule, Match]]:
    found: list[tuple[Rule, Match]] = []
    rules = [r for r in RULES if r.default or r.code in view.options.opt_in_rules]
    for event in events:
        for rule in rules:
            if rule.on_event is not None:
                found += [(rule, m) for m in rule.on_event(event, view)]
    for rule in rules:
        if rule.on_function is not None:
            found += [(rule, m) for m in rule.on_function(events, view)]
    for rule in rules if syntax else ():
        # A unit rule names the words its matches need: a cheap no first.
        if rule.on_unit is not None and any(t in text for t in rule.unit_triggers):
            found += [(rule, m) for m in rule.on_unit(func, owner, view)]
    return found


def _record_reached(view: ModuleView, events: list[Event], reached: dict[Seed, _Reached]) -> None:
    """The helpers of this module that these events hand a stream to, and keep."""
    for event in events:
        # A helper handed a list already built re-buffers it: the call says so.
        if event.kind is not EventKind.CALL_ARG or event.value.kind is not ValueKind.STREAM:
            continue
        found = materialize.materialization(event, view)
        if found is None or found.helper is None or found.param is None or found.helper.home is not view:
            continue
        seed = (id(found.helper.func), found.param.name.value)
        helper = reached.setdefault(seed, _Reached(found.helper.func, found.helper.owner, found.param, []))
        caller = _scope_of(event.function, event.cls)
        helper.calls.append(view.step(event.node, f"handed the stream of {caller}() here"))


def _reached_from(m: Match, reached: dict[Seed, _Reached]) -> Match:
    """A helper's own finding, its flow starting at the calls that hand it the stream."""
    helper = reached.get(m.where.seed) if m.where.seed is not None else None
    if helper is None:
        return m
    return replace(m, flow=(*helper.calls, *m.flow))


@dataclass(frozen=True)
class _Judged:
    rule: Rule
    match: Match
    fix: Fix | None
    reason: str


def _judge(rule: Rule, m: Match, view: ModuleView) -> _Judged:
    if m.fix is None:
        return _Judged(rule, m, None, m.no_fix_reason)
    verdict = safety.judge(m.fix, m.where, view)
    if verdict.applicability is None:
        return _Judged(rule, m, None, verdict.reason)
    return _Judged(rule, m, Fix(verdict.applicability, m.fix.title, m.fix.edits()), verdict.reason)


# -- a fix is judged by what remains -----------------------------------------------------


def _what_remains(judged: list[_Judged], view: ModuleView) -> list[_Judged]:
    """Fixes that leave their stream kept are no fixes.

    All fixes on one stream of one function are applied together and the
    function is analysed again: if the stream is still kept, none of them is
    offered (each is cosmetic alone).  If it is kept after the safe ones alone,
    those save memory only with the unsafe ones, and are offered as unsafe too.
    """
    groups: dict[tuple[str, str], list[int]] = {}
    for i, j in enumerate(judged):
        if j.fix is not None and j.match.flow:
            groups.setdefault((_scope(j.match), j.match.flow[0].note), []).append(i)
    out = list(judged)
    if not groups:
        return out
    shallow = _shallow(view.outline)  # only for modules with fixes to judge
    for (scope, stream), members in groups.items():
        fixes = [out[i].fix for i in members if out[i].fix is not None]
        left = _kept_after([f for f in fixes if f is not None], view, scope, stream, shallow)
        if left is not None:
            for i in members:
                reason = f"the stream would still be kept after this edit, {left}"
                out[i] = _Judged(out[i].rule, out[i].match, None, reason)
            continue
        safe = [f for f in fixes if f is not None and f.applicability is Applicability.SAFE]
        if len(safe) == len(fixes) or not safe:
            continue
        if _kept_after(safe, view, scope, stream, shallow) is not None:
            for i in members:
                fix = out[i].fix
                if fix is not None and fix.applicability is Applicability.SAFE:
                    reason = "it saves memory only together with the unsafe fixes on the same stream"
                    out[i] = _Judged(
                        out[i].rule, out[i].match, replace(fix, applicability=Applicability.UNSAFE), reason
                    )
    return out


def _kept_after(fixes: list[Fix], view: ModuleView, scope: str, stream: str, shallow: _Shallow) -> str | None:
    """Where `stream` is still kept in `scope` once `fixes` are applied (None: nowhere)."""
    applied = _apply_in_place(view.outline, fixes)
    if applied is None:
        return None  # overlapping fixes are applied in later rounds, and judged then
    source = view.source.edited(*applied)
    after = ModuleView(source, view.options, view.resolver.project, view.resolver.module_name)
    try:
        return _kept_in(after, scope, stream, shallow)
    except SnippetError:
        whole = ModuleSource(source.text, source.outline, view.filename, whole=True)
        return _kept_in(
            ModuleView(whole, view.options, view.resolver.project, view.resolver.module_name),
            scope,
            stream,
            shallow,
        )


def _apply_in_place(old: Outline, fixes: list[Fix]) -> tuple[Outline, str, str] | None:
    """The module's outline after `fixes`, edited only in the lines they touch, with
    those lines before and after (None when the fixes overlap)."""
    rows = [row for f in fixes for e in f.edits for row in (e.location.row, e.end_location.row)]
    first, last = min(rows), max(rows)
    shifted = [replace(f, edits=tuple(_up(e, first) for e in f.edits)) for f in fixes]
    before = "".join(old.lines[first - 1 : last])
    chunk, applied = apply_fixes(before, shifted)
    if applied < len(fixes):
        return None
    return reoutline(old, first - 1, last - first + 1, split_lines(chunk)), before, chunk


def _up(edit: Edit, first: int) -> Edit:
    """`edit` with its rows counted from row `first`."""
    start, end = edit.location, edit.end_location
    return replace(
        edit,
        location=Position(start.row - first + 1, start.column),
        end_location=Position(end.row - first + 1, end.column),
    )


def _kept_in(view: ModuleView, scope: str, stream: str, shallow: _Shallow) -> str | None:
    for block, owner in _units_named(view, scope, shallow):
        func = view.source.function(block)
        if func is None:
            continue
        seeds = _seeds(view, func, owner, block.text(view.outline.lines))
        for event in FunctionWalker(view, func, owner, seeds).run():
            found = materialize.materialization(event, view)
            if found is not None and event.value.steps and event.value.steps[0].note == stream:
                return found.flow[-1].note
    return None


def _units_named(view: ModuleView, scope: str, shallow: _Shallow) -> Iterator[_Unit]:
    """The units called `scope` (`Class.method` or `function`).  When the outline's
    blocks are the module's own and `scope` names one shallow def (see `_shallow`),
    that one is judged by its text alone; otherwise every unit is walked."""
    found = shallow.units.get(scope)
    if found is not None and view.outline.blocks is shallow.blocks:
        block, owner = found
        if sources.selects_unit(block.name, block.text(view.outline.lines), view.options):
            yield block, owner
        return
    for block, owner in units(view):
        if _scope_name(block.name, owner) == scope:
            yield block, owner


_Unit = tuple[Block, Block | None]


@dataclass(frozen=True)
class _Shallow:
    """The module's blocks, and by scope name its defs at the top level or directly
    in a top-level class whose scope name no other def of the module has (at any
    depth): for those, being a unit depends on their own text only."""

    blocks: list[Block]
    units: dict[str, _Unit]


def _shallow(outline_: Outline) -> _Shallow:
    count: dict[str, int] = {}
    shallow: dict[str, _Unit] = {}

    def visit(blocks: list[Block], parent: Block | None, depth: int) -> None:
        for block in blocks:
            if block.kind == "def":
                owner = parent if parent is not None and parent.kind == "class" else None
                scope = _scope_name(block.name, owner)
                count[scope] = count.get(scope, 0) + 1
                if depth == 0 or (depth == 1 and owner is not None):
                    shallow[scope] = (block, owner)
            visit(block.children, block, depth + 1)

    visit(outline_.blocks, None, 0)
    return _Shallow(outline_.blocks, {scope: unit for scope, unit in shallow.items() if count[scope] == 1})


def _scope(m: Match) -> str:
    return _scope_of(m.where.function, m.where.cls)


def _scope_of(func: cst.FunctionDef, cls: Block | None) -> str:
    return _scope_name(func.name.value, cls)


def _scope_name(name: str, cls: Block | None) -> str:
    return f"{cls.name}.{name}" if cls is not None else name


def _finding(j: _Judged, view: ModuleView) -> Finding:
    m = j.match
    start, end = view.span(m.node)
    # The rule's words, then what the place costs; the fix's reason (or why there
    # is none) is a field of its own, so the message stays the same when it changes.
    message = f"{m.message}: {m.cost or j.rule.cost}"
    statement = _statement_of(m.where.stack, m.node)
    flow = tuple(FlowStep(s.source.filename, s.source.position(s.node), s.note) for s in m.flow)
    return Finding(
        j.rule.code,
        j.rule.name,
        message,
        view.filename,
        start,
        end,
        j.fix,
        flow,
        j.reason,
        statement_row=view.position(statement).row,
        scope=_scope(m),
        statement=_statement_text(statement, view),
    )


def _statement_text(statement: cst.CSTNode, view: ModuleView) -> str:
    """A simple statement's text, or a compound statement's header up to its body."""
    start, end = view.span(statement)
    if isinstance(statement, cst.BaseCompoundStatement):
        end = view.position(statement.body)
    return text_between(view.outline.lines, start, end)


def _statement_of(stack: tuple[cst.CSTNode, ...], node: cst.CSTNode) -> cst.CSTNode:
    """The innermost statement holding `node` (for `# noqa` on its first line)."""
    for ancestor in reversed(ancestors_to(stack, node)):
        if isinstance(ancestor, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            return ancestor
    return node
