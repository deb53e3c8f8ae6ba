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


def tensor_names(target: cst.BaseExpression) -> set[str]:
    """Names in a loop or assignment target that may hold a tensor.

    `for name, tensor in s` and `name, tensor = item[:2]`: by the (name, tensor)
    convention of weight streams the first slot is the name, and keeping names
    (`loaded.add(name)`) holds no weights.
    """
    if isinstance(target, (cst.Tuple, cst.List)) and len(target.elements) >= 2:
        return {n for el in target.elements[1:] for n in target_names(el.value) if n != "_"}
    return {n for n in target_names(target) if n != "_"}


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


class _Binder(cst.CSTVisitor):
    def __init__(self, name: str) -> None:
        self.name = name
        self.found = False

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self.found |= self.name in set(target_names(node.target))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self.found |= self.name in set(target_names(node.target))

    def visit_For(self, node: cst.For) -> None:
        self.found |= self.name in set(target_names(node.target))

    def visit_Param(self, node: cst.Param) -> None:
        self.found |= node.name.value == self.name

    def visit_ImportAlias(self, node: cst.ImportAlias) -> None:
        bound = node.asname.name if node.asname else node.name
        self.found |= isinstance(bound, cst.Name) and bound.value == self.name

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.found |= node.name.value == self.name


def binds_name(func: cst.FunctionDef, name: str) -> bool:
    """Whether `name` is a parameter of `func` or bound anywhere inside it."""
    binder = _Binder(name)
    func.visit(binder)
    return binder.found
