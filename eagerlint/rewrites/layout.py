"""Lay out a bracketed list the way ruff format (and black) would.

A rewrite that adds parameters to a `def` or arguments to a call writes the
whole bracketed list again, in the first of three forms that fits the line
length: everything on one line; the items on one indented line of their own;
one item per line with a trailing comma.  A list that ended with a comma (the
"magic trailing comma") always takes the last form.  Text laid out this way is
left unchanged by the formatter, so a fix adds no formatting noise.
"""

from __future__ import annotations

from collections.abc import Sequence


def bracketed(
    indent: str,
    unit: str,
    head: str,
    items: Sequence[str],
    tail: str,
    limit: int,
    *,
    magic: bool = False,
    newline: str = "\n",
) -> str:
    """`{indent}{head}(` items `){tail}`, without a final newline."""
    joined = ", ".join(items)
    one = f"{indent}{head}({joined}){tail}"
    if not magic and len(one) <= limit:
        return one
    hug = f"{indent}{unit}{joined}"
    if not magic and len(hug) <= limit and len(f"{indent}{head}(") <= limit:
        return f"{indent}{head}({newline}{hug}{newline}{indent}){tail}"
    lines = "".join(f"{indent}{unit}{item},{newline}" for item in items)
    return f"{indent}{head}({newline}{lines}{indent}){tail}"
