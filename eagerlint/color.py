"""Colour for the text formats on a terminal, as ruff shows them.

The reporters produce plain lines; `paint` colours their parts by shape (the
`path:row:col: CODE` head, the fix marker, carets, `= help:` and the summary),
so no reporter knows about colour.  `enabled` follows `--color` and, for
`auto`, the conventions: NO_COLOR (set and not empty) turns colour off,
FORCE_COLOR turns it on, else colour only on a terminal.
"""

from __future__ import annotations

import os
import re
from typing import TextIO

BOLD, RED, GREEN, CYAN, RESET = "\033[1m", "\033[31m", "\033[32m", "\033[36m", "\033[0m"

_HEAD = re.compile(r"^(?P<path>[^\s:][^:]*):(?P<row>\d+):(?P<col>\d+): (?P<code>[A-Z]+\d+) (?P<fix>\[\*\] )?")
_CARETS = re.compile(r"^(?P<gutter>\s*\|\s*)(?P<pad>\s*)(?P<carets>\^+ [A-Z]+\d+)$")
_NOTE = re.compile(r"^(?P<lead>\s+= )(?P<word>[a-z]+):")
_SUMMARY = re.compile(r"^(Found \d+ errors?|Would fix \d+ errors?|Fixed \d+ errors?)")


def enabled(choice: str, stream: TextIO) -> bool:
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"


def paint(line: str) -> str:
    head = _HEAD.match(line)
    if head:
        fix = f"{CYAN}[*]{RESET} " if head.group("fix") else ""
        colon = f"{CYAN}:{RESET}"
        return (
            f"{BOLD}{head['path']}{RESET}{colon}{head['row']}{colon}{head['col']}{colon} "
            f"{BOLD}{RED}{head['code']}{RESET} {fix}{line[head.end() :]}"
        )
    carets = _CARETS.match(line)
    if carets:
        return f"{carets['gutter']}{carets['pad']}{RED}{carets['carets']}{RESET}"
    note = _NOTE.match(line)
    if note:
        return f"{note['lead']}{BOLD}{CYAN}{note['word']}{RESET}:{line[note.end() :]}"
    if line == "All checks passed!":
        return f"{GREEN}{BOLD}{line}{RESET}"
    summary = _SUMMARY.match(line)
    if summary:
        return f"{BOLD}{summary.group(0)}{RESET}{line[summary.end() :]}"
    return line
