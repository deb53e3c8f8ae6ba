"""Rewrite `list(s)`, `tuple(s)`, `[*s]` and `(*s,)` into `s` itself.

The operand's own source text replaces the whole wrapper, so a generator
expression keeps its comments; a bare generator expression argument
(`list(e for x in s)`) gets the parentheses it needs to stand alone.
"""

from __future__ import annotations

import libcst as cst

from eagerlint.flow import ModuleView
from eagerlint.model import Edit


def unwrap(node: cst.CSTNode, operand: cst.BaseExpression, view: ModuleView) -> tuple[Edit, ...]:
    start, end = view.span(node)
    text = view.code(operand)
    if isinstance(operand, cst.GeneratorExp) and not operand.lpar:
        text = f"({text})"
    return (Edit(start, end, text),)
