"""Small, pure helpers over libcst nodes shared by the analysis stages."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from eagerlint.analysis.walk import children, descendants


def dotted_name(node: cst.BaseExpression) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted_name(node.value)
        return None if base is None else f"{base}.{node.attr.value}"
    return None


def callee_name(call: cst.Call) -> str | None:
    """The dotted name of a call's function: `loader.load_weights`,
    `super().load_weights`, `self.children[...].load_weights`."""
    return _render(call.func)


def _render(node: cst.BaseExpression) -> str | None:
    # Concrete classes, tested by type (see `walk.SCOPE_TYPES`).
    if type(node) is cst.Name:
        return node.value
    if type(node) is cst.Attribute:
        base = _render(node.value)
        return None if base is None else f"{base}.{node.attr.value}"
    if type(node) is cst.Call:
        base = _render(node.func)
        return None if base is None else f"{base}()"
    if type(node) is cst.Subscript:
        base = _render(node.value)
        return None if base is None else f"{base}[...]"
    return None


def last_part(name: str | None) -> str:
    return "" if name is None else name.rsplit(".", 1)[-1]


def root_name(node: cst.BaseExpression) -> str | None:
    """The variable a receiver chain starts from: `a` in `a[k].b.setdefault(x)`."""
    while True:
        if isinstance(node, cst.Name):
            return node.value
        if isinstance(node, cst.Attribute):
            node = node.value
        elif isinstance(node, cst.Subscript):
            node = node.value
        elif isinstance(node, cst.Call):
            node = node.func
        else:
            return None


def target_names(target: cst.BaseExpression) -> Iterator[str]:
    """Names bound by an assignment or loop target (tuples unpacked)."""
    if isinstance(target, cst.Name):
        yield target.value
    elif isinstance(target, (cst.Tuple, cst.List)):
        for el in target.elements:
            yield from target_names(el.value)
    elif isinstance(target, cst.StarredElement):
        yield from target_names(target.value)


def tensor_names(target: cst.BaseExpression) -> set[str]:
    """Names in a loop or assignment target that may hold a tensor.

    `for name, tensor in s` and `name, tensor = item[:2]`: by the (name, tensor)
    convention of weight streams the first slot is the name, and keeping names
    (`loaded.add(name)`) holds no weights.
    """
    if isinstance(target, (cst.Tuple, cst.List)) and len(target.elements) >= 2:
        return {n for el in target.elements[1:] for n in target_names(el.value) if n != "_"}
    return {n for n in target_names(target) if n != "_"}


def names_in(node: cst.CSTNode) -> set[str]:
    """Every variable name read or written anywhere inside `node`.

    In `a.b` only `a` is a variable; the attribute name is not.
    """
    found: set[str] = set()
    stack: list[cst.CSTNode] = [node]
    while stack:
        current = stack.pop()
        if type(current) is cst.Name:  # concrete classes: see `walk.SCOPE_TYPES`
            found.add(current.value)
        elif type(current) is cst.Attribute:
            stack.append(current.value)
        else:
            stack.extend(children(current))
    return found


def positional_args(call: cst.Call) -> list[cst.BaseExpression]:
    return [a.value for a in call.args if a.keyword is None and a.star == ""]


def binds_name(func: cst.FunctionDef, name: str) -> bool:
    """Whether `name` is a parameter of `func` or bound anywhere inside it."""
    for node in descendants(func):
        if isinstance(node, (cst.AssignTarget, cst.AnnAssign, cst.For)):
            if name in set(target_names(node.target)):
                return True
        elif isinstance(node, (cst.Param, cst.FunctionDef, cst.ClassDef)):
            if node.name.value == name:
                return True
        elif isinstance(node, cst.ImportAlias):
            bound = node.asname.name if node.asname else node.name
            if isinstance(bound, cst.Name) and bound.value == name:
                return True
    return False
