"""Rule codes and names, importable without libcst (config and the CLI's fast path use them).

`tests/test_fixtures.py` checks that this table matches the rule registry.
"""

from __future__ import annotations

import functools

# Where a rule is documented: its row of the rules table in eagerlint's README (an
# anchor per code, which a test checks); `eagerlint rule CODE` prints the same rule.
RULES_DOC = "README.md"

CODES: dict[str, str] = {
    "EL001": "weights-comprehension",
    "EL002": "weights-list-call",
    "EL003": "weights-drain-loop",
    "EL004": "weights-helper-drain",
    "EL005": "weights-tee-drain",
    "EL006": "futures-unbounded-submit",
    "EL007": "futures-result-buffer",
    "EL008": "weights-multi-pass",
    "EL009": "weights-eager-load",
    "EL010": "weights-retained-view",
    "EL100": "unused-noqa",
}
# Rules that run only when named: by their full code in `select`/`extend-select`, or,
# for EL010, by `buffer-reusing-loaders` (a prefix such as `EL` or `ALL` does not
# turn them on).  `tests/test_fixtures.py` checks this against the rules' `default`.
DEFAULT_OFF: frozenset[str] = frozenset({"EL010"})
# The rule `buffer-reusing-loaders` turns on.
RETAINED_VIEW = "EL010"
# A `noqa:` list that may name one of these codes, written in lower case: the byte
# prefilter matches it on lowered bytes, `suppress` with `re.I`; `tokenize` then
# decides whether it is a directive.
OUR_DIRECTIVE = r"noqa\s*:[^\n\r]*(?:" + "|".join(sorted({c[:2].lower() for c in CODES})) + r")\d"


def rule_url(code: str) -> str:
    """A stable reference to the rule's documentation: its anchor in eagerlint's README
    (relative to eagerlint's repository)."""
    return f"{RULES_DOC}#{code.lower()}"


def rule_help_uri(code: str) -> str | None:
    """The same anchor as an absolute URI (what SARIF's `helpUri` must be), under the
    README's URL that the installed package declares (`[project.urls] Documentation`)."""
    home = docs_home()
    return f"{home}#{code.lower()}" if home else None


@functools.cache
def docs_home() -> str | None:
    """The README's absolute URL, from the installed package's metadata (read only for SARIF)."""
    # Imported here: `importlib.metadata` costs about 22 ms, 5 % of checking one file.
    from importlib import metadata

    try:
        urls: list[str] = metadata.metadata("eagerlint").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return None
    for entry in urls:
        label, _, url = entry.partition(",")
        if label.strip().lower() == "documentation" and url.strip():
            return url.strip()
    return None


def rule_command(code: str) -> str:
    """The command that prints the rule's documentation."""
    return f"eagerlint rule {code}"
