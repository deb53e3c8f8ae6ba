"""Stage 2: decide cheaply whether a file can matter, then parse it.

A byte search for the words every rule needs costs microseconds; a libcst
parse with position metadata costs a sizeable fraction of a second on a large
file, so it only happens when the bytes say a weight stream may be present.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from eagerlint.model import AnalysisOptions

# Every source of a weight stream leaves one of these in the bytes.
TRIGGERS = (b"load_weights", b"_weights_iterator", b"Tensor]")


def triggers(options: AnalysisOptions) -> tuple[bytes, ...]:
    extra = tuple(p.rsplit(".", 1)[-1].encode() for p in options.stream_producers)
    return TRIGGERS + extra


def may_contain_streams(data: bytes, options: AnalysisOptions) -> bool:
    return any(t in data for t in triggers(options))


@dataclass(frozen=True)
class Parsed:
    module: cst.Module
    positions: dict[cst.CSTNode, CodeRange]


class ParseError(Exception):
    """The file is not valid Python (message is one line)."""


def parse(data: bytes) -> Parsed:
    try:
        module = cst.parse_module(data)
    except cst.ParserSyntaxError as exc:
        raise ParseError(f"line {exc.raw_line}, column {exc.raw_column + 1}: {exc.message}") from None
    except (UnicodeDecodeError, LookupError, SyntaxError) as exc:
        raise ParseError(f"cannot decode: {exc}") from None
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    positions = dict(wrapper.resolve(PositionProvider))
    return Parsed(module, positions)
