"""Rule codes and names, importable without libcst (config and the CLI's fast path use them).

`tests/test_fixtures.py` checks that this table matches the rule registry.
"""

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
}
# Rules that run only when named: by their full code in `select`/`extend-select`, or,
# for EL010, by `buffer-reusing-loaders` (a prefix such as `EL` or `ALL` does not
# turn them on).  `tests/test_fixtures.py` checks this against the rules' `default`.
DEFAULT_OFF: frozenset[str] = frozenset({"EL010"})
# The rule `buffer-reusing-loaders` turns on.
RETAINED_VIEW = "EL010"
