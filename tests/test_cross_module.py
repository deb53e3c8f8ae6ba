"""Streams are followed into helpers of other modules of the analysed tree."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from tests.helpers import KEEP_ALL_HELPER, expected_markers
from tests.test_cli import eagerlint

FIXTURE = Path(__file__).parent / "fixtures" / "cross"


def test_findings_through_other_modules(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE, tmp_path / "cross")
    root = tmp_path / "cross"
    r = eagerlint("check", ".", "--output-format", "json", cwd=root)
    found = json.loads(r.stdout)
    model = (root / "enginepkg" / "model.py").read_text()
    expected = {
        (f"enginepkg/{name}", row, code)
        for name in ("model.py", "loader_utils.py")
        for row, code in expected_markers((root / "enginepkg" / name).read_text())
    }
    # A helper that keeps the stream is reported at its own line, in its own file, too.
    assert {(f["filename"], f["location"]["row"], f["code"]) for f in found} == expected
    row = next(i for i, line in enumerate(model.splitlines(), 1) if "split_by_prefix(weights, " in line)
    split = next(f for f in found if f["location"]["row"] == row and f["filename"] == "enginepkg/model.py")
    files = [step["filename"] for step in split["flow"]]
    # From the stream in model.py into the helper's loop in loader_utils.py.
    assert files[0] == "enginepkg/model.py" and files[-1] == "enginepkg/loader_utils.py"
    assert split["flow"][-1]["row"] == 12 and "kept" in split["flow"][-1]["note"]


def test_futures_created_by_a_helper_of_another_module(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE, tmp_path / "cross")
    root = tmp_path / "cross"
    r = eagerlint("check", ".", "--select", "EL006,EL007", "--output-format", "json", cwd=root)
    found = {f["code"]: f for f in json.loads(r.stdout)}
    assert set(found) == {"EL006", "EL007"}
    for code, helper in (("EL006", "submit_lazily"), ("EL007", "submit_listed")):
        first = found[code]["flow"][0]
        assert first["filename"] == "enginepkg/loader_utils.py"
        assert first["note"] == f"futures created by {helper}()"


def reported(r: subprocess.CompletedProcess[str]) -> set[tuple[str, int, str]]:
    return {(f["filename"], f["location"]["row"], f["code"]) for f in json.loads(r.stdout)}


def test_a_file_given_alone_is_judged_with_the_helpers_it_imports(tmp_path: Path) -> None:
    # pre-commit passes only the changed files: the unchanged helper is read from the
    # project root (here the current folder), and only the given file is reported.
    shutil.copytree(FIXTURE, tmp_path / "cross")
    root = tmp_path / "cross"
    whole = reported(eagerlint("check", ".", "--output-format", "json", "--no-cache", cwd=root))
    alone = reported(eagerlint("check", "enginepkg/model.py", "--output-format", "json", cwd=root))
    assert alone == {f for f in whole if f[0] == "enginepkg/model.py"}
    assert any(code == "EL004" for _, _, code in alone)


def test_a_cached_result_follows_a_helper_that_was_not_given(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE, tmp_path / "cross")
    root = tmp_path / "cross"
    args = ("check", "enginepkg/model.py", "--output-format", "json")
    row = next(
        i
        for i, line in enumerate((root / "enginepkg" / "model.py").read_text().splitlines(), 1)
        if "split_by_prefix(weights, " in line
    )
    assert ("enginepkg/model.py", row, "EL004") in reported(eagerlint(*args, cwd=root))
    helper = root / "enginepkg" / "loader_utils.py"
    text = helper.read_text()
    start = text.index("def split_by_prefix")
    end = text.index("def renamed")
    helper.write_text(
        text[:start] + "def split_by_prefix(weights, prefix):\n    yield from weights\n\n\n" + text[end:]
    )
    # The helper no longer keeps the stream: the cached result of model.py is stale.
    assert ("enginepkg/model.py", row, "EL004") not in reported(eagerlint(*args, cwd=root))


def test_a_module_outside_the_project_root_is_not_read(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE, tmp_path / "cross")
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "pyproject.toml").write_text("[tool.eagerlint]\n")
    # The project root is proj/: the file named outside it resolves imports only into
    # the files given, and `renamed(...)` is unknown, so it ends the stream.
    r = eagerlint("check", "../cross/enginepkg/model.py", "--output-format", "json", cwd=tmp_path / "proj")
    assert reported(r) == set()


NAMESPACE_CALLER = """\
from ns.srt.loader.utils import keep_all
from ..loader import utils


