"""Rewrite `[e for x in s]` into `(e for x in s)`.

Only the two brackets change, so comments and layout inside survive.  When the
comprehension is the only argument of a call, the brackets are dropped instead
(`f([e for x in s])` becomes `f(e for x in s)`), as ruff's C4 fixes do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import libcst as cst

from eagerlint.model import Edit, FixPlan, Position

if TYPE_CHECKING:
    from eagerlint.analysis.module import ModuleView

TITLE = "Use a generator expression"


def plan(node: cst.ListComp, stack: Sequence[cst.CSTNode], view: ModuleView) -> FixPlan:
    """`stack`: the ancestors of `node`, ending with `node`; the list's uses decide safety."""
    parent, grandparent = stack[-2], stack[-3]
    return FixPlan(TITLE, lambda: listcomp_to_genexp(node, parent, grandparent, view), node)


def _sole_call_argument(node: cst.ListComp, parent: cst.CSTNode | None) -> bool:
    return isinstance(parent, cst.Arg) and parent.keyword is None and parent.star == "" and not node.lpar


def listcomp_to_genexp(
    node: cst.ListComp, parent: cst.CSTNode | None, grandparent: cst.CSTNode | None, view: ModuleView
) -> tuple[Edit, ...]:
    start, end = view.span(node)
    sole = (
        _sole_call_argument(node, parent) and isinstance(grandparent, cst.Call) and len(grandparent.args) == 1
    )
    # An already parenthesized comprehension keeps its parentheses: the
    # brackets simply go.
    opening, closing = ("", "") if sole or node.lpar else ("(", ")")
    close_at = Position(end.row, end.column - 1)
    return (
        Edit(start, Position(start.row, start.column + 1), opening),
        Edit(close_at, end, closing),
    )
