"""Which registry architectures inherit a function that eagerlint changed.

Runs in the harness venv, on the CPU platform, with stock vLLM:

    python affected.py --changes changes.json

For every architecture of vLLM's model registry, the class is imported and its MRO
walked; a changed method (``Cls.method`` or ``Cls.method.<locals>...`` in the same
file) that the class resolves to (not overridden below ``Cls``), or a changed
module-level function of the class's own module, makes the architecture affected at
that level. What a model
reaches by composition (a sub-model's ``load_weights``) is found at run time instead,
from the functions measure.py saw run. Prints one JSON object: per level the affected
architectures, and the architectures whose module does not import here, with why.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import measure


def owner(qualname: str) -> str | None:
    """The class part of a qualname (``A.B.f.<locals>.g`` -> ``A.B``), None for a
    module-level function."""
    head = qualname.split(".<locals>.")[0]
    return head.rsplit(".", 1)[0] if "." in head else None


def method(qualname: str) -> str:
    """The method a qualname belongs to (``A.f.<locals>.g`` -> ``f``)."""
    return qualname.split(".<locals>.")[0].rsplit(".", 1)[-1]


def resolves_to(cls: type, name: str, owner_cls: type) -> bool:
    """Whether ``cls.name`` is the one ``owner_cls`` defines (not overridden before it)."""
    for k in cls.__mro__:
        if name in k.__dict__:
            return k is owner_cls
    return False


def import_class(module: str, name: str) -> type | str:
    """The registry class, or why its module does not import here."""
    try:
        cls: type = getattr(importlib.import_module(f"vllm.model_executor.models.{module}"), name)
    except Exception as e:
        return f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"[:200]
    return cls


def affected(changes: dict[str, Any]) -> dict[str, Any]:
    measure.L4.stub_llama4_fast_image_processor()
    measure.install_stubs()
    measure.L4.prepare_vllm()
    from vllm.model_executor.models.registry import _VLLM_MODELS

    base = measure.installed_vllm().parent
    out: dict[str, Any] = {"levels": {}, "import_errors": {}}
    classes: dict[str, type] = {}
    for arch, (mod, cls_name) in sorted(_VLLM_MODELS.items()):
        found = import_class(mod, cls_name)
        if isinstance(found, str):
            path = f"vllm/model_executor/models/{mod}.py"
            out["import_errors"][arch] = {"class": cls_name, "path": path, "error": found}
        else:
            classes[arch] = found
    for level, data in changes["levels"].items():
        by_file: dict[str, list[str]] = {}
        for f in data["functions"]:
            by_file.setdefault(f["path"], []).append(f["qualname"])
        hits: dict[str, Any] = {}
        for arch, cls in classes.items():
            reached: list[str] = []
            for k in cls.__mro__:
                file = getattr(sys.modules.get(k.__module__), "__file__", None)
                if not file or not k.__module__.startswith("vllm."):
                    continue
                rel = str(Path(file).relative_to(base))
                for q in by_file.get(rel, []):
                    own = owner(q)
                    if own is None and k is cls:
                        reached.append(f"{rel}:{q}")  # a helper of the class's own module
                    elif own == k.__qualname__ and resolves_to(cls, method(q), k):
                        reached.append(f"{rel}:{q}")
            if reached:
                hits[arch] = {
                    "class": cls.__name__,
                    "module": cls.__module__,
                    "changed": sorted(set(reached)),
                }
        out["levels"][level] = hits
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--changes", type=Path, required=True, help="the JSON that trees.py wrote")
    args = ap.parse_args()
    with contextlib.redirect_stdout(sys.stderr):
        result = affected(json.loads(args.changes.read_text()))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
