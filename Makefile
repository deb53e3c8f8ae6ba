# Every target sets up what it needs itself; nothing installed by hand is assumed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CACHE ?= $(HOME)/.cache/eagerlint
DEMO_VERSION := 0.23.0

.PHONY: demo test lint fuzz fixes bench-memory bench-probe bench-tree-memory bench-speed bench-bigfiles findings clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The main job on a real default target: all of vLLM 0.23.0, then the Llama4 fixes as diffs
# (llama4.py's safe one; mllama4.py's, which is unsafe and shown only with --unsafe-fixes),
# then the memory effect measured by `make bench-memory` (the committed figures; nothing is re-measured).
demo: $(STAMP)
	@src=$$($(PY) bench/vllm_source.py $(DEMO_VERSION)) && cd $$src && \
	echo "== eagerlint check vllm/  (vLLM $(DEMO_VERSION), $$src)" && \
	$(CURDIR)/$(VENV)/bin/eagerlint check vllm/ --output-format concise --exit-zero && \
	echo && echo "== the safe fix: eagerlint check --diff vllm/model_executor/models/llama4.py" && \
	$(CURDIR)/$(VENV)/bin/eagerlint check --diff --exit-zero vllm/model_executor/models/llama4.py && \
	echo && echo "== an UNSAFE fix (applied only with --unsafe-fixes; read it before you take it):" && \
	echo "== eagerlint check --diff --unsafe-fixes vllm/model_executor/models/mllama4.py" && \
	$(CURDIR)/$(VENV)/bin/eagerlint check --diff --unsafe-fixes --exit-zero vllm/model_executor/models/mllama4.py && \
	echo && echo "== what the fixes change in memory" && \
	$(CURDIR)/$(PY) $(CURDIR)/bench/llama4_memory/summary.py

test: $(STAMP)
	$(PY) bench/vllm_source.py 0.23.0 >/dev/null
	$(PY) bench/vllm_source.py 0.24.0 >/dev/null
	$(PY) bench/vllm_source.py 0.33.0 >/dev/null
	$(PY) bench/vllm_source.py 0.5.23 --project sglang >/dev/null
	$(PY) bench/vllm_source.py 0.18.0 --project lmdeploy >/dev/null
	$(PY) bench/vllm_source.py 0.30.0 --project vllm-omni >/dev/null
	$(PY) bench/vllm_source.py 0.1.1 --project tokenspeed >/dev/null
	$(PY) bench/vllm_source.py 0.32.0 --project tpu-inference >/dev/null
	bash bench/llama4_memory/setup.sh >/dev/null
	EAGERLINT_REAL_VLLM=1 $(PY) -m pytest -q

# The behaviour fuzzer at scale (tests/fuzz/README.md); make test runs 2,000 seeds of it.
# SEEDS and START choose the seeds; then hypothesmith crash-freedom on fresh examples.
SEEDS ?= 20000
START ?= 0
HYPOTHESMITH_EXAMPLES ?= 300
fuzz: $(STAMP)
	$(PY) -m tests.fuzz.run --seeds $(SEEDS) --start $(START)
	EAGERLINT_HYPOTHESMITH_EXAMPLES=$(HYPOTHESMITH_EXAMPLES) EAGERLINT_HYPOTHESMITH_RANDOM=1 \
		$(PY) -m pytest -q -p no:cacheprovider tests/fuzz/test_crash_free.py

lint: $(STAMP)
	$(VENV)/bin/ruff check eagerlint tests bench
	$(VENV)/bin/ruff format --check eagerlint tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/eagerlint check eagerlint tests bench

clean:
	rm -rf $(VENV) .eagerlint_cache .pytest_cache .mypy_cache .ruff_cache .hypothesis

# Regenerate the reference fix of vLLM 0.23.0's Llama4 files with eagerlint itself.
fixes: $(STAMP)
	$(PY) fixes/regenerate.py

# The memory proof on vLLM 0.23.0's real classes and loaders (~4 min, 2 GiB checkpoints).
bench-memory: $(STAMP)
	bash bench/llama4_memory/setup.sh >/dev/null
	rm -rf $(CACHE)/fixed-llama4 && $(PY) fixes/regenerate.py --apply $(CACHE)/fixed-llama4
	rm -rf $(CACHE)/upstream-llama4 && $(PY) bench/llama4_memory/upstream_variant.py $(CACHE)/upstream-llama4
	for malloc in pinned default; do \
		$(PY) bench/llama4_memory/run.py --fixed $(CACHE)/fixed-llama4 --upstream $(CACHE)/upstream-llama4 \
			--size-mib 2048 --malloc $$malloc --json bench/llama4_memory/results-$$malloc.json \
			| tee bench/llama4_memory/results-$$malloc.md || exit 1; \
	done

# eagerlint.probe on the same real classes: stock, fixed, 0.24.0's side buffer, cloned (~2 min).
bench-probe: $(STAMP)
	bash bench/llama4_memory/setup.sh >/dev/null
	$(PY) bench/llama4_memory/probe_run.py --json bench/llama4_memory/results-probe.json \
		| tee bench/llama4_memory/results-probe.md

# The memory proof class by class: eagerlint fixes all of vLLM 0.23.0, and every catalogued
# model class is loaded from a random checkpoint, stock against each fix level (~20 min).
bench-tree-memory: $(STAMP)
	bash bench/llama4_memory/setup.sh >/dev/null
	$(PY) bench/tree_memory/run.py --json bench/tree_memory/results.json --md bench/tree_memory/results.md

# Speed on the whole vLLM 0.33.0 package against ruff, Fixit and the floors (~3 min).
# BASELINE=<commit> adds that commit's cold run, interleaved with today's (before/after).
bench-speed: $(STAMP)
	$(PY) -m pip install --quiet fixit==2.2.1
	$(PY) bench/vllm_source.py 0.33.0 >/dev/null
	$(PY) bench/speed/run.py --json bench/speed/results.json $(if $(BASELINE),--baseline $(BASELINE)) \
		| tee bench/speed/results.md

# Cost per MB on generated files of 1, 10 and 100 MB and a file of 10k functions (~8 min,
# ~7 GB of RAM for the 100 MB file).  Run it alone: `flock /tmp/heavy.lock make bench-bigfiles`.
bench-bigfiles: $(STAMP)
	$(PY) bench/speed/bigfiles.py --json bench/speed/bigfiles.json | tee bench/speed/bigfiles.md
