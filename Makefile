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
  pointer_networks pointer_networks-paper data/fashion_mnist

help:
	@echo "make reproduce        every cpu experiment (resumable), then make results"
	@echo "make test             unit tests and one smoke run per paper"
	@echo "make smoke            the smoke preset of every paper"
	@echo "make char_rnn         char-RNN cpu preset (seeds: $(SEEDS)) and compressor baselines"
	@echo "make char_rnn-ablation  the same without carrying the state between batches"
	@echo "make char_rnn-paper   char-RNN paper preset (TFDS tiny_shakespeare; needs the TFDS data)"
	@echo "make char_rnn-sample  print text from the trained cpu model (TEMPERATURE=, PRIME=)"
	@echo "make pointer_networks every Pointer Networks cpu run and the TSP solvers (PN_TASKS=, PN_MODELS=, PN_NS=,"
	@echo "                      PN_SEEDS= to pick; make -j2 runs two side by side)"
	@echo "make pointer_networks-paper  every row of the paper's Tables 1 and 2 (paper preset; GPU-scale)"
	@echo "make results          regenerate results/README.md and results/plots from results/*.csv"
	@echo "make bench            throughput as ratios against a side-by-side baseline (results/bench/)"
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
	$(PY) -m papers.pointer_networks.train --config=papers/pointer_networks/configs.py:smoke \
	  --config.workdir=runs/pointer_networks/smoke --config.data_dir=runs/pointer_networks/smoke-data \
	  --config.results_dir=runs/smoke-results

bench: $(STAMP)
	$(PY) -m papers.char_rnn.bench
	$(PY) -m papers.pointer_networks.bench

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

# --- Pointer Networks (Vinyals et al. 2015) ----------------------------------------------------------
# One file target per run: runs/pointer_networks/<preset>/<task>/<model>-n<n_min>-<n_max>/seed<s>/test_n<n>/result.json
# (a trained model is evaluated at another n by another test_n directory, without training again).
PN_TASKS ?= convex_hull delaunay tsp
PN_MODELS ?= ptr_net attention lstm
PN_NS ?= 5 10
PN_SEEDS ?= 1
pn_run = runs/pointer_networks/$(1)/$(2)/$(3)-n$(4)/seed$(5)/test_n$(6)/result.json
PN_RUNS := $(foreach t,$(PN_TASKS),$(foreach m,$(PN_MODELS),$(foreach n,$(PN_NS),$(foreach s,$(PN_SEEDS),\
  $(call pn_run,cpu,$(t),$(m),$(n)-$(n),$(s),$(n))))))
PN_BASELINES := $(foreach n,$(PN_NS),runs/pointer_networks/cpu/tsp/baselines/test_n$(n)/result.json)
# The paper preset: every row of Tables 1 and 2 and the Delaunay numbers (Sec. 4); GPU-scale.
PN_PAPER_RUNS := \
  $(foreach n,5 10 50 100 200 500,$(call pn_run,paper,convex_hull,ptr_net,5-50,1,$(n))) \
  $(foreach n,5 10 50,$(call pn_run,paper,convex_hull,lstm,$(n)-$(n),1,$(n))) \
  $(call pn_run,paper,convex_hull,attention,50-50,1,50) $(call pn_run,paper,convex_hull,ptr_net,50-50,1,50) \
  $(foreach n,5 10 50,$(call pn_run,paper,delaunay,ptr_net,$(n)-$(n),1,$(n))) \
  $(foreach n,5 10,$(call pn_run,paper,tsp,ptr_net,$(n)-$(n),1,$(n))) \
  $(foreach n,5 10 20 25 30 40 50,$(call pn_run,paper,tsp,ptr_net,5-20,1,$(n))) \
  $(call pn_run,paper,tsp_a1,ptr_net,50-50,1,50) $(call pn_run,paper,tsp_a3,ptr_net,50-50,1,50)
PN_PAPER_BASELINES := $(foreach n,5 10 20 25 30 40 50,runs/pointer_networks/paper/tsp/baselines/test_n$(n)/result.json)

runs/pointer_networks/%/result.json: | $(STAMP)
	@set -- $$(echo "$*" | sed -E 's#^([a-z]+)/([a-z0-9_]+)/([a-z_]+)-n([0-9]+)-([0-9]+)/seed([0-9]+)/test_n([0-9]+)$$#\1 \2 \3 \4 \5 \6 \7#;s#^([a-z]+)/tsp/baselines/test_n([0-9]+)$$#\1 baselines \2#'); \
	if [ "$$2" = baselines ]; then \
	  echo "== pointer_networks $$1: TSP solvers (Optimal, A1, A2, A3), test n=$$3"; \
	  $(PY) -m papers.pointer_networks.baselines --config=papers/pointer_networks/configs.py:$$1 --config.task=tsp \
	    --config.n_test=$$3 --config.n_min=$$(( $$3 < 20 ? $$3 : 20 )) --config.n_max=$$(( $$3 < 20 ? $$3 : 20 )); \
	else \
	  echo "== pointer_networks $$1: task $$2, model $$3, n=$$4..$$5, seed $$6, test n=$$7"; \
	  $(PY) -m papers.pointer_networks.train --config=papers/pointer_networks/configs.py:$$1 --config.task=$$2 \
	    --config.model=$$3 --config.n_min=$$4 --config.n_max=$$5 --config.seed=$$6 --config.n_test=$$7; \
	fi

pointer_networks: $(PN_BASELINES) $(PN_RUNS)

pointer_networks-paper: $(PN_PAPER_BASELINES) $(PN_PAPER_RUNS)

# --- Depth study (He et al. 2016, Huang et al. 2017, Veit et al. 2016) --------------------------------
# Fashion-MNIST offline: the Debian package dataset-fashion-mnist, unpacked without root.
FMNIST := data/fashion_mnist
$(FMNIST)/.done:
	@mkdir -p $(FMNIST)/deb
	cd $(FMNIST)/deb && (apt-get download dataset-fashion-mnist || (apt-get update -qq && apt-get download dataset-fashion-mnist))
	dpkg -x $$(ls $(FMNIST)/deb/dataset-fashion-mnist_*.deb | head -1) $(FMNIST)
	@touch $@

data/fashion_mnist: $(FMNIST)/.done

TEMPERATURE ?= 0.8
PRIME ?= In the beginning
char_rnn-sample: $(STAMP)
	$(PY) -m papers.char_rnn.sample --workdir=runs/char_rnn/cpu/lstm2x128/seed1 \
	  --temperature=$(TEMPERATURE) --prime="$(PRIME)" --length=600
