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
    "EL100": "unused-noqa",
}
