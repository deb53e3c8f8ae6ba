"""One module's text, parsed piece by piece, with positions on demand.

libcst parses about ten times slower than CPython's own parser, and position
metadata for a large module costs more than the parse, so a module is parsed
per function: the outline (`eagerlint/outline.py`) cuts a function's lines, and
only that snippet is parsed, when first asked for.  If a snippet does not parse
on its own (`SnippetError`), the caller starts again with the whole module.
Every parse goes through `eagerlint.parsing`, so no text can overflow the stack.
The sources of one file share their parses by snippet text: the module as each
fix would leave it (`edited`, to judge the fix by what remains) and the next
round of the fix loop parse only the functions the edits changed.

A node's position is asked of the piece that holds it: one index per module,
node -> piece, filled one piece at a time (oldest first, the order findings are
positioned in), so finding a node's piece costs a dict lookup, not a scan of
every piece.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Mapping

import libcst as cst

from eagerlint import parsing
from eagerlint.analysis.flow import COLLECTION_BUILTINS
from eagerlint.analysis.positions import Span, spans
from eagerlint.analysis.walk import descendants, every_node
from eagerlint.model import Position
from eagerlint.outline import Block, Outline

# One line at a time (no match crosses a line end), so the names of a text are the
# union of its lines' names: an edit whose old and new lines name none changes nothing.
_SHADOW = re.compile(
    r"^(?:(?:def|class)[ \t]+(?P<d>\w+)|(?P<a>\w+)[ \t]*(?::[^=\n]*)?=(?!=)"
    r"|(?:from[ \t]+\S+[ \t]+)?import[ \t]+(?P<i>.*))",
    re.M,
)


# Snippet text -> the parses of it made so far, one per function of that text.
Parses = dict[str, list[cst.Module]]


class SnippetError(Exception):
    """A block the outline found does not parse on its own."""


class _Parsed:
    """One parsed piece of source: a snippet or the whole module."""

    def __init__(self, module: cst.Module, row_offset: int) -> None:
        self.module = module
        self.row_offset = row_offset
        self._spans: Mapping[cst.CSTNode, Span] | None = None

    @property
    def spans(self) -> Mapping[cst.CSTNode, Span]:
        # Ranges cost more than the parse: only pieces that hold a finding need them.
        if self._spans is None:
            self._spans = spans(self.module)
        return self._spans


def shadowed_builtins(text: str) -> frozenset[str]:
    """Collection builtins rebound at module level (`list = ...`, `import x as list`)."""
    found: set[str] = set()
    for m in _SHADOW.finditer(text):
        names = {m["d"], m["a"]} | set(re.findall(r"\w+", m["i"] or ""))
        found |= names & COLLECTION_BUILTINS
    return frozenset(found)


class ModuleSource:
    def __init__(
        self,
        text: str | None,
        outline: Outline,
        filename: str,
        *,
        whole: bool = False,
        parses: Parses | None = None,
    ) -> None:
        self._text = text  # None: the outline's lines, joined when first asked for
        self.outline = outline
        self.filename = filename
        self.whole = whole
        self._shadowed: frozenset[str] | None = None
        self._pieces: list[_Parsed] = []
        self._owner: dict[cst.CSTNode, _Parsed] = {}  # node -> its piece, for indexed pieces
        self._unindexed: deque[_Parsed] = deque()
        self._partly_indexed: deque[_Parsed] = deque()
        self._functions: dict[int, cst.FunctionDef] = {}  # header line -> node
        # Snippet text -> its parses, shared by the sources of one file: the module
        # as each of its fixes would leave it (`edited`) and as the next round of the
        # fix loop reads it.  Two functions of one text are two trees, so a source
        # takes a text's parses in turn and parses the text again when it has taken
        # all of them.
        self._parses: Parses = {} if parses is None else parses
        self._taken: dict[str, int] = {}  # text -> how many of its parses this source took
        if whole:
            self._parse_whole()

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = "".join(self.outline.lines)
        return self._text

    @property
    def shadowed_builtins(self) -> frozenset[str]:
        # A regex over the whole module: only run when a rule asks.
        if self._shadowed is None:
            self._shadowed = shadowed_builtins(self.text)
        return self._shadowed

    def edited(self, outline: Outline, old: str, new: str) -> ModuleSource:
        """This module once an edit replaced the lines `old` by `new` (`outline` holds
        the lines after it): what the edit cannot change is not computed again."""
        after = ModuleSource(None, outline, self.filename, parses=self._parses)
        if self._shadowed is not None and not _SHADOW.search(old) and not _SHADOW.search(new):
            after._shadowed = self._shadowed
        return after

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
                self._functions[piece.spans[node.name][0][0] - 1] = node

    def function(self, block: Block) -> cst.FunctionDef | None:
        """The parsed function of an outline block (parsed now if it was not yet)."""
        found = self._functions.get(block.header)
        if found is not None or self.whole:
            # Whole-module mode: a `def` the outline saw inside a string is no function.
            return found
        snippet = block.text(self.outline.lines)
        # An indented method parses as the body of a dummy block; rows shift by one.
        prefix = "if 1:\n" if block.indent else ""
        key = prefix + snippet
        made, taken = self._parses.setdefault(key, []), self._taken.get(key, 0)
        if taken < len(made):
            module = made[taken]
        else:
            try:
                module = self._parse(key)
            except cst.ParserSyntaxError as exc:
                raise SnippetError(block.name) from exc
            made.append(module)
        self._taken[key] = taken + 1
        node = _first_function(module)
        if node is None or node.name.value != block.name:
            raise SnippetError(block.name)
        piece = _Parsed(module, block.start - (1 if prefix else 0))
        self._pieces.append(piece)
        self._unindexed.append(piece)
        self._functions[block.header] = node
        return node

    def _piece_of(self, node: cst.CSTNode) -> _Parsed:
        if len(self._pieces) == 1:
            return self._pieces[0]
        found = self._owner.get(node)
        while found is None and self._unindexed:
            # The nodes the analysis reads (no whitespace, comments, punctuation):
            # seven times cheaper to list than every node.
            piece = self._unindexed.popleft()
            self._owner.update(dict.fromkeys(descendants(piece.module), piece))
            self._partly_indexed.append(piece)
            found = self._owner.get(node)
        while found is None and self._partly_indexed:
            # A comment or a bracket (a fix's edit): every node, once per piece.
            piece = self._partly_indexed.popleft()
            self._owner.update(dict.fromkeys(every_node(piece.module), piece))
            found = self._owner.get(node)
        if found is None:
            raise KeyError(node)
        return found

    def _range(self, node: cst.CSTNode) -> tuple[Span, int]:
        piece = self._piece_of(node)
        return piece.spans[node], piece.row_offset

    def position(self, node: cst.CSTNode) -> Position:
        ((line, column), _), offset = self._range(node)
        return Position(line + offset, column + 1)

    def span(self, node: cst.CSTNode) -> tuple[Position, Position]:
        ((line, column), (end_line, end_column)), offset = self._range(node)
        return Position(line + offset, column + 1), Position(end_line + offset, end_column + 1)

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
