"""## What it does
Checks for `# noqa` directives naming an eagerlint code that silences nothing on
its line: no finding of that code is reported there (or on the statement that
starts there) any more.  Only the codes of rules that ran on the file are judged:
another tool's codes (`# noqa: E501`), a rule that is not selected or is ignored
for the file, and a bare `# noqa` (which eagerlint does not read) are left alone.

## Why is this bad?
A directive outlives the code it was written for: once the stream is fixed, a
stale `# noqa: EL002` silently hides the next materialization written on that
line, and the whole checkpoint is back in host RAM with nothing reported.
Directives that `--add-noqa` wrote while adopting the tool should disappear as
their findings are fixed.

## Example
```python
def load_weights(self, weights):
    loader = AutoWeightsLoader(self)
    return loader.load_weights(weights)  # noqa: EL002
```

## Use instead
```python
def load_weights(self, weights):
    loader = AutoWeightsLoader(self)
    return loader.load_weights(weights)
```

## Fix safety
The fix removes the stale codes from the directive, the directive when it names
nothing else, and the comment when nothing else is left in it; other codes and
other comments stay.  It is safe: a comment never changes what the code does.
"""

from __future__ import annotations

from eagerlint.model import Applicability, Finding, Fix, FlowStep, Unused
from eagerlint.rules.base import Rule

CODE = "EL100"


def check(unused: Unused, filename: str) -> Finding:
    codes = ", ".join(f"`{c}`" for c in unused.codes)
    fix = Fix(Applicability.SAFE, "Remove unused `noqa` directive", (unused.removal,))
    return Finding(
        CODE,
        "unused-noqa",
        f"Unused `noqa` directive (unused: {codes}): {COST}",
        filename,
        unused.location,
        unused.end_location,
        fix,
        (FlowStep(filename, unused.location, f"directive naming {codes}, which silenced nothing here"),),
        statement_row=unused.location.row,
        statement=unused.line,
    )


COST = "a stale directive silently hides the next finding written on its line"
RULE = Rule(CODE, "unused-noqa", __doc__ or "", COST, on_directive=check)
