"""A read-only traversal of libcst trees, several times faster than `node.visit`.

libcst's visitor protocol rebuilds every node it passes through (it is built
for transformers), and that dominated eagerlint's run time.  The analysis only
reads, so `Visitor.walk` follows dataclass fields directly, skipping the
whitespace, comment and punctuation nodes no rule looks at, and dispatches to
`visit_<Type>` / `leave_<Type>` methods like `libcst.CSTVisitor`.  Fields are
declared in source order for everything the analysis orders by (statements in
a body, an assignment's targets before its value).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import libcst as cst
from libcst._nodes import op, whitespace

# Node classes no analysis reads: whitespace, comments, brackets, commas, dots.
_OPERATORS = (cst.BaseBinaryOp, cst.BaseBooleanOp, cst.BaseCompOp, cst.BaseUnaryOp, cst.BaseAugOp)
_PUNCTUATION = (
    cst.LeftParen, cst.RightParen, cst.LeftSquareBracket, cst.RightSquareBracket,
    cst.LeftCurlyBrace, cst.RightCurlyBrace, cst.Comma, cst.Dot, cst.Colon, cst.Semicolon,
    cst.AssignEqual, cst.ImportStar,
)  # fmt: skip
_SKIP: tuple[type, ...] = (
    *(
        cls
        for module in (whitespace, op)
        for cls in vars(module).values()
        if isinstance(cls, type) and issubclass(cls, cst.CSTNode) and cls.__module__ == module.__name__
    ),
    *_PUNCTUATION,
    *_OPERATORS,
)
_FIELDS: dict[type, tuple[str, ...]] = {}


def _fields(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = tuple(
            f.name
            for f in dataclasses.fields(cls)
            if not f.name.startswith(("whitespace", "lpar", "rpar", "leading_lines", "lines_after"))
        )
        _FIELDS[cls] = names
    return names


_KIND: dict[type, int] = {}
_OTHER, _NODE, _SKIPPED, _SEQUENCE = 0, 1, 2, 3


def _kind(kind: type) -> int:
    # libcst's node classes are ABCs, whose isinstance checks are slow; the
    # answer per concrete type never changes, so it is computed once.
    found = _KIND.get(kind)
    if found is None:
        if issubclass(kind, cst.CSTNode):
            found = _SKIPPED if issubclass(kind, _SKIP) else _NODE
        elif issubclass(kind, (list, tuple)):
            found = _SEQUENCE
        else:
            found = _OTHER
        _KIND[kind] = found
    return found


# node id -> (node, its children): the analysis asks for a node's children about
# nine times (vLLM 0.33.0).  The node is kept with them, so its id cannot be reused
# while the entry lives; `forget` empties it after each file.
_BELOW: dict[int, tuple[cst.CSTNode, tuple[cst.CSTNode, ...]]] = {}


def children(node: cst.CSTNode) -> tuple[cst.CSTNode, ...]:
    """The nodes directly below `node` that the analysis reads, in source order."""
    cached = _BELOW.get(id(node))
    if cached is not None:
        return cached[1]
    found: list[cst.CSTNode] = []
    known = _KIND.get  # the per-type answer, looked up inline: this runs for every node
    names = _FIELDS.get(type(node)) or _fields(type(node))
    for name in names:
        value = getattr(node, name)
        kind = known(type(value))
        if kind is None:
            kind = _kind(type(value))
        if kind == _NODE:
            found.append(value)
        elif kind == _SEQUENCE:
            for item in value:
                item_kind = known(type(item))
                if item_kind is None:
                    item_kind = _kind(type(item))
                if item_kind == _NODE:
                    found.append(item)
    below = tuple(found)
    _BELOW[id(node)] = (node, below)
    return below


def forget() -> None:
    """Drop the remembered children (and the trees they keep alive)."""
    _BELOW.clear()


def descendants(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """`node` and everything below it that the analysis reads, in source order."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(children(current)))


