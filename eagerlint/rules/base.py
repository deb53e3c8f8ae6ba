"""What a rule is: its documentation plus a matcher over flow events."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Protocol

import libcst as cst

from eagerlint.flow import Event, ModuleView, Step
from eagerlint.model import Edit

EditBuilder = Callable[[], tuple[Edit, ...]]


@dataclass(frozen=True)
class Match:
    """A rule's verdict on one event, before fix safety and suppression."""

    code: str
    name: str
    message: str
    node: cst.CSTNode  # what the finding's range covers
    event: Event
    flow: tuple[Step, ...]
    # The materialized value whose consumers decide fix safety; None when the
    # rule offers no rewrite at all.
    value_node: cst.BaseExpression | None = None
    rewrite: EditBuilder | None = None
    fix_title: str = ""
    no_fix_reason: str = ""
    # Fixes that live elsewhere (a helper's body) and their own applicability.
    inherited_fix: tuple[str, tuple[Edit, ...], str] | None = None


class RuleModule(Protocol):
    CODE: str
    NAME: str
    __doc__: str | None

    def check(self, event: Event, view: ModuleView) -> Iterator[Match]: ...


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


def doc_of(module: ModuleType) -> RuleDoc:
    return RuleDoc(module.CODE, module.NAME, (module.__doc__ or "").strip())
