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
from pathlib import Path

import libcst as cst

from eagerlint.analysis import safety, sources, streams
from eagerlint.analysis.flow import FunctionWalker, Seed, ValueKind, WeightValue
from eagerlint.analysis.module import ModuleView
from eagerlint.analysis.project import Project, module_name
from eagerlint.analysis.source import ModuleSource, SnippetError
from eagerlint.analysis.walk import ancestors_to
from eagerlint.model import AnalysisOptions, Finding, Fix, FlowStep
from eagerlint.outline import Block, Outline, outline
from eagerlint.prefilter import decode
from eagerlint.rules import RULES, lookup
from eagerlint.rules.base import Match, Rule, RuleDoc

__all__ = ["analyse", "findings", "load_other", "rule_doc", "rule_docs", "units"]


def rule_docs() -> list[RuleDoc]:
    """Every rule's documentation, in code order."""
    return [r.docs for r in RULES]


def rule_doc(code_or_name: str) -> RuleDoc | None:
    found = lookup(code_or_name)
    return None if found is None else found.docs


def analyse(
    text: str, outline: Outline, filename: str, options: AnalysisOptions, project: Project | None = None
) -> tuple[list[Finding], set[str]]:
    """Findings for one module, and the other modules consulted.

    Snippets first; the whole module if a snippet does not parse on its own.
    """
    name = module_name(Path(filename)) if project else ""
    try:
        view = ModuleView(ModuleSource(text, outline, filename), options, project, name)
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
    matches: list[tuple[Rule, Match]] = []
    for block, owner in units(view):
        func = view.source.function(block)
        if func is None:
            continue
        text = block.text(view.outline.lines)
        params = {p.name.value: p for p in streams.all_params(func)}
        seeds: dict[str, WeightValue | None] = {
            name: WeightValue(
                ValueKind.STREAM,
                (view.step(params[name], f"{kind.value} `{name}` of {func.name.value}()"),),
                (id(func), name),
            )
            for name, kind in streams.source_params(func, is_method=owner is not None, text=text).items()
        }
        events = FunctionWalker(view, func, owner, seeds).run()
        for event in events:
            for rule in RULES:
                if rule.on_event is not None:
                    matches.extend((rule, m) for m in rule.on_event(event, view))
        for rule in RULES:
            if rule.on_function is not None:
                matches.extend((rule, m) for m in rule.on_function(events, view))
        for rule in RULES:
            # A unit rule names the words its matches need: a cheap no first.
            if rule.on_unit is not None and any(t in text for t in rule.unit_triggers):
                matches.extend((rule, m) for m in rule.on_unit(func, owner, view))
    covered: set[Seed] = {m.covers for _, m in matches if m.covers is not None}
    kept = [_finding(rule, m, view) for rule, m in matches if m.where.seed not in covered]
    return sorted(kept, key=lambda f: (f.location, f.code))


def _finding(rule: Rule, m: Match, view: ModuleView) -> Finding:
    start, end = view.span(m.node)
    fix: Fix | None = None
    reason = m.no_fix_reason
    if m.fix is not None:
        verdict = safety.judge(m.fix, m.where.stack, view)
        reason = verdict.reason
        if verdict.applicability is not None:
            fix = Fix(verdict.applicability, m.fix.title, m.fix.edits())
    # Without a fix, the reason is the finding's news; with one, the report
    # shows it beside the fix.
    message = f"{m.message}: {reason}" if fix is None and reason else m.message
    statement = _statement_of(m.where.stack, m.node)
    flow = tuple(FlowStep(s.source.filename, s.source.position(s.node), s.note) for s in m.flow)
    func = m.where.function.name.value
    return Finding(
        rule.code,
        rule.name,
        message,
        view.filename,
        start,
        end,
        fix,
        flow,
        reason,
        statement_row=view.position(statement).row,
        scope=f"{m.where.cls.name}.{func}" if m.where.cls is not None else func,
    )


def _statement_of(stack: tuple[cst.CSTNode, ...], node: cst.CSTNode) -> cst.CSTNode:
    """The innermost statement holding `node` (for `# noqa` on its first line)."""
    for ancestor in reversed(ancestors_to(stack, node)):
        if isinstance(ancestor, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            return ancestor
    return node
