"""A rule is its documentation: the docs' own examples must behave as they say."""

from __future__ import annotations

import pytest

from eagerlint.rules import RULES
from eagerlint.rules.base import SECTIONS, Rule
from tests.helpers import run


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_doc_has_every_section(rule: Rule) -> None:
    doc = rule.docs
    for title in SECTIONS:
        assert doc.section(title), f"{doc.code} lacks '## {title}'"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_example_triggers_and_use_instead_does_not(rule: Rule) -> None:
    doc = rule.docs
    example, instead = doc.code_block("Example"), doc.code_block("Use instead")
    assert example and instead
    assert doc.code in {f.code for f in run(example).findings}
    assert doc.code not in {f.code for f in run(instead).findings}


def test_every_rule_url_has_its_anchor_in_the_readme() -> None:
    from pathlib import Path

    from eagerlint.codes import RULES_DOC, rule_url

    readme = (Path(__file__).resolve().parents[1] / RULES_DOC).read_text()
    for rule in RULES:
        anchor = rule_url(rule.code).split("#", 1)[1]
        assert f'<a id="{anchor}"></a>{rule.code} | `{rule.name}`' in readme
