"""Stage 2: decide cheaply whether a file can matter, then read its text.

A byte search for the words every rule needs costs microseconds; parsing costs
far more, so a file is decoded and outlined only when its bytes say a weight
stream may be present.  Parsing itself happens per function (analysis.py).
"""

from __future__ import annotations

import codecs
import io
import tokenize

from eagerlint.model import AnalysisOptions
from eagerlint.scan import STREAM_ANNOTATION_BYTES

# Every source of a weight stream leaves one of these in the bytes.
TRIGGERS = (b"load_weights", b"_weights_iterator")


class ParseError(Exception):
    """The file cannot be read as Python (message is one line)."""


def may_contain_streams(data: bytes, options: AnalysisOptions) -> bool:
    # One scan for what both built-in triggers share, then the exact words.
    if b"_weights" in data and any(t in data for t in TRIGGERS):
        return True
    if any(p.rsplit(".", 1)[-1].encode() in data for p in options.stream_producers):
        return True
    # The regex is slow on big files; `[tT]uple[str` is a cheap necessary condition.
    return b"uple[str" in data and STREAM_ANNOTATION_BYTES.search(data) is not None


def decode(data: bytes) -> tuple[str, str]:
    """The text and the encoding the file declares (PEP 263, BOM)."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        codecs.lookup(encoding)
        return data.decode(encoding), encoding
    except (SyntaxError, LookupError) as exc:
        raise ParseError(f"cannot decode: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ParseError(f"cannot decode as {exc.encoding}: byte {exc.start}") from None
