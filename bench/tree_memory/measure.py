"""One host-memory measurement of a real vLLM 0.23.0 model class's ``load_weights`` on CPU.

Run it in a fresh process of the harness venv (bench/llama4_memory/setup.sh): the
numbers are process-wide, so anything loaded earlier in the same process would blur
them.

    python measure.py --checkpoint DIR --variant stock
    python measure.py --checkpoint DIR --variant ~/.cache/eagerlint/tree-memory/fix

``DIR`` is a checkpoint written by checkpoints.py: a Hugging Face folder (config.json,
safetensors shards) plus ``eagerlint_checkpoint.json``, which names the architecture
and the ``ModelConfig`` arguments it is built with. ``--variant TREE`` is a copy of
vLLM's source (``TREE/vllm/...``, e.g. as eagerlint fixed it): every module file of
TREE that differs from the installed vLLM is imported from TREE instead, under its real
module name. Prints one JSON line on stdout.

This is bench/llama4_memory/measure.py made generic over the architecture and the
variant; its helpers (CPU platform, allocator pinning, sampler, state hash) are reused
as they are. One difference: every parameter and buffer is faulted in before the
baseline is taken (pages written with their own bytes, so nothing changes), so that

* ``transient`` = peak RssAnon during ``load_weights`` - RssAnon just before it: what
  the load held on top of the model it filled, whatever the class's init touched;
* ``kept`` = RssAnon after the load (stream dropped, gc run) - RssAnon before: what
  ``load_weights`` left behind (modules it creates lazily, caches).

``ran`` lists the vLLM functions (``path:qualname``) that executed during
``load_weights``, found with a ``sys.settrace`` hook that sees calls only: the driver
intersects it with the functions eagerlint changed, which proves the fixed code ran.
"""

from __future__ import annotations

import argparse
import contextlib
import filecmp
import gc
import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
import tempfile
import time
import types
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
MIB = 1 << 20


