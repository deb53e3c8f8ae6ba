"""Stage 2: decide cheaply whether a file can matter, then read its text.

A byte search for the words every stream source needs costs microseconds;
parsing costs far more, so a file is decoded and outlined only when its bytes
say a weight stream may be present, or a `# noqa` naming an eagerlint code
(which EL100 judges wherever it is).  The words come from the one table of
sources (`analysis/sources.py`).  Parsing itself happens per function
(`analysis/source.py`).
"""

from __future__ import annotations

import codecs
import io
import re
import tokenize

from eagerlint.analysis.sources import may_contain_streams
from eagerlint.codes import OUR_DIRECTIVE

__all__ = ["ParseError", "decode", "may_contain_streams", "may_name_our_codes"]

_DIRECTIVE = re.compile(OUR_DIRECTIVE.encode())


def may_name_our_codes(data: bytes) -> bool:
    """Whether the bytes may hold a `# noqa:` naming an eagerlint code (EL100 judges
    it in every file, with or without a weight stream).  A regex over every file
    costs four times as much as finding the word and trying the regex there."""
    lowered = data.lower()
    at = lowered.find(b"noqa")
    while at >= 0:
        if _DIRECTIVE.match(lowered, at):
            return True
        at = lowered.find(b"noqa", at + 4)
    return False


class ParseError(Exception):
    """The file cannot be read as Python (message is one line)."""


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
