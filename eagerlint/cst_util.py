"""Small, pure helpers over libcst nodes shared by the analysis stages."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst


def dotted_name(node: cst.BaseExpression) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted_name(node.value)
        return None if base is None else f"{base}.{node.attr.value}"
    return None


def callee_name(call: cst.Call) -> str | None:
    """The dotted name of a call's function, e.g. `loader.load_weights`."""
    return dotted_name(call.func)


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


class _NameCollector(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        # `a.b`: only `a` is a variable read; the attribute name is not.
        node.value.visit(self)
        return False


def names_in(node: cst.CSTNode) -> set[str]:
    """Every variable name read or written anywhere inside `node`."""
    collector = _NameCollector()
    node.visit(collector)
    return collector.names


def positional_args(call: cst.Call) -> list[cst.BaseExpression]:
    return [a.value for a in call.args if a.keyword is None and a.star == ""]


def is_generator_function(func: cst.FunctionDef) -> bool:
    """True when the body (not nested defs) contains `yield`."""
    finder = _YieldFinder()
    func.body.visit(finder)
    return finder.found


class _YieldFinder(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found = False

    def visit_Yield(self, node: cst.Yield) -> bool:
        self.found = True
        return False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False
