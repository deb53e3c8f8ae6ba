"""Stage 8b: the findings as one SARIF 2.1.0 log, for GitHub code scanning and other viewers.

Plain dicts, no library: the format is a JSON schema.  `tests/test_sarif.py`
validates the output with Microsoft's SARIF multitool and checks what GitHub's
ingestion requires beyond the schema.

- `tool.driver.rules` holds every rule with its whole documentation (`help`,
  markdown), a short and a full description, and `helpUri` (and the driver its
  `informationUri`) when the package declares where its README is online.
- A result's `locations` is the finding's range; `codeFlows` is its flow, from the
  stream's source to where it is kept (each step in its own file); the same
  steps are `relatedLocations`; a fix is `fixes[].artifactChanges`.
- `partialFingerprints` holds the fingerprint (`eagerlint/fingerprint.py`) twice:
  under eagerlint's own key, and as `primaryLocationLineHash`, the key GitHub
  matches alerts on, so an alert follows its statement when lines move.
- Paths are relative to the current directory under `%SRCROOT%` (the checkout
  root where CI runs); a file outside it is an absolute `file:` URI.
- A file that could not be checked is a `toolExecutionNotifications` entry of
  the run's invocation, which is then not successful.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from eagerlint import __version__
from eagerlint.codes import docs_home, rule_help_uri
from eagerlint.fingerprint import fingerprints
from eagerlint.model import Edit, FileResult, Finding, FlowStep, Position
from eagerlint.report import display_name

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "eagerlint/v1"
# GitHub rejects a run with more results than this (and shows only the first 5,000).
MAX_RESULTS = 25_000

Json = dict[str, Any]


def document(results: Sequence[FileResult]) -> Json:
    """The SARIF log of one run over `results`."""
    from eagerlint.engine import rule_docs

    findings = [f for r in results for f in r.findings]
    docs = rule_docs()
    index = {d.code: i for i, d in enumerate(docs)}
    prints = fingerprints(findings)
    errors = [r.error for r in results if r.error is not None]
    notes = [
        {
            "level": "error",
            "message": {"text": f"{e.kind.value}: {e.message}"},
            "locations": [{"physicalLocation": {"artifactLocation": _artifact(e.filename)}}],
        }
        for e in errors
    ]
    if len(findings) > MAX_RESULTS:
        left = len(findings) - MAX_RESULTS
        text = f"{left} more results left out: GitHub code scanning rejects more than {MAX_RESULTS} in a run"
        notes.append({"level": "warning", "message": {"text": text}})
        findings, prints = findings[:MAX_RESULTS], prints[:MAX_RESULTS]
    run: Json = {
        "tool": {
            "driver": {
                "name": "eagerlint",
                "version": __version__,
                "semanticVersion": __version__,
                **({"informationUri": home} if (home := docs_home()) else {}),
                "rules": [_rule(d.code, d.name, d.text, d.section("What it does")) for d in docs],
            }
        },
        "invocations": [{"executionSuccessful": not errors, "toolExecutionNotifications": notes}],
        "columnKind": "unicodeCodePoints",
        "results": [_result(f, index[f.code], p) for f, p in zip(findings, prints, strict=True)],
    }
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def _rule(code: str, name: str, text: str, what: str) -> Json:
    plain = " ".join(what.split())
    first = re.split(r"(?<=[.:])\s", plain, maxsplit=1)[0]
    rule: Json = {
        "id": code,
        "name": name,
        "shortDescription": {"text": first},
        "fullDescription": {"text": plain},
        "help": {"text": text, "markdown": text},
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": [name], "precision": "high"},
    }
    # SARIF wants an absolute URI: the rule's README anchor under the package's Documentation
    # URL; without one, `help` above is the documentation (GitHub shows it with the alert).
    uri = rule_help_uri(code)
    if uri is not None:
        rule["helpUri"] = uri
    return rule


def _result(f: Finding, rule_index: int, fingerprint: str) -> Json:
    result: Json = {
        "ruleId": f.code,
        "ruleIndex": rule_index,
        "level": "error",
        "message": {"text": f.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": _artifact(f.filename),
                    "region": _region(f.location, f.end_location),
                },
                "logicalLocations": [{"fullyQualifiedName": f.scope, "kind": "function"}],
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint, "primaryLocationLineHash": fingerprint},
    }
    if f.flow:
        steps = [_step_location(s) for s in f.flow]
        result["codeFlows"] = [
            {
                "message": {"text": "from the stream's source to where it is kept"},
                "threadFlows": [
                    {"locations": [{"location": s, "executionOrder": i} for i, s in enumerate(steps, 1)]}
                ],
            }
        ]
        result["relatedLocations"] = [{"id": i, **s} for i, s in enumerate(steps, 1)]
    if f.fix is not None:
        reason = f" ({f.fix_reason})" if f.fix_reason else ""
        result["fixes"] = [
            {
                "description": {"text": f"{f.fix.message} [{f.fix.applicability.value} fix{reason}]"},
                "artifactChanges": [
                    {
                        "artifactLocation": _artifact(f.filename),
                        "replacements": [_replacement(e) for e in f.fix.edits],
                    }
                ],
            }
        ]
    properties: Json = {"scope": f.scope}
    if f.fix is not None:
        properties["fixApplicability"] = f.fix.applicability.value
    elif f.fix_reason:
        properties["noFixReason"] = f.fix_reason
    result["properties"] = properties
    return result


def _artifact(filename: str) -> Json:
    shown = display_name(filename)
    path = Path(shown)
    if path.is_absolute():
        return {"uri": path.as_uri()}
    return {"uri": quote(path.as_posix()), "uriBaseId": SRCROOT}


def _region(start: Position, end: Position) -> Json:
    return {"startLine": start.row, "startColumn": start.column, "endLine": end.row, "endColumn": end.column}


def _step_location(step: FlowStep) -> Json:
    return {
        "physicalLocation": {
            "artifactLocation": _artifact(step.filename),
            "region": {"startLine": step.location.row, "startColumn": step.location.column},
        },
        "message": {"text": step.note},
    }


def _replacement(edit: Edit) -> Json:
    return {
        "deletedRegion": _region(edit.location, edit.end_location),
        "insertedContent": {"text": edit.content},
    }
