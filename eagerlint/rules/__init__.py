"""The rule registry: every rule, in code order."""

from __future__ import annotations

from eagerlint.rules import (
    el001_weights_comprehension,
    el002_weights_list_call,
    el003_weights_drain_loop,
    el004_weights_helper_drain,
    el005_weights_tee_drain,
    el006_futures_unbounded_submit,
    el007_futures_result_buffer,
    el008_weights_multi_pass,
    el009_weights_eager_load,
    el010_weights_retained_view,
    el100_unused_noqa,
)
from eagerlint.rules.base import Rule

RULES: tuple[Rule, ...] = (
    el001_weights_comprehension.RULE,
    el002_weights_list_call.RULE,
    el003_weights_drain_loop.RULE,
    el004_weights_helper_drain.RULE,
    el005_weights_tee_drain.RULE,
    el006_futures_unbounded_submit.RULE,
    el007_futures_result_buffer.RULE,
    el008_weights_multi_pass.RULE,
    el009_weights_eager_load.RULE,
    el010_weights_retained_view.RULE,
    el100_unused_noqa.RULE,
)
BY_CODE: dict[str, Rule] = {r.code: r for r in RULES}
BY_NAME: dict[str, Rule] = {r.name: r for r in RULES}


def lookup(code_or_name: str) -> Rule | None:
    return BY_CODE.get(code_or_name.upper()) or BY_NAME.get(code_or_name)
