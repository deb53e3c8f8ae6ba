"""The rule registry: every rule module, in code order."""

from __future__ import annotations

from types import ModuleType

from eagerlint.rules import (
    el001_weights_comprehension,
    el002_weights_list_call,
    el003_weights_drain_loop,
    el004_weights_helper_drain,
    el005_weights_tee_drain,
    el006_futures_unbounded_submit,
    el007_futures_result_buffer,
    el008_weights_multi_pass,
)
from eagerlint.rules.base import RuleDoc, doc_of

RULES: tuple[ModuleType, ...] = (
    el001_weights_comprehension,
    el002_weights_list_call,
    el003_weights_drain_loop,
    el004_weights_helper_drain,
    el005_weights_tee_drain,
    el006_futures_unbounded_submit,
    el007_futures_result_buffer,
    el008_weights_multi_pass,
)
BY_CODE: dict[str, ModuleType] = {r.CODE: r for r in RULES}
BY_NAME: dict[str, ModuleType] = {r.NAME: r for r in RULES}


def materializes(module: ModuleType) -> bool:
    """Whether a match of this rule means "keeps the stream" (what helper summaries ask)."""
    return bool(getattr(module, "MATERIALIZES", True))


def severity(code: str) -> str:
    return str(getattr(BY_CODE[code], "SEVERITY", "warning"))


def docs() -> list[RuleDoc]:
    return [doc_of(r) for r in RULES]


def lookup(code_or_name: str) -> ModuleType | None:
    return BY_CODE.get(code_or_name.upper()) or BY_NAME.get(code_or_name)