def load_llama4_measure() -> types.ModuleType:
    """bench/llama4_memory/measure.py, whose helpers this harness shares."""
    path = HERE.parent / "llama4_memory" / "measure.py"
    spec = importlib.util.spec_from_file_location("llama4_memory_measure", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


L4 = load_llama4_measure()


class TreeFinder(importlib.abc.MetaPathFinder):
    """Serve the modules whose file in a variant tree differs from the installed vLLM.

    First on sys.meta_path, so every import path (the registry's lazy
    ``import_module``, relative imports between model files) gets the variant under
    the module's real name; a package keeps the installed package's search path, so
    its unchanged submodules still come from the installation.
    """

    def __init__(self, files: dict[str, Path], installed: Path) -> None:
        self.files = files
        self.installed = installed

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        file = self.files.get(fullname)
        if file is None:
            return None
        if file.name == "__init__.py":
            rel = Path(*fullname.split("."))
            return importlib.util.spec_from_file_location(
                fullname, file, submodule_search_locations=[str(self.installed.parent / rel)]
            )
        return importlib.util.spec_from_file_location(fullname, file)


def installed_vllm() -> Path:
    spec = importlib.util.find_spec("vllm")
    assert spec is not None and spec.origin is not None
    return Path(spec.origin).parent


def module_name(rel: Path) -> str:
    parts = list(rel.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def install_variant(variant: str) -> list[str]:
    """Put a variant tree's differing files in front of the installed vLLM."""
    if variant == "stock":
        return []
    tree = Path(variant).resolve()
    installed = installed_vllm()
    files: dict[str, Path] = {}
    for file in sorted((tree / "vllm").rglob("*.py")):
        rel = file.relative_to(tree)
        twin = installed.parent / rel
        if not twin.is_file() or not filecmp.cmp(file, twin, shallow=False):
            files[module_name(rel)] = file
    if not files:
        sys.exit(f"variant tree {tree} does not differ from the installed vLLM")
    sys.meta_path.insert(0, TreeFinder(files, installed))
    return sorted(str(f.relative_to(tree)) for f in files.values())


class CallRecorder:
    """The vLLM functions that run while active, as ``vllm/...py:qualname``.

    A global trace function that returns None sees each Python call (and generator
    resume) and never traces lines, so it costs one callback per call.
    """

    def __init__(self, roots: dict[str, Path]) -> None:
        # code file prefix -> the folder that relative paths are taken from
        self.roots = {str(prefix): base for prefix, base in roots.items()}
        self.seen: set[tuple[str, str]] = set()

    def _trace(self, frame: types.FrameType, event: str, arg: object) -> None:
        code = frame.f_code
        self.seen.add((code.co_filename, code.co_qualname))

    def __enter__(self) -> CallRecorder:
        sys.settrace(self._trace)  # type: ignore[arg-type]
        return self

    def __exit__(self, *exc: object) -> None:
        sys.settrace(None)

    def ran(self) -> list[str]:
        out = set()
        for filename, qualname in self.seen:
            for prefix, base in self.roots.items():
                if filename.startswith(prefix):
                    out.add(f"{Path(filename).relative_to(base)}:{qualname}")
        return sorted(out)


class Unavailable:
    """What every attribute of a stubbed package is: usable as a base class or in an
    annotation, and raising as soon as anything calls it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("a stubbed package was used (eagerlint memory harness)")


class StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serve a package and all its submodules as empty stand-ins.

    For packages that vLLM or transformers import at module level but that neither
    building a model nor ``load_weights`` uses, and that cannot be installed here
    (torchvision: no build matches torch 2.13.0+cpu). Any attribute is ``Unavailable``.
    """

    def __init__(self, packages: Sequence[str]) -> None:
        self.packages = tuple(packages)

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname.split(".")[0] not in self.packages:
            return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = types.ModuleType(spec.name)
        module.__path__ = []
        module.__getattr__ = self._attr  # type: ignore[method-assign]
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        pass

    @staticmethod
    def _attr(name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return type(name, (Unavailable,), {})


# Never installable next to torch 2.13.0+cpu here; imported by image processors only.
STUB_PACKAGES = ("torchvision",)


# Activation kernels that layer constructors look up in vLLM's compiled ``_C``
# extension on the CPU platform (vllm/model_executor/layers/activation.py). The
# extension of the 0.23.0 wheel is a CUDA build that cannot load here; forward would
# use the kernel, building and loading weights never do.
PLACEHOLDER_OPS = (
    "gelu_and_mul",
    "gelu_tanh_and_mul",
    "gelu_new",
    "gelu_fast",
    "gelu_quick",
    "fatrelu_and_mul",
)


def placeholder_ops() -> list[str]:
    """Declare each missing PLACEHOLDER_OPS in ``torch.ops._C`` with no kernel: looking
    it up works, calling it raises. Returns the ones declared."""
    import torch

    declared = []
    lib = torch.library.Library("_C", "FRAGMENT")  # kept alive below, or the ops go
    for name in PLACEHOLDER_OPS:
        if not hasattr(torch.ops._C, name):
            lib.define(f"{name}(Tensor(a!) out, Tensor input) -> ()")
            declared.append(name)
    placeholder_ops.lib = lib  # type: ignore[attr-defined]
    return declared


def install_stubs(extra: Sequence[str] = ()) -> None:
    """Stub STUB_PACKAGES and ``extra``, after transformers has recorded them missing
    (it checks availability once, at import), so it never takes a stub for the real
    package; only the modules that import one unconditionally get the stub."""
    import transformers.utils.import_utils  # noqa: F401

    sys.meta_path.append(StubFinder([*STUB_PACKAGES, *extra]))
    placeholder_ops()


def build_model(checkpoint: str, meta: dict[str, Any], device: str = "cpu") -> tuple[Any, Any]:
    """The real vLLM model class for the checkpoint's architecture, and its VllmConfig.

    A draft model (``meta["speculative"]``: the method and the folder of a target
    config) is built as vLLM's proposer builds it: the target's VllmConfig with a
    SpeculativeConfig, and the draft's model config. ``device="meta"`` builds without
    memory (checkpoints.py reads the parameter names and shapes that way).
    """
    import torch
    from vllm.config import (
        DeviceConfig,
        ModelConfig,
        ParallelConfig,
        SpeculativeConfig,
        VllmConfig,
        set_current_vllm_config,
    )
    from vllm.distributed import init_distributed_environment, initialize_model_parallel
    from vllm.distributed.parallel_state import model_parallel_is_initialized
    from vllm.model_executor.model_loader.utils import initialize_model
    from vllm.utils.torch_utils import set_default_torch_dtype

    for module, table, key, value in meta.get("register", []):
        # A small size added to a table of named sizes (e.g. RADIO's ViT widths/depths).
        getattr(importlib.import_module(module), table)[key] = tuple(value)
    kwargs = {"skip_tokenizer_init": True, "dtype": meta.get("dtype", "bfloat16")}
    kwargs.update(meta.get("model_config", {}))
    spec = meta.get("speculative")
    parallel = ParallelConfig()
    if spec:
        target = ModelConfig(model=str(Path(checkpoint) / spec["target"]), **kwargs)
        speculative = SpeculativeConfig(
            model=checkpoint,
            method=spec["method"],
            num_speculative_tokens=1,
            target_model_config=target,
            target_parallel_config=parallel,
        )
        cfg = VllmConfig(
            model_config=target,
            parallel_config=parallel,
            speculative_config=speculative,
            device_config=DeviceConfig(device="cpu"),
        )
        model_config = speculative.draft_model_config
    else:
        model_config = ModelConfig(model=checkpoint, **kwargs)
        cfg = VllmConfig(
            model_config=model_config, parallel_config=parallel, device_config=DeviceConfig(device="cpu")
        )
    with set_current_vllm_config(cfg):
        if not model_parallel_is_initialized():
            init_distributed_environment(
                world_size=1,
                rank=0,
                local_rank=0,
                distributed_init_method=f"tcp://127.0.0.1:{L4.free_port()}",
                backend="gloo",
            )
            initialize_model_parallel(1, 1)
        # As vLLM's own loader does: parameters created in the model dtype on CPU.
        with set_default_torch_dtype(model_config.dtype), torch.device(device):
            return initialize_model(vllm_config=cfg, model_config=model_config), cfg


def param_digests(model: Any) -> dict[str, str]:
    """A digest of every parameter's bytes: the ones load_weights leaves as they were
    are the ones it did not load (whatever it returns)."""
    import torch

    out = {}
    for name, p in model.named_parameters():
        t = p.detach().contiguous().cpu()
        out[name] = hashlib.sha1(t.view(-1).view(torch.uint8).numpy().data).hexdigest()
    return out


def fault_in(model: Any) -> None:
    """Make every parameter and buffer page resident without changing a bit."""
    import torch

    with torch.no_grad():
        for t in [*model.parameters(), *model.buffers()]:
            if t.device.type != "cpu" or t.numel() == 0:
                continue
            flat = t.detach().reshape(-1)
            if flat.data_ptr() != t.data_ptr() or not t.is_contiguous():
                continue  # a strided view; its storage is reached through its owner
            raw = flat.view(torch.uint8)
            raw.copy_(raw.clone())


def weights_iterator(checkpoint: str) -> Iterator[tuple[str, Any]]:
    from vllm.model_executor.model_loader import weight_utils

    files = sorted(str(p) for p in Path(checkpoint).glob("*.safetensors"))
    it: Iterator[tuple[str, Any]] = weight_utils.runai_safetensors_weights_iterator(files, False)
    return it


def measure(checkpoint: str, variant: str, malloc: str) -> dict[str, Any]:
    # Before torch and vLLM import, so every large buffer they allocate follows it.
    malloc_pinned = malloc == "pinned" and L4.pin_malloc_mmap_threshold()
    os.environ.setdefault("VLLM_CACHE_ROOT", tempfile.mkdtemp(prefix="eagerlint-vllm-cache-"))
    meta: dict[str, Any] = json.loads((Path(checkpoint) / "eagerlint_checkpoint.json").read_text())
    variant_files = install_variant(variant)
    L4.stub_llama4_fast_image_processor()
    install_stubs(meta.get("stub_modules", []))
    L4.prepare_vllm()
    model, cfg = build_model(checkpoint, meta)
    cls = type(model)
    if cls.__name__ != meta["class"]:
        sys.exit(f"checkpoint built {cls.__name__}, expected {meta['class']}")
    module_file = sys.modules[cls.__module__].__file__
    param_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    fault_in(model)
    digests = param_digests(model)

    installed = installed_vllm()
    roots = {installed: installed.parent}
    if variant != "stock":
        tree = Path(variant).resolve()
        roots[tree / "vllm"] = tree
    gc.collect()
    weights = weights_iterator(checkpoint)
    before = L4.status_kib("RssAnon", "VmRSS")
    hwm_ok = L4.reset_hwm()
    t0 = time.perf_counter()
    with L4.PeakSampler() as sampler, CallRecorder(roots) as calls:
        loaded = model.load_weights(weights)
    seconds = time.perf_counter() - t0
    hwm = L4.status_kib("VmHWM")["VmHWM"]
    del weights
    gc.collect()
    after = L4.status_kib("RssAnon")["RssAnon"]
    names = {n for n, _ in model.named_parameters()}
    missing = sorted(names - set(loaded or ()))
    untouched = sorted(n for n, d in param_digests(model).items() if digests.get(n) == d)
    import torch
    import transformers
    import vllm

    return {
        "arch": meta["arch"],
        "class": cls.__name__,
        "variant": variant,
        "variant_files": variant_files,
        "module_file": module_file,
        "mro_files": sorted(
            {str(sys.modules[k.__module__].__file__) for k in cls.__mro__ if k.__module__.startswith("vllm.")}
        ),
        "loader": "runai_safetensors_weights_iterator",
        "runai_memory_limit": os.environ.get("RUNAI_STREAMER_MEMORY_LIMIT"),
        "malloc": "pinned mmap threshold 128 KiB" if malloc_pinned else "glibc default",
        "checkpoint": checkpoint,
        "model_dtype": str(cfg.model_config.dtype),
        "param_mib": round(param_bytes / MIB, 1),
        "rss_anon_before_mib": L4.mib(before["RssAnon"]),
        "rss_anon_peak_mib": L4.mib(sampler.peak_kib),
        "rss_anon_after_mib": L4.mib(after),
        "transient_mib": L4.mib(sampler.peak_kib - before["RssAnon"]),
        "kept_mib": L4.mib(after - before["RssAnon"]),
        "hwm_transient_mib": L4.mib(hwm - before["VmRSS"]) if hwm_ok else None,
        "samples": sampler.samples,
        "load_seconds": round(seconds, 2),
        "params": len(names),
        "loaded_params": len(loaded or ()),
        "returned_loaded": loaded is not None,
        "missing_params": missing,
        "untouched_params": untouched,
        "state_sha256": L4.state_hash(model),
        "ran": calls.ran(),
        "versions": {
            "vllm": vllm.__version__,
            "torch": torch.__version__,
            "transformers": transformers.__version__,
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--variant", default="stock", help="'stock' or a tree holding vllm/")
    ap.add_argument(
        "--malloc",
        choices=("pinned", "default"),
        default="pinned",
        help="pin glibc's mmap threshold (default) or leave glibc's adaptive one",
    )
    args = ap.parse_args()
    # vLLM logs to stdout; keep stdout for the one JSON line the driver parses.
    with contextlib.redirect_stdout(sys.stderr):
        result = measure(args.checkpoint, args.variant, args.malloc)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
