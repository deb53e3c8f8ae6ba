"""[tool.eagerlint] settings, discovery with excludes and .gitignore, and noqa."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eagerlint import config, discover, runner, suppress
from eagerlint.codes import CODES
from eagerlint.config import ConfigError, Settings
from eagerlint.pipeline import FixMode, check_bytes, is_candidate
from eagerlint.prefilter import may_contain_streams, may_name_our_codes
from tests.helpers import fixed_text, run

LLAMA = "class M:\n    def load_weights(self, weights):\n        return self.l.load_weights(list(weights))\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def files(root: Path, settings: Settings) -> list[str]:
    found = discover.discover([root], settings)
    return sorted(p.relative_to(root).as_posix() for p in found if isinstance(p, Path))


def test_pyproject_settings_and_unknown_key_warning(tmp_path: Path) -> None:
    pyproject = write(
        tmp_path / "pyproject.toml",
        """
[tool.eagerlint]
select = ["EL00"]
ignore = ["EL003"]
per-file-ignores = { "tests/*" = ["EL002"] }
extend-stream-producers = ["my_pkg.read_shards"]
extend-lazy-consumers = ["stream_into"]
frobnicate = 1
""",
    )
    assert config.find_config(tmp_path / "sub" / "dir") == pyproject
    s = config.load(pyproject)
    assert s.enabled() == frozenset(c for c in CODES if c.startswith("EL00") and c != "EL003")
    assert "EL002" not in s.codes_for(str(tmp_path / "tests" / "t.py"))
    assert "EL002" in s.codes_for(str(tmp_path / "src" / "t.py"))
    assert s.analysis.stream_producers == ("my_pkg.read_shards",)
    assert s.warnings == (f"{pyproject}: unknown key `frobnicate` in [tool.eagerlint] (ignored)",)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('select = "EL001"\nignore = 3', "`ignore` must be a list of rule codes"),
        ('select = ["ZZ1"]', "unknown rule selector `ZZ1`"),
        ('exclude = "x"', "`exclude` must be a list of strings"),
        ("select = [", "invalid TOML"),
    ],
)
def test_bad_config_values(tmp_path: Path, body: str, message: str) -> None:
    path = write(tmp_path / "pyproject.toml", f"[tool.eagerlint]\n{body}\n")
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("(", r"\(")):
        config.load(path)


def test_configured_producer_and_consumer(tmp_path: Path) -> None:
    path = write(
        tmp_path / "pyproject.toml",
        """
