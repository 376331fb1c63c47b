"""Gal & Ghahramani 2016 presets. Pick one with --config=papers/variational_dropout/configs.py:<preset>[,<model>];
override with --config.KEY=V. The model picks the dropout: `none`, `zaremba`, `variational` (untied, Gal's best),
`variational_tied`, `variational_no_embed` (no word dropout); e.g. `configs.py:cpu,zaremba`.

`paper` is the author's script for the large model (yaringal/BayesianRNN, LM_code/main_new_dropout_SOTA_v3.lua):
2 x 1,500 units on PTB, 55 epochs, SGD lr 1 divided by 1.15 after every epoch past the 10th, global gradient norm
clipped at 10, weight decay 1e-7, init +-0.04, dropout 0.3 (embedding, recurrent) and 0.5 (input, output);
Zaremba's large model drops 0.65 of the non-recurrent units.
`cpu` is the same model scaled down: 2 x 256 units on the Bible's words, 10 epochs with the decay from the 5th on
(about 45 minutes a run on 2 cores; NOTES.md); README "Deviations".
`smoke` runs the same code path on a few thousand generated words in seconds.
"""

import ml_collections

from common.config import ConfigError, check_choices, check_positive, preset_config

CHOICES = {"dataset": ("ptb", "bible", "generated"), "dropout": ("none", "zaremba", "variational")}
RATES = ("p_embed", "p_input", "p_recurrent", "p_output")


def paper() -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.seed = 1
    c.dataset = "ptb"
    c.data_dir = "data/ptb"  # ptb.train.txt, ptb.valid.txt, ptb.test.txt (`make data/ptb`)
    c.vocab_size = 10_000  # PTB's own; the Bible's 10,000 most frequent training words with <unk>
    # Model: Zaremba et al.'s large LSTM language model; embedding size = units.
    c.num_layers = 2
    c.units = 1500
    c.init_scale = 0.04
    c.dropout = "variational"  # "none", "zaremba" (non-recurrent, a fresh mask every step), "variational"
    c.tied = False  # variational: one mask per gate (untied, the paper's better row) or one for all gates (tied)
    c.p_embed = 0.3  # word dropout (variational only)
    c.p_input = 0.5  # each layer's input; Zaremba's dropout uses it on the embedding and between layers
    c.p_recurrent = 0.3  # variational only
    c.p_output = 0.5  # the top layer's output
    # Training: truncated BPTT over 20 contiguous streams, windows of 35 words, the state carried.
    c.batch_size = 20
    c.seq_length = 35
    c.learning_rate = 1.0
    c.lr_decay = 1.15  # lr divided by this after every epoch past `lr_decay_after`
    c.lr_decay_after = 10
    c.max_epochs = 55
    c.clip_norm = 10.0  # global gradient norm, of the loss summed over the window and averaged over the batch
    c.weight_decay = 1e-7
    c.steps_per_checkpoint = 0  # 0 = one checkpoint (validation, history row) per epoch
    # Evaluation: the stream cut into `eval_streams` parts scored side by side, the state carried.
    c.eval_streams = 10
    c.eval_chunk = 100
    c.mc_samples = 100  # MC dropout samples (the author's script: 100; the paper's table: 1,000)
    c.mc_report = (10, 50, 100)  # perplexity after the first K samples
    # Runner.
    c.distribute = "default"
    c.deterministic = True
    c.verbose = 2
    c.workdir = ""  # "" = runs/variational_dropout/<preset>/<model>/seed<seed>
    c.results_dir = ""  # "" = results/
    return c


def cpu() -> ml_collections.ConfigDict:
    c = paper()
    c.dataset = "bible"
    c.units = 256
    c.init_scale = 0.05  # Zaremba's medium; +-0.04 was for 1,500 units
    c.max_epochs = 10
    c.lr_decay = 1.2  # Zaremba's medium schedule (decay 1.2 after epoch 6 of 39), shortened: after epoch 4 of 10
    c.lr_decay_after = 4
    c.clip_norm = 5.0
    c.p_embed, c.p_input, c.p_recurrent, c.p_output = 0.2, 0.35, 0.2, 0.35
    c.mc_samples = 100
    return c


def smoke() -> ml_collections.ConfigDict:
    c = cpu()
    c.dataset = "generated"
    c.vocab_size = 100
    c.units = 16
    c.batch_size = 4
    c.seq_length = 10
    c.max_epochs = 2
    c.lr_decay_after = 1
    c.eval_streams = 2
    c.eval_chunk = 20
    c.mc_samples = 4
    c.mc_report = (2, 4)
    c.verbose = 0
    return c


def _model(c, name: str) -> ml_collections.ConfigDict:
    """The dropout of one row of the paper's Table 1, on the preset's sizes."""
    if name == "none":
        c.dropout, c.p_embed, c.p_input, c.p_recurrent, c.p_output = "none", 0.0, 0.0, 0.0, 0.0
    elif name == "zaremba":  # the same rate on every non-recurrent connection, none on the embedding or state
        rate = {1500: 0.65, 650: 0.5}.get(c.units, c.p_input)
        c.dropout, c.p_embed, c.p_input, c.p_recurrent, c.p_output = "zaremba", 0.0, rate, 0.0, rate
    elif name in ("variational", "variational_tied", "variational_no_embed"):
        c.dropout, c.tied = "variational", name == "variational_tied"
        if name == "variational_no_embed":
            c.p_embed = 0.0
    else:
        raise ConfigError(f"unknown model {name!r}: choose none, zaremba, variational, variational_tied or "
                          f"variational_no_embed")
    return c


PRESETS = {"smoke": smoke, "cpu": cpu, "paper": paper}


def get_config(spec: str | None = None) -> ml_collections.ConfigDict:
    """`<preset>` or `<preset>,<model>` (the model as in the module docstring; default the preset's)."""
    preset, _, name = (spec or "cpu").partition(",")
    config = preset_config(PRESETS, preset)
    return _model(config, name) if name else config


def validate(config: ml_collections.ConfigDict) -> None:
    check_choices(config, CHOICES)
    check_positive(config, ("vocab_size", "num_layers", "units", "init_scale", "batch_size", "seq_length",
                            "learning_rate", "lr_decay", "max_epochs", "eval_streams", "eval_chunk", "mc_samples"))
    for key in RATES:
        if not 0 <= config[key] < 1:
            raise ConfigError(f"config.{key}={config[key]} must be in [0, 1)")
    if config.dropout == "none" and any(config[key] for key in RATES):
        raise ConfigError("config.dropout='none' with a dropout rate above 0: set the rates to 0 or pick a dropout")
    if config.dropout == "zaremba" and (config.p_embed or config.p_recurrent):
        raise ConfigError("Zaremba's dropout has no embedding or recurrent mask: set p_embed and p_recurrent to 0")
    if any(k > config.mc_samples for k in config.mc_report):
        raise ConfigError(f"config.mc_report={tuple(config.mc_report)} asks for more than mc_samples="
                          f"{config.mc_samples}")
