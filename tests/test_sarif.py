"""SARIF output: valid for Microsoft's SARIF multitool (0 errors) and for GitHub code scanning.

The multitool comes from the npm registry (`@microsoft/sarif-multitool`) and is installed
once into ~/.cache/eagerlint/sarif-multitool (or $EAGERLINT_CACHE/sarif-multitool), never
into the repository; without npm these tests are skipped.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from eagerlint.rules import RULES
from tests.test_cli import eagerlint

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
MULTITOOL = "@microsoft/sarif-multitool@5.7.0"
CACHE = Path(os.environ.get("EAGERLINT_CACHE", Path.home() / ".cache" / "eagerlint")) / "sarif-multitool"

# What GitHub code scanning accepts at most (its SARIF support and upload-limit pages).
GITHUB_LIMITS = {"runs": 20, "results": 25_000, "rules": 25_000, "locations": 1_000, "thread_flow": 10_000}


@pytest.fixture(scope="session")
def multitool() -> Path:
    tool = CACHE / "node_modules" / ".bin" / "sarif-multitool"
    if tool.exists():
        return tool
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is missing: cannot install @microsoft/sarif-multitool to validate SARIF")
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one install at a time across test processes
        if not tool.exists():
            done = subprocess.run(
                [npm, "install", "--prefix", str(CACHE), "--no-audit", "--no-fund", "--no-save", MULTITOOL],
                capture_output=True,
                text=True,
                timeout=900,
                check=False,
            )
            assert done.returncode == 0 and tool.exists(), f"npm install {MULTITOOL} failed:\n{done.stderr}"
    return tool


def validation_errors(tool: Path, sarif: Path) -> list[str]:
    """The multitool's error-level results on `sarif` (its warnings and notes are allowed)."""
    out = sarif.with_suffix(".validation.sarif")
    done = subprocess.run(
        [str(tool), "validate", str(sarif), "-o", str(out), "--log", "ForceOverwrite"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert out.exists(), f"the multitool wrote no log:\n{done.stdout}\n{done.stderr}"
    log = json.loads(out.read_text(encoding="utf-8-sig"))
    assert log["runs"], "the multitool's log has no run"
    return [
        f"{r.get('ruleId')}: {r['message'].get('text') or r['message'].get('arguments')}"
        for run in log["runs"]
        for r in run.get("results") or []
        if r.get("level") == "error"
    ]


def _is_relative_uri(uri: str) -> bool:
    return not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", uri) and not uri.startswith("/")


def github_problems(log: dict[str, Any]) -> list[str]:
    """What GitHub code scanning's ingestion requires beyond the schema, as a list of problems."""
    problems = []
    if log.get("version") != "2.1.0":
        problems.append("version is not 2.1.0")
    runs = log.get("runs") or []
    if not 1 <= len(runs) <= GITHUB_LIMITS["runs"]:
        problems.append(f"{len(runs)} runs")

    def physical(where: str, loc: dict[str, Any]) -> None:
        art = loc.get("physicalLocation", {}).get("artifactLocation", {})
        uri = art.get("uri", "")
        if not uri or not _is_relative_uri(uri) or art.get("uriBaseId") != "%SRCROOT%":
            problems.append(f"{where}: uri {uri!r} is not relative to %SRCROOT%")
        region = loc.get("physicalLocation", {}).get("region", {})
        if not isinstance(region.get("startLine"), int) or region["startLine"] < 1:
            problems.append(f"{where}: region.startLine {region.get('startLine')!r}")
        if region.get("endLine", region.get("startLine", 1)) < region.get("startLine", 1):
            problems.append(f"{where}: endLine before startLine")

    for run in runs:
        rules = run["tool"]["driver"].get("rules", [])
        ids = [r["id"] for r in rules]
        if len(rules) > GITHUB_LIMITS["rules"] or len(set(ids)) != len(ids):
            problems.append("rules: too many, or an id twice")
        problems += [f"rule {r['id']}: more than 20 tags" for r in rules if len(r["properties"]["tags"]) > 20]
        results = run.get("results", [])
        if len(results) > GITHUB_LIMITS["results"]:
            problems.append(f"{len(results)} results")
        for i, r in enumerate(results):
            where = f"result {i}"
            if not isinstance(r.get("ruleId"), str) or r["ruleId"] not in ids:
                problems.append(f"{where}: ruleId {r.get('ruleId')!r}")
            elif ids[r.get("ruleIndex", -1)] != r["ruleId"]:
                problems.append(f"{where}: ruleIndex does not point at its rule")
            if not (r.get("message", {}).get("text") or "").strip():
                problems.append(f"{where}: no message text")
            locations = r.get("locations") or []
            if not 1 <= len(locations) <= GITHUB_LIMITS["locations"]:
                problems.append(f"{where}: {len(locations)} locations")
            for loc in [*locations, *r.get("relatedLocations", [])]:
                physical(where, loc)
            prints = r.get("partialFingerprints", {})
            if not prints or not all(isinstance(k, str) and isinstance(v, str) for k, v in prints.items()):
                problems.append(f"{where}: partialFingerprints {prints!r}")
            for flow in r.get("codeFlows", []):
                for thread in flow["threadFlows"]:
                    if len(thread["locations"]) > GITHUB_LIMITS["thread_flow"]:
                        problems.append(f"{where}: thread flow too long")
                    for step in thread["locations"]:
                        physical(where, step["location"])
    return problems


def sarif_of(where: Path, out: Path, *paths: str) -> dict[str, Any]:
    r = eagerlint("check", "--no-cache", "--output-format", "sarif", "-o", str(out), *paths, cwd=where)
    assert r.returncode in (0, 1, 2), r.stderr
    assert r.stdout == "", "with -o nothing goes to stdout"
    log: dict[str, Any] = json.loads(out.read_text())
    return log


def json_of(where: Path, *paths: str) -> list[dict[str, Any]]:
    r = eagerlint("check", "--no-cache", "--exit-zero", "--output-format", "json", *paths, cwd=where)
    data: list[dict[str, Any]] = json.loads(r.stdout)
    return data


@pytest.fixture
def fixtures_copy(tmp_path: Path) -> Path:
    where = tmp_path / "checkout"
    shutil.copytree(FIXTURES, where, ignore=shutil.ignore_patterns("snapshots"))
    return where


def test_fixtures_sarif_validates_and_carries_every_finding(
    multitool: Path, fixtures_copy: Path, tmp_path: Path
) -> None:
    (fixtures_copy / "broken.py").write_text("def load_weights(self, weights):\n    return [\n")
    log = sarif_of(fixtures_copy, tmp_path / "out" / "fixtures.sarif")
    assert validation_errors(multitool, tmp_path / "out" / "fixtures.sarif") == []
    assert github_problems(log) == []

    (run,) = log["runs"]
    found = json_of(fixtures_copy)
    results = run["results"]
    assert len(results) == len(found) > 100
    for result, finding in zip(results, found, strict=True):
        assert result["ruleId"] == finding["code"] and result["message"]["text"] == finding["message"]
        assert result["partialFingerprints"]["eagerlint/v1"] == finding["fingerprint"]
        region = result["locations"][0]["physicalLocation"]["region"]
        assert (region["startLine"], region["startColumn"]) == tuple(finding["location"].values())
        assert (region["endLine"], region["endColumn"]) == tuple(finding["end_location"].values())
        (flow,) = result["codeFlows"]
        steps = [s["location"] for s in flow["threadFlows"][0]["locations"]]
        assert [s["message"]["text"] for s in steps] == [s["note"] for s in finding["flow"]]
        assert [s["physicalLocation"]["region"]["startLine"] for s in steps] == [
            s["row"] for s in finding["flow"]
        ]
        assert len(result["relatedLocations"]) == len(steps)
        if finding["fix"] is None:
            assert (
                "fixes" not in result and result["properties"].get("noFixReason") == finding["no_fix_reason"]
            )
        else:
            (change,) = result["fixes"][0]["artifactChanges"]
            assert [r["insertedContent"]["text"] for r in change["replacements"]] == [
                e["content"] for e in finding["fix"]["edits"]
            ]
    # The file that does not parse is the invocation's notification, and the run failed.
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is False
    (note,) = invocation["toolExecutionNotifications"]
    assert note["level"] == "error" and "syntax error" in note["message"]["text"]

    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [rule.code for rule in RULES]  # every rule, EL010 (off) and EL100 too
    doc = eagerlint("rule", rules[2]["id"], cwd=fixtures_copy).stdout
    assert rules[2]["help"]["markdown"].strip() in doc


def test_validator_catches_what_github_would_reject(
    multitool: Path, fixtures_copy: Path, tmp_path: Path
) -> None:
    """The checks above are not vacuous: a broken log fails both of them."""
    log = sarif_of(fixtures_copy, tmp_path / "good.sarif", "EL001.py")
    result = log["runs"][0]["results"][0]
    result["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    result["partialFingerprints"] = {"eagerlint/v1": 7}
    del result["ruleId"]
    bad = tmp_path / "bad.sarif"
    bad.write_text(json.dumps(log))
    assert validation_errors(multitool, bad)
    problems = github_problems(log)
    assert any("startLine" in p for p in problems) and any("partialFingerprints" in p for p in problems)
    assert any("ruleId" in p for p in problems)


@pytest.fixture(scope="module")
def vllm_sarif(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The SARIF of the whole vLLM 0.33.0 tree (slow: one whole run), and the tree."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import vllm_source
    finally:
        sys.path.remove(str(ROOT / "bench"))
    src: Path = vllm_source.source("0.33.0")
    out = tmp_path_factory.mktemp("vllm-sarif") / "vllm.sarif"
    sarif_of(src, out, "vllm")
    return out, src


def test_vllm_0_33_0_tree_validates(multitool: Path, vllm_sarif: tuple[Path, Path]) -> None:
    out, _ = vllm_sarif
    assert validation_errors(multitool, out) == []
    log = json.loads(out.read_text())
    assert github_problems(log) == []
    assert len(log["runs"][0]["results"]) >= 30


def test_vllm_0_33_0_fingerprints_survive_inserted_lines_and_a_move(
    vllm_sarif: tuple[Path, Path], tmp_path: Path
) -> None:
    """The same tree with lines inserted at the top of every file, in another place, has
    the same fingerprints (slow: a second whole run)."""
    out, src = vllm_sarif
    results = json.loads(out.read_text())["runs"][0]["results"]
    moved = tmp_path / "elsewhere" / "checkout"
    shutil.copytree(src / "vllm", moved / "vllm")
    for path in (moved / "vllm").rglob("*.py"):
        path.write_bytes(b"# two lines\n# inserted\n\n" + path.read_bytes())
    after = sarif_of(moved, tmp_path / "moved.sarif", "vllm")["runs"][0]["results"]

    def identities(rs: list[dict[str, Any]]) -> Counter[tuple[str, str, str]]:
        return Counter(
            (r["partialFingerprints"]["eagerlint/v1"], r["ruleId"], r["properties"]["scope"]) for r in rs
        )

    assert len(results) >= 30
    assert identities(after) == identities(results)
    rows = [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results]
    assert sorted(r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in after) == sorted(
        row + 3 for row in rows
    )
