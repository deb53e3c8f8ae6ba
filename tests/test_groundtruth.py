"""Recall and precision against the blind labels (bench/groundtruth) never fall
below the committed figures (bench/groundtruth/figures.json): a change that loses a
true finding, or adds a false one, fails here."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench" / "groundtruth"))
import score  # noqa: E402

FIGURES = json.loads(score.FIGURES.read_text())


@pytest.mark.parametrize("tree", sorted(score.TREES))
def test_no_regression_below_the_committed_figures(tree: str) -> None:
    now = score.figures(score.score(tree))
    floor = FIGURES[tree]
    assert now["positive_sites"] == floor["positive_sites"], "the labels changed: update figures.json"
    assert now["found"] >= floor["found"], now
    assert now["recall"] >= floor["recall"], now
    assert now["precision"] >= floor["precision"], now
    assert now["safe_fixable_fixed"] >= floor["safe_fixable_fixed"], now


def test_every_label_names_a_function_of_its_tree() -> None:
    import ast

    vllm_source = score.vllm_source
    for tree, (project, version) in score.TREES.items():
        src = vllm_source.source(version, project)
        for site in score.labels(tree):
            module = ast.parse((src / site.path).read_text())
            names = {
                n.name for n in ast.walk(module) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
            }
            assert site.function.rsplit(".", 1)[-1] in names, (tree, site.path, site.function)


def test_a_sampled_tree_is_labelled_only_in_its_sample() -> None:
    sampled = [t for t in score.TREES if score.sample(t) is not None]
    assert sampled, "no sampled tree"
    for tree in sampled:
        files = score.sample(tree)
        assert files is not None
        outside = [s.path for s in score.labels(tree) if s.path not in files]
        assert outside == [], (tree, outside)


def test_each_sample_is_what_sample_py_draws() -> None:
    import sample

    for tree, (project, version) in score.TREES.items():
        files = score.sample(tree)
        if files is None:
            continue
        frame = sample.frame(score.vllm_source.source(version, project), project)
        drawn = random.Random(sample.SEED).sample(frame, len(files))
        assert sorted(drawn) == sorted(files), tree
