"""Where every node of a libcst tree starts and ends, computed in one code generation.

libcst's `PositionProvider` gets its ranges from the provider's code generation,
and `MetadataWrapper.resolve` adds a walk of the whole tree for batchable
providers, which `PositionProvider` is not.  For a function with a finding the
ranges cost more than its parse, so they are computed here in the same single
code generation with less bookkeeping: line and column as plain pairs, no
`CodePosition` objects for the nodes nobody asks about, and the regex only for
tokens that hold a line break.  The rules are libcst's own
(`PositionProvidingCodegenState`): a node's range is what it generated, unless
its code generation records a syntactic one (a test checks both agree on every
fixture).  If libcst's code generation protocol changes, the public way is used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import libcst as cst
from libcst._nodes.internal import CodegenState
from libcst.metadata import CodePosition, CodeRange, MetadataWrapper, PositionProvider

Pair = tuple[int, int]  # (line from 1, column from 0), as libcst counts
Span = tuple[Pair, Pair]

_BREAK = re.compile(r"\r\n?|\n")


class _State(CodegenState):
    """libcst's code generation state, keeping the range of every node it generates."""

    def __init__(self, module: cst.Module) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.line, self.column = 1, 0
        self.starts: list[Pair] = []
        self.spans: dict[cst.CSTNode, Span] = {}

    def _advance(self, token: str) -> None:
        if "\n" in token or "\r" in token:
            parts = _BREAK.split(token)
            self.line += len(parts) - 1
            self.column = len(parts[-1])
        else:
            self.column += len(token)

    def add_indent_tokens(self) -> None:
        self.tokens.extend(self.indent_tokens)  # Module asks whether any token was added
        for token in self.indent_tokens:
            self._advance(token)

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        self._advance(value)

    def before_codegen(self, node: cst.CSTNode) -> None:
        self.starts.append((self.line, self.column))

    def after_codegen(self, node: cst.CSTNode) -> None:
        start = self.starts.pop()
        if node not in self.spans:  # a syntactic range recorded inside wins
            self.spans[node] = (start, (self.line, self.column))

    def record_syntactic_position(  # type: ignore[override]  # libcst only enters it
        self, node: cst.CSTNode, *, start_node: cst.CSTNode | None = None, end_node: cst.CSTNode | None = None
    ) -> _Syntactic:
        return _Syntactic(self, node, start_node, end_node)


class _Syntactic:
    """`record_syntactic_position`'s context: a class, not `@contextmanager`, whose
    generator costs three times as much (libcst enters one for most nodes)."""

    __slots__ = ("end_node", "node", "start", "start_node", "state")

    def __init__(
        self, state: _State, node: cst.CSTNode, start_node: cst.CSTNode | None, end_node: cst.CSTNode | None
    ) -> None:
        self.state, self.node, self.start_node, self.end_node = state, node, start_node, end_node
        self.start = (state.line, state.column)

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        state = self.state
        start, end = self.start, (state.line, state.column)
        if self.start_node is not None:
            start = state.spans[self.start_node][0]
        if self.end_node is not None:
            end = state.spans[self.end_node][1]
        state.spans[self.node] = (start, end)


def spans(module: cst.Module) -> Mapping[cst.CSTNode, Span]:
    """The range of every node of `module`, as `PositionProvider` gives it."""
    try:
        state = _State(module)
        module._codegen(state)
        return state.spans
    except (AttributeError, TypeError):  # libcst's internals changed: the public way
        found = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
        return {
            node: ((r.start.line, r.start.column), (r.end.line, r.end.column)) for node, r in found.items()
        }


def code_ranges(module: cst.Module) -> dict[cst.CSTNode, CodeRange]:
    """`spans` as libcst's `CodeRange`s (for comparing with `PositionProvider`)."""
    return {
        node: CodeRange(CodePosition(*start), CodePosition(*end))
        for node, (start, end) in spans(module).items()
    }