[tool.eagerlint]
extend-stream-producers = ["read_shards"]
extend-lazy-consumers = ["stream_into"]
""",
    )
    s = config.load(path)
    from eagerlint.pipeline import FixMode, check_bytes

    src = "def f(files):\n    ws = [w for w in read_shards(files)]\n    stream_into(ws)\n"
    result = check_bytes(src.encode(), "f.py", s, FixMode.SAFE)
    assert (
        result.fixed_source
        == "def f(files):\n    ws = (w for w in read_shards(files))\n    stream_into(ws)\n"
    )
    default = check_bytes(src.encode(), "f.py", Settings(), FixMode.NONE)
    assert default.findings == ()


def test_exclude_extend_exclude_and_gitignore(tmp_path: Path) -> None:
    for rel in ("a/keep.py", "a/gen/skip.py", "b/vendored.py", "c/ignored.py", ".venv/x.py", "build/y.py"):
        write(tmp_path / rel, "x = 1\n")
    write(tmp_path / ".gitignore", "c/\n")
    write(tmp_path / "a" / ".gitignore", "gen/\n")
    s = Settings(root=tmp_path, extend_exclude=("b/vendored.py",))
    assert files(tmp_path, s) == ["a/keep.py"]
    no_git = Settings(root=tmp_path, respect_gitignore=False, exclude=())
    assert files(tmp_path, no_git) == sorted(
        ["a/keep.py", "a/gen/skip.py", "b/vendored.py", "c/ignored.py", ".venv/x.py", "build/y.py"]
    )


def test_explicit_file_is_checked_even_if_excluded(tmp_path: Path) -> None:
    target = write(tmp_path / "build" / "y.py", "x = 1\n")
    assert list(discover.discover([target], Settings(root=tmp_path))) == [target]


@pytest.mark.parametrize(
    ("line", "silenced"),
    [
        ("# noqa", False),  # a blanket noqa is for other tools: eagerlint needs the code
        ("# noqa  # noqa: EL002", True),
        ("# noqa: EL002", True),
        ("# noqa:EL001,EL002", True),
        ("# NOQA: el002", True),
        ("# noqa: EL001", False),
        ("# a comment", False),
    ],
)
def test_noqa_on_reported_line(line: str, silenced: bool) -> None:
    src = LLAMA.replace("(list(weights))", f"(list(weights))  {line}")
    # (A code named for nothing is reported on its own, as unused-noqa.)
    assert ({f.code for f in run(src).findings} <= {"EL100"}) is silenced


@pytest.mark.parametrize(
    ("line", "after"),
    [
        ("x = 1  # noqa: EL003", "x = 1"),
        ("x = 1\t# noqa:EL003,EL001", "x = 1"),
        ("x = 1  # noqa: EL003, E501", "x = 1  # noqa: E501"),
        ("x = 1  # NOQA: el003 -- why", "x = 1  # -- why"),
    ],
)
def test_an_unused_directive_is_removed(line: str, after: str) -> None:
    src = f"def load_weights(self, weights):\n    {line}\n    return self.l.load_weights(weights)\n"
    assert [f.code for f in run(src).findings] == ["EL100"]
    assert fixed_text(src) == src.replace(line, after)


def test_unused_codes_of_rules_that_did_not_run_are_left_alone() -> None:
    src = (
        "def load_weights(self, weights):\n    x = 1  # noqa: EL003\n"
        "    return self.l.load_weights(weights)\n"
    )
    assert [f.code for f in run(src).findings] == ["EL100"]
    for settings in (Settings(select=("EL001", "EL100")), Settings(ignore=("EL003",))):
        assert check_bytes(src.encode(), "t.py", settings).findings == ()
    assert check_bytes(src.encode(), "t.py", Settings(ignore=("EL100",))).findings == ()


@pytest.mark.parametrize(
    ("line", "after"),
    [
        ("x = os.getcwd()  # noqa: EL001", "x = os.getcwd()"),
        ("x = 1  # NOQA: E501, el003", "x = 1  # NOQA: E501"),
    ],
)
def test_a_stale_directive_is_reported_in_a_file_without_a_stream(line: str, after: str) -> None:
    # No weight stream can be here, so every eagerlint code it names silences nothing.
    src = f"import os\n\n{line}\n"
    assert not may_contain_streams(src.encode(), Settings().analysis)
    assert [(f.code, f.location.row) for f in run(src).findings] == [("EL100", 3)]
    assert fixed_text(src) == src.replace(line, after)


@pytest.mark.parametrize(
    "src",
    [
        "x = 1  # noqa: E501\n",  # another tool's code
        "x = 1  # noqa\n",  # a blanket noqa is not eagerlint's
        'x = "# noqa: EL001"\n',  # in a string: no directive
        "x = 1  # EL001 noqa\n",
    ],
)
def test_a_file_without_a_stream_or_a_directive_of_ours_gives_nothing(src: str) -> None:
    assert run(src).findings == ()
    # The byte prefilter lets none of them through but the string that merely looks
    # like a directive: that one is read (and gives nothing).
    assert is_candidate(src.encode(), Settings()) is ("EL001" in src and "noqa:" in src)


@given(
    st.lists(
        st.sampled_from(
            ["x = 1", "  # noqa", ": EL001", ":el003", ", E501", "\n", "\r\n", '"', "NOQA", " # ", "#"]
        ),
        max_size=12,
    )
)
def test_the_byte_prefilter_never_hides_a_stale_directive(parts: list[str]) -> None:
    src = "".join(parts)
    stale = suppress.apply([], src, checked=frozenset(CODES)).unused
    if stale:
        assert may_name_our_codes(src.encode())


def test_a_stale_directive_in_a_stream_free_file_is_found_in_a_tree(tmp_path: Path) -> None:
    write(tmp_path / "pkg" / "plain.py", "import os\n\nx = os.getcwd()  # noqa: EL002\n")
    write(tmp_path / "pkg" / "other.py", "y = 2  # noqa: E501\n")
    settings = Settings(root=tmp_path)
    paths = sorted(p for p in discover.discover([tmp_path / "pkg"], settings) if isinstance(p, Path))
    for _ in range(2):  # cold, then from the cache
        results, _read = runner.run(paths, settings, FixMode.NONE, use_cache=True, jobs=1)
        found = [(Path(r.filename).name, f.code) for r in results for f in r.findings]
        assert found == [("plain.py", "EL100")]


def test_noqa_on_first_line_of_statement() -> None:
    src = (
        "class M:\n    def load_weights(self, weights):\n"
        "        return self.l.load_weights(  # noqa: EL002\n            list(weights)\n        )\n"
    )
    assert run(src).findings == ()
    assert run(src.replace("# noqa: EL002", "")).findings != ()


def test_noqa_inside_a_string_does_not_count() -> None:
    src = LLAMA.replace("(list(weights))", '(list(weights), "# noqa")')
    assert len(run(src).findings) == 1


def test_force_exclude_applies_to_named_files(tmp_path: Path) -> None:
    target = write(tmp_path / "build" / "y.py", "x = 1\n")
    kept = write(tmp_path / "src" / "z.py", "x = 1\n")
    write(tmp_path / ".gitignore", "ignored.py\n")
    ignored = write(tmp_path / "src" / "ignored.py", "x = 1\n")
    s = Settings(root=tmp_path)
    found = list(discover.discover([target, kept, ignored], s, force_exclude=True))
    assert found == [kept]


def test_plain_name_excludes_follow_gitignore_meaning(tmp_path: Path) -> None:
    for rel in ("gen/a.py", "pkg/gen/b.py", "pkg/c.py", "pkg/gen.py", "out/d.py", "pkg/out.py"):
        write(tmp_path / rel, "x = 1\n")
    # `gen` matches files and folders of that name anywhere; `out/` only folders.
    s = Settings(root=tmp_path, exclude=("gen", "out/"))
    assert files(tmp_path, s) == ["pkg/c.py", "pkg/gen.py", "pkg/out.py"]
    # The set lookup answers exactly as pathspec would.
    fast = discover.Excludes.of(("gen", "out/", ".venv"))
    spec = discover._spec(["gen", "out/", ".venv"])
    for rel, is_dir in [
        ("gen", True),
        ("a/gen", False),
        ("a/gen.py", False),
        ("out", True),
        ("out", False),
        ("b/out", True),
        ("x/.venv", True),
        ("venv", True),
    ]:
        name = rel.rsplit("/", 1)[-1]
        assert fast.match(rel, name, is_dir) == spec.match_file(rel + ("/" if is_dir else "")), rel


def test_line_length_from_eagerlint_then_ruff_then_black(tmp_path: Path) -> None:
    own = write(
        tmp_path / "a" / "pyproject.toml",
        "[tool.eagerlint]\nline-length = 100\n[tool.ruff]\nline-length = 79\n",
    )
    assert config.load(own).analysis.line_length == 100
    ruff = write(tmp_path / "b" / "pyproject.toml", "[tool.eagerlint]\n[tool.ruff]\nline-length = 79\n")
    assert config.load(ruff).analysis.line_length == 79
    black = write(tmp_path / "c" / "pyproject.toml", "[tool.eagerlint]\n[tool.black]\nline-length = 120\n")
    assert config.load(black).analysis.line_length == 120
    plain = write(tmp_path / "d" / "pyproject.toml", "[tool.eagerlint]\n")
    assert config.load(plain).analysis.line_length == 88


@pytest.mark.parametrize("value", ["'88'", "true", "5"])
def test_bad_line_length_is_an_error(tmp_path: Path, value: str) -> None:
    path = write(tmp_path / "pyproject.toml", f"[tool.eagerlint]\nline-length = {value}\n")
    with pytest.raises(ConfigError, match="line-length"):
        config.load(path)


PENDING = """\
class M:
    def load_weights(self, weights):
        pending = {}
        for name, w in weights:
            if name.endswith("_scale"):
                self.load_pair(pending.pop(name[:-6]), w)
            else:
                pending[name] = w
