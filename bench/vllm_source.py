"""Fetch a vLLM release's Python source from its PyPI wheel into a cache.

    python bench/vllm_source.py 0.23.0                    # prints the folder holding vllm/
    python bench/vllm_source.py 0.5.23 --project sglang   # the same for another engine

The wheel is downloaded once (`pip download --no-deps --only-binary :all:`)
into $EAGERLINT_CACHE/wheels (default ~/.cache/eagerlint) and only its `.py`
files are extracted, into $EAGERLINT_CACHE/src/<version> (vLLM) or
src/<project>-<version>.  Nothing of those projects is ever written into this
repository.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path


def cache_dir() -> Path:
    return Path(os.environ.get("EAGERLINT_CACHE", Path.home() / ".cache" / "eagerlint"))


def package(project: str) -> str:
    """The import name a distribution ships (`vllm-omni` -> `vllm_omni`)."""
    return project.replace("-", "_")


def wheel(version: str, project: str = "vllm") -> Path:
    wheels = cache_dir() / "wheels"
    found = sorted(wheels.glob(f"{package(project)}-{version}-*.whl"))
    if found:
        return found[0]
    wheels.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary",
            ":all:",
            f"{project}=={version}",
            "-d",
            str(wheels),
        ],
        check=True,
    )
    found = sorted(wheels.glob(f"{package(project)}-{version}-*.whl"))
    if not found:
        raise SystemExit(f"pip did not produce a {project} {version} wheel in {wheels}")
    return found[0]


def source(version: str, project: str = "vllm") -> Path:
    """The folder that holds the project's package for `version`, extracted if needed."""
    target = cache_dir() / "src" / (version if project == "vllm" else f"{project}-{version}")
    stamp = target / ".complete"
    if stamp.exists():
        return target
    with zipfile.ZipFile(wheel(version, project)) as archive:
        for member in archive.namelist():
            if member.startswith(f"{package(project)}/") and member.endswith(".py"):
                archive.extract(member, target)
    stamp.write_text("ok\n")
    return target


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("version")
    ap.add_argument("--project", default="vllm")
    args = ap.parse_args()
    print(source(args.version, args.project))