SCOPES = (cst.FunctionDef, cst.Lambda, cst.ClassDef)
# libcst's node classes have an ABC metaclass, so every `isinstance` that misses
# runs a Python-level `__instancecheck__`.  In the loops that visit every node, a
# concrete class (one no class derives from: `tests/test_walk.py` holds this for
# each of these sets) is tested by `type(node) in ...` instead.
SCOPE_TYPES = frozenset(SCOPES)


def runs_with(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Like `descendants`, without the insides of functions, lambdas and classes
    nested in `node`: what runs when `node` runs."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if current is node or type(current) not in SCOPE_TYPES:
            stack.extend(reversed(children(current)))


def enclosing_blocks(stack: Sequence[cst.CSTNode]) -> Iterator[tuple[Sequence[cst.CSTNode], int]]:
    """For `stack[-1]` and each ancestor out to the nearest function (innermost
    first): the statement list that holds it and its index there."""
    for depth in range(len(stack) - 1, 0, -1):
        node, block = stack[depth], stack[depth - 1]
        if isinstance(node, cst.FunctionDef):
            return
        body = getattr(block, "body", None)
        if isinstance(body, (list, tuple)):
            index = next((i for i, stmt in enumerate(body) if stmt is node), None)
            if index is not None:
                yield body, index


def ancestors_to(stack: Sequence[cst.CSTNode], node: cst.CSTNode) -> tuple[cst.CSTNode, ...]:
    """`stack` cut just after `node` (the ancestors of `node`, ending with it), or
    `stack` with `node` added when `node` is below its top."""
    for i in range(len(stack) - 1, -1, -1):
        if stack[i] is node:
            return tuple(stack[: i + 1])
    return (*stack, node)


def every_node(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """`node` and everything below it, punctuation and comments included."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        for field in dataclasses.fields(current):
            value = getattr(current, field.name)
            if isinstance(value, cst.CSTNode):
                stack.append(value)
            elif isinstance(value, (list, tuple)):
                stack.extend(v for v in value if isinstance(v, cst.CSTNode))


class Visitor:
    """Dispatches `visit_<Type>` (return False to skip children) and `leave_<Type>`."""

    _dispatch: dict[tuple[type, type], tuple[Callable[..., Any] | None, Callable[..., Any] | None]]

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        cls._dispatch = {}

    def _handlers(self, kind: type) -> tuple[Callable[..., Any] | None, Callable[..., Any] | None]:
        key = (type(self), kind)
        found = self._dispatch.get(key)
        if found is None:
            found = (
                getattr(type(self), f"visit_{kind.__name__}", None),
                getattr(type(self), f"leave_{kind.__name__}", None),
            )
            self._dispatch[key] = found
        return found

    def on_visit(self, node: cst.CSTNode) -> bool:
        visit, _ = self._handlers(type(node))
        return visit is None or visit(self, node) is not False

    def on_leave(self, node: cst.CSTNode) -> None:
        _, leave = self._handlers(type(node))
        if leave is not None:
            leave(self, node)

    def walk(self, node: cst.CSTNode) -> None:
        if self.on_visit(node):
            for child in children(node):
                self.walk(child)
        self.on_leave(node)


class StackVisitor(Visitor):
    """A `Visitor` that keeps `stack`: the ancestors of the node being visited,
    outermost first, ending with that node."""

    stack: list[cst.CSTNode]
    # Whether the class keeps `on_visit`/`on_leave` as they are here: then `walk`
    # does their work inline (six calls fewer per node; most of the analysis walks).
    _plain: bool = True

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        cls._plain = cls.on_visit is StackVisitor.on_visit and cls.on_leave is StackVisitor.on_leave

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.stack.append(node)
        return super().on_visit(node)

    def on_leave(self, node: cst.CSTNode) -> None:
        super().on_leave(node)
        self.stack.pop()

    def walk(self, node: cst.CSTNode) -> None:
        if not self._plain:
            super().walk(node)
            return
        self.stack.append(node)
        visit, leave = self._dispatch.get((type(self), type(node))) or self._handlers(type(node))
        if visit is None or visit(self, node) is not False:
            for child in children(node):
                self.walk(child)
        if leave is not None:
            leave(self, node)
        self.stack.pop()