class Model:
    def load_weights(self, weights):
        kept = keep_all(weights)
        return kept


class Other:
    def load_weights(self, weights: Iterable[tuple[str, torch.Tensor]]) -> None:
        utils.keep_all(weights)
"""


def test_namespace_packages_resolve_from_the_project_root(tmp_path: Path) -> None:
    # SGLang's wheel has no `__init__.py` in `sglang/srt` or `sglang/srt/models`.
    (tmp_path / "ns" / "srt" / "models").mkdir(parents=True)
    (tmp_path / "ns" / "srt" / "loader").mkdir()
    (tmp_path / "ns" / "srt" / "models" / "llama.py").write_text(NAMESPACE_CALLER)
    (tmp_path / "ns" / "srt" / "loader" / "utils.py").write_text(KEEP_ALL_HELPER)
    r = eagerlint("check", "ns/srt/models/llama.py", "--output-format", "json", cwd=tmp_path)
    assert reported(r) == {("ns/srt/models/llama.py", 7, "EL004"), ("ns/srt/models/llama.py", 13, "EL004")}


def test_multi_pass_through_a_helper_of_another_module(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE, tmp_path / "cross")
    root = tmp_path / "cross"
    r = eagerlint("check", ".", "--select", "EL008", "--output-format", "json", cwd=root)
    (found,) = json.loads(r.stdout)
    steps = [(step["filename"], step["note"]) for step in found["flow"]]
    assert steps[1] == ("enginepkg/model.py", "consumed here")
    # The read inside the helper, in the other file, is on the path.
    assert steps[2][0] == "enginepkg/loader_utils.py" and "read to the end by has_lora()" in steps[2][1]
    assert steps[-1] == ("enginepkg/model.py", "and consumed again")


FACTORY_WRAPPER = """\
from engine.utils import init_vllm_registered_model


class Wrapper:
    def __init__(self, vllm_config, prefix=""):
        if vllm_config.stage == "thinker":
            self.thinker = init_vllm_registered_model(
                vllm_config=vllm_config, prefix=prefix, architectures=["ThinkerForCausalLM"]
            )
            self.model = self.thinker
        else:
            self.model = init_vllm_registered_model(
                vllm_config=vllm_config, architectures=["StreamsForCausalLM"]
            )

    def load_weights(self, weights):
        return self.model.load_weights(weights)


class ElsewhereWrapper:
    def __init__(self, vllm_config):
        self.model = init_vllm_registered_model(vllm_config=vllm_config, architectures=["FarForCausalLM"])

    def load_weights(self, weights):
        return self.model.load_weights(weights)
"""
FACTORY_THINKER = """\
class ThinkerForCausalLM:
    def load_weights(self, weights):
        weights = [(name.removeprefix("thinker."), w) for name, w in weights]
        return self.loader.load_weights(weights)
"""
FACTORY_STREAMS = """\
class StreamsForCausalLM:
    def load_weights(self, weights):
        return self.loader.load_weights(weights)
"""


def test_a_submodel_built_by_architecture_name_is_followed(tmp_path: Path) -> None:
    # `init_vllm_registered_model(..., architectures=["X"])` builds class X of the
    # registry: found in a module of the caller's own package (vLLM-Omni's Step-Audio2).
    models = tmp_path / "engine" / "models"
    (models / "audio").mkdir(parents=True)
    (models / "far").mkdir()
    (tmp_path / "engine" / "__init__.py").write_text("")
    (tmp_path / "engine" / "utils.py").write_text("def init_vllm_registered_model(**kw):\n    return None\n")
    for folder in (models, models / "audio", models / "far"):
        (folder / "__init__.py").write_text("")
    (models / "audio" / "wrapper.py").write_text(FACTORY_WRAPPER)
    (models / "audio" / "thinker.py").write_text(FACTORY_THINKER)
    (models / "audio" / "streams.py").write_text(FACTORY_STREAMS)
    # A class of that name in another package is not the one meant.
    (models / "far" / "far.py").write_text(FACTORY_THINKER.replace("ThinkerForCausalLM", "FarForCausalLM"))
    r = eagerlint("check", "engine/models/audio/wrapper.py", "--output-format", "json", cwd=tmp_path)
    # Only the may-answer that keeps counts (the thinker); the other stage streams.
    assert reported(r) == {("engine/models/audio/wrapper.py", 17, "EL004")}
