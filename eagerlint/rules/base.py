"""What a rule is: its documentation plus hooks that word what the analysis found.

A rule module defines one `RULE = Rule(...)`, with the clause that says what its
findings cost (`cost`): a message is the rule's words for the place, then that
clause; it holds no line number and no path (those are in the flow).  A rule has up to four hooks, all
optional: `on_event` (one flow event), `on_function` (every event of one walked
function), `on_unit` (the syntax of a unit, with the words its matches need, so
most units are skipped by a substring test).  Hooks return `Match`es: the
finding's words and node, where it is, its flow, and the fix plan if any.  The
engine decides fix safety and builds findings; a rule never imports another.
`on_directive` words a `# noqa` directive that silenced nothing (`Unused`, from
the suppression stage, which runs after every other rule) as a finding.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from eagerlint.analysis.flow import Event, Step, Where
from eagerlint.model import Finding, FixPlan, Unused
from eagerlint.outline import Block

if TYPE_CHECKING:
    from eagerlint.analysis.module import ModuleView


@dataclass(frozen=True)
class Match:
    """A rule's verdict on one place, before fix safety and suppression."""

    message: str
    node: cst.CSTNode  # what the finding's range covers
    where: Where
    flow: tuple[Step, ...]
    fix: FixPlan | None = None
    no_fix_reason: str = ""
    # Nodes of other matches this one reports as steps of its own flow (a
    # `list()` copy that only this loop reads): those matches are dropped.
    absorbs: tuple[cst.CSTNode, ...] = ()
    # What this place costs, when it is not the rule's `cost`.
    cost: str = ""


EventHook = Callable[[Event, "ModuleView"], Iterator[Match]]
FunctionHook = Callable[[list[Event], "ModuleView"], Iterator[Match]]
UnitHook = Callable[[cst.FunctionDef, Block | None, "ModuleView"], Iterator[Match]]
DirectiveHook = Callable[[Unused, str], Finding]


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    doc: str
    # Why a finding costs memory (or, for a correctness rule, what goes wrong): the
    # clause that ends every message, so the message says why it matters.
    cost: str
    on_event: EventHook | None = None
    on_function: FunctionHook | None = None
    on_unit: UnitHook | None = None
    on_directive: DirectiveHook | None = None
    # Words every `on_unit` match needs in the unit's text (a cheap no first).
    unit_triggers: tuple[str, ...] = ()
    # False: the rule runs only when named (`codes.DEFAULT_OFF`, see config).
    default: bool = True
    # Whether another rule's match may report this rule's match as a step of its
    # own flow and drop it (`Match.absorbs`): a memory finding absorbs the `list()`
    # copy it goes through; a corruption at the same place is no step of it.
    absorbable: bool = True

    def __post_init__(self) -> None:
        if not self.cost:
            raise ValueError(f"{self.code}: a rule says what its findings cost (`cost`)")
        if not (self.on_event or self.on_function or self.on_unit or self.on_directive):
            raise ValueError(f"{self.code}: a rule needs at least one hook")
        if self.on_unit is not None and not self.unit_triggers:
            raise ValueError(f"{self.code}: `on_unit` needs the words its matches need (`unit_triggers`)")
        if not re.fullmatch(r"EL\d{3}", self.code):
            raise ValueError(f"{self.code}: rule codes are EL and three digits")

    @property
    def docs(self) -> RuleDoc:
        return RuleDoc(self.code, self.name, self.doc.strip())


SECTIONS = ("What it does", "Why is this bad?", "Example", "Use instead", "Fix safety")


@dataclass(frozen=True)
class RuleDoc:
    code: str
    name: str
    text: str

    def section(self, title: str) -> str:
        pattern = rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)"
        found = re.search(pattern, self.text, flags=re.S | re.M)
        return found.group(1).strip() if found else ""

    def code_block(self, title: str) -> str:
        block = re.search(r"```python\n(.*?)```", self.section(title), flags=re.S)
        return block.group(1) if block else ""
