# Every entry point of the suite. The first target that needs Python builds .venv from requirements.txt.
# `make reproduce` runs every `cpu` experiment (resumable: run it again after a stop) and then `make results`.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SEEDS ?= 1 2
export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONUNBUFFERED := 1

.PHONY: help venv test smoke lint bench results reproduce char_rnn char_rnn-ablation char_rnn-paper char_rnn-sample \
  pointer_networks

help:
	@echo "make reproduce        every cpu experiment (resumable), then make results"
	@echo "make test             unit tests and one smoke run per paper"
	@echo "make smoke            the smoke preset of every paper"
	@echo "make char_rnn         char-RNN cpu preset (seeds: $(SEEDS)) and compressor baselines"
	@echo "make char_rnn-ablation  the same without carrying the state between batches"
	@echo "make char_rnn-paper   char-RNN paper preset (TFDS tiny_shakespeare; needs the TFDS data)"
	@echo "make char_rnn-sample  print text from the trained cpu model (TEMPERATURE=, PRIME=)"
	@echo "make pointer_networks every Pointer Networks cpu run (in progress; PN_TASKS=, PN_MODELS=, PN_NS= to pick)"
	@echo "make results          regenerate results/README.md and results/plots from results/*.csv"
	@echo "make bench            training throughput as ratios (ours / Keras Sequential, / matmul peak)"
	@echo "make lint             ruff"

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

venv: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .

smoke: $(STAMP)
	$(PY) -m papers.char_rnn.train --config=papers/char_rnn/configs.py:smoke \
	  --config.workdir=runs/char_rnn/smoke --config.results_dir=runs/smoke-results

bench: $(STAMP)
	$(PY) -m papers.char_rnn.bench

results: $(STAMP)
	$(PY) -m common.report

reproduce: char_rnn char_rnn-ablation
	@$(MAKE) --no-print-directory results
	@echo "Results: results/README.md (tables), results/plots/ (learning curves), results/*.csv (rows)."

# --- char-RNN (Karpathy 2015) ---------------------------------------------------------------------
# One file target per run (its result.json), so `make -j2 char_rnn` trains two seeds side by side.
CHAR_RNN_CPU := --config=papers/char_rnn/configs.py:cpu
CHAR_RNN_RUNS := $(foreach s,$(SEEDS),runs/char_rnn/cpu/lstm2x128/seed$(s)/result.json)
CHAR_RNN_ABLATION_RUNS := $(foreach s,$(SEEDS),runs/char_rnn/cpu/lstm2x128-zero-statewindows/seed$(s)/result.json)

runs/char_rnn/cpu/compressors.done: | $(STAMP)
	$(PY) -m papers.char_rnn.compressors $(CHAR_RNN_CPU)
	@mkdir -p $(@D) && touch $@

runs/char_rnn/cpu/lstm2x128/seed%/result.json: | $(STAMP)
	@echo "== char_rnn cpu, truncated BPTT (char-rnn), seed $*"
	$(PY) -m papers.char_rnn.train $(CHAR_RNN_CPU) --config.seed=$*

runs/char_rnn/cpu/lstm2x128-zero-statewindows/seed%/result.json: | $(STAMP)
	@echo "== char_rnn cpu, zero-state windows (ablation), seed $*"
	$(PY) -m papers.char_rnn.train $(CHAR_RNN_CPU) --config.carry_state=False --config.seed=$*

char_rnn: runs/char_rnn/cpu/compressors.done $(CHAR_RNN_RUNS)

char_rnn-ablation: $(CHAR_RNN_ABLATION_RUNS)

char_rnn-paper: $(STAMP)
	$(PY) -m papers.char_rnn.train --config=papers/char_rnn/configs.py:paper

# --- Pointer Networks (Vinyals et al. 2015), in progress: not yet part of `make reproduce` ----------------------
# One file target per (task, model, n): runs/pointer_networks/cpu/<task>/<model>-n<n>-<n>/seed1/test_n<n>/result.json
PN_CPU := --config=papers/pointer_networks/configs.py:cpu
PN_TASKS ?= convex_hull delaunay tsp
PN_MODELS ?= ptr_net attention lstm
PN_NS ?= 5 10
PN_RUNS := $(foreach t,$(PN_TASKS),$(foreach m,$(PN_MODELS),$(foreach n,$(PN_NS),\
  runs/pointer_networks/cpu/$(t)/$(m)-n$(n)-$(n)/seed1/test_n$(n)/result.json)))
PN_BASELINES := $(foreach n,$(PN_NS),runs/pointer_networks/cpu/tsp/baselines/test_n$(n)/result.json)

runs/pointer_networks/cpu/tsp/baselines/test_n%/result.json: | $(STAMP)
	$(PY) -m papers.pointer_networks.baselines $(PN_CPU) --config.task=tsp \
	  --config.n_min=$* --config.n_max=$* --config.n_test=$*

runs/pointer_networks/cpu/%/result.json: | $(STAMP)
	@set -- $$(echo "$*" | sed -E 's#^([a-z_]+)/([a-z_]+)-n([0-9]+)-([0-9]+)/seed([0-9]+)/test_n([0-9]+)$$#\1 \2 \3 \4 \5 \6#'); \
	echo "== pointer_networks cpu: task $$1, model $$2, n=$$3..$$4, seed $$5, test n=$$6"; \
	$(PY) -m papers.pointer_networks.train $(PN_CPU) --config.task=$$1 --config.model=$$2 \
	  --config.n_min=$$3 --config.n_max=$$4 --config.seed=$$5 --config.n_test=$$6

pointer_networks: $(PN_BASELINES) $(PN_RUNS)

TEMPERATURE ?= 0.8
PRIME ?= In the beginning
char_rnn-sample: $(STAMP)
	$(PY) -m papers.char_rnn.sample --workdir=runs/char_rnn/cpu/lstm2x128/seed1 \
	  --temperature=$(TEMPERATURE) --prime="$(PRIME)" --length=600
