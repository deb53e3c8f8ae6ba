"""Rewrite `list(s)`, `tuple(s)`, `[*s]` and `(*s,)` into `s` itself.

Comments and layout survive: when the wrapper spans lines or holds a comment,
or wraps a bare generator expression, only the function name goes and the
call's own parentheses stay around the operand (`list(e for x in s)` becomes
`(e for x in s)`).  A statement that would become `s = s` is removed instead,
keeping any comment it carried on a line of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import libcst as cst

from eagerlint.model import Edit, FixPlan, Position

if TYPE_CHECKING:
    from eagerlint.analysis.module import ModuleView


def plan(
    node: cst.BaseExpression, operand: cst.BaseExpression, stack: Sequence[cst.CSTNode], view: ModuleView
) -> FixPlan:
    """`list(s)` -> `s`; the uses of the list decide safety."""
    return FixPlan(_title(node, operand, stack, view), lambda: unwrap(node, operand, stack, view), node)


def _title(
    node: cst.BaseExpression, operand: cst.BaseExpression, stack: Sequence[cst.CSTNode], view: ModuleView
) -> str:
    """What the edit does, in words: which text becomes which."""
    code, operand_code = view.code(node), view.code(operand)
    if _is_self_assignment(node, operand, stack) and "#" not in code:
        return f"Remove `{operand_code} = {code}`: iterate `{operand_code}` itself"
    if isinstance(operand, cst.GeneratorExp):
        what = "the generator expression"
    else:
        what = f"`{operand_code}`" if "\n" not in operand_code and len(operand_code) <= 40 else "its argument"
    if "\n" not in code and len(code) <= 48:
        shown = f"`{code}`"
    else:
        shown = f"`{view.code(node.func)}(...)`" if isinstance(node, cst.Call) else "the literal"
    return f"Replace {shown} with {what}"


def unwrap(
    node: cst.CSTNode, operand: cst.BaseExpression, stack: Sequence[cst.CSTNode], view: ModuleView
) -> tuple[Edit, ...]:
    removal = _self_assignment(node, operand, stack, view)
    if removal is not None:
        return removal
    start, end = view.span(node)
    source = view.code(node)
    keep_parens = isinstance(node, cst.Call) and (
        "\n" in source or "#" in source or (isinstance(operand, cst.GeneratorExp) and not operand.lpar)
    )
    if keep_parens:
        assert isinstance(node, cst.Call)
        _, func_end = view.span(node.func)
        return (Edit(start, func_end, ""),)
    text = view.code(operand)
    if isinstance(operand, cst.GeneratorExp) and not operand.lpar:
        text = f"({text})"
    return (Edit(start, end, text),)


def _is_self_assignment(node: cst.CSTNode, operand: cst.BaseExpression, stack: Sequence[cst.CSTNode]) -> bool:
    parent, line = stack[-2], stack[-3]
    return (
        isinstance(parent, cst.Assign)
        and isinstance(line, cst.SimpleStatementLine)
        and len(line.body) == 1
        and len(parent.targets) == 1
        and isinstance(parent.targets[0].target, cst.Name)
        and isinstance(operand, cst.Name)
        and parent.targets[0].target.value == operand.value
    )


def _self_assignment(
    node: cst.CSTNode, operand: cst.BaseExpression, stack: Sequence[cst.CSTNode], view: ModuleView
) -> tuple[Edit, ...] | None:
    """`weights = list(weights)`: the whole statement goes."""
    if not _is_self_assignment(node, operand, stack) or "#" in view.code(node):
        return None
    line = stack[-3]
    assert isinstance(line, cst.SimpleStatementLine)
    start, _ = view.span(line)
    comment = line.trailing_whitespace.comment
    if comment is not None:
        # Keep the comment where the statement was.
        comment_start, _ = view.span(comment)
        return (Edit(start, comment_start, ""),)
    # Remove the line, from its indentation to its newline.
    return (Edit(Position(start.row, 1), Position(start.row + 1, 1), ""),)
