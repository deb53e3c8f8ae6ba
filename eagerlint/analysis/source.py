"""One module's text, parsed piece by piece, with positions on demand.

libcst parses about ten times slower than CPython's own parser, and position
metadata for a large module costs more than the parse, so a module is parsed
per function: the outline (`eagerlint/outline.py`) cuts a function's lines, and
only that snippet is parsed, when first asked for.  If a snippet does not parse
on its own (`SnippetError`), the caller starts again with the whole module.
Every parse goes through `eagerlint.parsing`, so no text can overflow the stack.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from eagerlint import parsing
from eagerlint.analysis.flow import COLLECTION_BUILTINS
from eagerlint.analysis.walk import descendants, every_node
from eagerlint.model import Position
from eagerlint.outline import Block, Outline

_SHADOW = re.compile(
    r"^(?:(?:def|class)\s+(?P<d>\w+)|(?P<a>\w+)\s*(?::[^=\n]*)?=(?!=)|(?:from\s+\S+\s+)?import\s+(?P<i>.*))",
    re.M,
)


class SnippetError(Exception):
    """A block the outline found does not parse on its own."""


class _Parsed:
    """One parsed piece of source: a snippet or the whole module."""

    def __init__(self, module: cst.Module, row_offset: int) -> None:
        self.module = module
        self.row_offset = row_offset
        self._positions: Mapping[cst.CSTNode, CodeRange] | None = None
        self._nodes: set[cst.CSTNode] | None = None

    @property
    def positions(self) -> Mapping[cst.CSTNode, CodeRange]:
        # Position metadata costs more than the parse: only pieces that hold
        # a finding ever need it.
        if self._positions is None:
            self._positions = MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(PositionProvider)
        return self._positions

    def owns(self, node: cst.CSTNode) -> bool:
        if self._nodes is None:
            self._nodes = set(every_node(self.module))
        return node in self._nodes


def shadowed_builtins(text: str) -> frozenset[str]:
    """Collection builtins rebound at module level (`list = ...`, `import x as list`)."""
    found: set[str] = set()
    for m in _SHADOW.finditer(text):
        names = {m["d"], m["a"]} | set(re.findall(r"\w+", m["i"] or ""))
        found |= names & COLLECTION_BUILTINS
    return frozenset(found)


class ModuleSource:
    def __init__(self, text: str, outline: Outline, filename: str, *, whole: bool = False) -> None:
        self.text = text
        self.outline = outline
        self.filename = filename
        self.whole = whole
        self._shadowed: frozenset[str] | None = None
        self._pieces: list[_Parsed] = []
        self._last_piece: _Parsed | None = None
        self._functions: dict[int, cst.FunctionDef] = {}  # header line -> node
        if whole:
            self._parse_whole()

    @property
    def shadowed_builtins(self) -> frozenset[str]:
        # A regex over the whole module: only run when a rule asks.
        if self._shadowed is None:
            self._shadowed = shadowed_builtins(self.text)
        return self._shadowed

    def _parse(self, text: str) -> cst.Module:
        try:
            return parsing.parse_module(text)
        except parsing.Unparsable as exc:
            exc.filename = exc.filename or self.filename
            raise

    def _parse_whole(self) -> None:
        piece = _Parsed(self._parse(self.text), 0)
        self._pieces = [piece]
        for node in descendants(piece.module):
            if isinstance(node, cst.FunctionDef):
                # The `def` keyword's row (decorators come before it).
                self._functions[piece.positions[node.name].start.line - 1] = node

    def function(self, block: Block) -> cst.FunctionDef | None:
        """The parsed function of an outline block (parsed now if it was not yet)."""
        found = self._functions.get(block.header)
        if found is not None or self.whole:
            # Whole-module mode: a `def` the outline saw inside a string is no function.
            return found
        snippet = block.text(self.outline.lines)
        # An indented method parses as the body of a dummy block; rows shift by one.
        prefix = "if 1:\n" if block.indent else ""
        try:
            module = self._parse(prefix + snippet)
        except cst.ParserSyntaxError as exc:
            raise SnippetError(block.name) from exc
        node = _first_function(module)
        if node is None or node.name.value != block.name:
            raise SnippetError(block.name)
        self._pieces.append(_Parsed(module, block.start - (1 if prefix else 0)))
        self._functions[block.header] = node
        return node

    def _range(self, node: cst.CSTNode) -> tuple[CodeRange, int]:
        # Most nodes asked about belong to the piece asked about last.
        pieces = sorted(self._pieces, key=lambda p: p is not self._last_piece)
        for piece in pieces:
            if len(self._pieces) == 1 or piece.owns(node):
                self._last_piece = piece
                return piece.positions[node], piece.row_offset
        raise KeyError(node)

    def position(self, node: cst.CSTNode) -> Position:
        r, offset = self._range(node)
        return Position(r.start.line + offset, r.start.column + 1)

    def span(self, node: cst.CSTNode) -> tuple[Position, Position]:
        r, offset = self._range(node)
        return (
            Position(r.start.line + offset, r.start.column + 1),
            Position(r.end.line + offset, r.end.column + 1),
        )

    def code(self, node: cst.CSTNode) -> str:
        return self._pieces[0].module.code_for_node(node)


def _first_function(module: cst.Module) -> cst.FunctionDef | None:
    for stmt in module.body:
        if isinstance(stmt, cst.FunctionDef):
            return stmt
        if isinstance(stmt, cst.If) and isinstance(stmt.body, cst.IndentedBlock):
            inner = stmt.body.body
            if inner and isinstance(inner[0], cst.FunctionDef):
                return inner[0]
    return None