"""


@pytest.mark.parametrize(
    ("select", "extend", "on"),
    [
        ((), (), False),  # off by default
        (("EL",), (), False),  # a prefix does not name it
        (("ALL",), (), False),
        (("EL01",), (), False),
        (("EL010",), (), True),  # named in full
        (("EL",), ("EL010",), True),
        (("EL003",), ("EL010",), True),
    ],
)
def test_a_default_off_rule_runs_only_when_named(
    select: tuple[str, ...], extend: tuple[str, ...], on: bool
) -> None:
    s = Settings(root=Path.cwd(), select=select or ("EL",), extend_select=extend)
    assert ("EL010" in s.enabled()) is on
    assert {c for c in CODES if c != "EL010" and c in s.enabled()} == {
        c for c in CODES if c != "EL010" and any(c.startswith(p) or p == "ALL" for p in (*s.select, *extend))
    }
    from eagerlint.pipeline import check_bytes

    found = {f.code for f in check_bytes(PENDING.encode(), "m.py", s).findings}
    assert ("EL010" in found) is on


def test_extend_select_and_buffer_reusing_loaders_from_pyproject(tmp_path: Path) -> None:
    extend = write(tmp_path / "a" / "pyproject.toml", '[tool.eagerlint]\nextend-select = ["EL010"]\n')
    s = config.load(extend)
    assert "EL010" in s.enabled() and "EL001" in s.enabled()
    # `--select` replaces `extend-select` too, as in ruff; `--extend-select` adds to it.
    assert "EL010" not in s.with_overrides(select=["EL001"]).enabled()
    assert s.with_overrides(select=["EL001"], extend_select=["EL010"]).enabled() == {"EL001", "EL010"}

    reusing = write(
        tmp_path / "b" / "pyproject.toml",
        '[tool.eagerlint]\nbuffer-reusing-loaders = ["fast_iterator"]\n',
    )
    s = config.load(reusing)
    assert "EL010" in s.enabled()
    assert s.analysis.buffer_reusing_loaders == ("fast_iterator",)
    assert "fast_iterator" in s.analysis.stream_producers
    from eagerlint.pipeline import check_bytes

    src = (
        "def load(model, files):\n"
        "    scales = []\n"
        "    for name, w in {producer}(files):\n"
        "        if name.endswith('.scale'):\n"
        "            scales.append((name, w))\n"
        "            continue\n"
        "        model.load_one(name, w)\n"
        "    model.load_scales(scales)\n"
    )
    # A configured loader's stream is followed; another producer's tensors are its own.
    fast = check_bytes(src.format(producer="loader.fast_iterator").encode(), "l.py", s).findings
    assert [(f.code, f.location.row) for f in fast] == [("EL010", 5)]
    other = check_bytes(src.format(producer="safetensors_weights_iterator").encode(), "l.py", s).findings
    assert other == ()
    with pytest.raises(ConfigError, match="`buffer-reusing-loaders` must be a list of strings"):
        config.from_table({"buffer-reusing-loaders": "x"}, tmp_path / "pyproject.toml")


def test_a_default_run_never_runs_a_default_off_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    from eagerlint.pipeline import check_bytes
    from eagerlint.rules import el010_weights_retained_view as el010

    def broken(*args: object) -> list[object]:
        raise RuntimeError("EL010 ran")

    monkeypatch.setattr(el010, "retained_views", broken)
    assert check_bytes(PENDING.encode(), "m.py", Settings(root=Path.cwd())).error is None
    on = check_bytes(PENDING.encode(), "m.py", Settings(root=Path.cwd(), extend_select=("EL010",)))
    assert on.error is not None and "EL010 ran" in on.error.message
