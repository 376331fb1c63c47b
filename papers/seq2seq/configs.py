"""Sutskever, Vinyals & Le 2014 presets. Pick one with --config=papers/seq2seq/configs.py:<preset>[,<model>];
override with --config.KEY=V. The model picks a row of Table 1 or of the claims' ablations:

    reversed      the paper's deep LSTM, source reversed (its best single model)
    forward       the same, source in its natural order (claim 1)
    reversed_l1, reversed_l2   the reversed model with 1 or 2 layers (claim 4: depth)
    attention     Bahdanau et al. 2014: bidirectional encoder, additive attention, source in natural order

`paper` is Sec. 3.4: WMT'14 English -> French, 160k / 80k word vocabularies, 4 x 1,000 LSTMs, 1,000-dim embeddings,
uniform init +-0.08, SGD lr 0.7 halved every half epoch after 5 epochs, 7.5 epochs, batches of 128, gradient norm
clipped at 5 (of the loss summed over time, averaged over the batch), beam sizes 1, 2 and 12.
`cpu` is the same model scaled down: LibreOffice's English/French strings and help (Debian packages, offline),
4 x 256 units, 8,000-word vocabularies, 6 epochs with the schedule shortened in the same proportion, and Adam
(lr 1e-3) for SGD, which does not leave the first plateau in so few updates (README "Deviations").
`smoke` runs the same code path on a few hundred generated pairs in seconds.
"""

import ml_collections

from common.config import ConfigError, check_choices, check_positive, preset_with_model

CHOICES = {"dataset": ("wmt14", "libreoffice", "generated"), "architecture": ("deep_lstm", "attention"),
           "optimizer": ("sgd", "adam")}


def paper() -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.seed = 1
    c.dataset = "wmt14"
    c.data_dir = ""  # "" = TFDS' default (wmt14) or data/libreoffice
    c.max_length = 80  # pairs with more tokens on either side are left out of training and evaluation
    c.max_train_pairs = 12_000_000  # wmt14: a sample of the paper's size (Sec. 3.1: 12M pairs; data.py), 0 = all
    c.source_vocab_size = 160_000  # words, UNK beyond (the specials included)
    c.target_vocab_size = 80_000
    # Model (Sec. 3.4).
    c.architecture = "deep_lstm"  # or "attention" (Bahdanau et al. 2014)
    c.reverse_source = True  # Sec. 3.3: the source read backwards, the target forwards
    c.num_layers = 4
    c.units = 1000
    c.embedding_dim = 1000
    c.attention_units = 1000  # attention only: the additive attention's hidden size
    c.init_scale = 0.08
    # Training: plain SGD; lr halved every half epoch from `lr_decay_after` epochs on.
    c.batch_size = 128
    c.optimizer = "sgd"  # or "adam" (the cpu preset's: NOTES.md "The optimiser at the cpu budget")
    c.learning_rate = 0.7
    c.lr_decay_after = 5.0
    c.max_epochs = 7.5
    c.clip_norm = 5.0  # global gradient norm, of the loss summed over time and averaged over the batch
    c.bucket_batches = 50  # length bucketing: a pass is cut into chunks of this many batches, each sorted by length
    c.checkpoints_per_epoch = 2
    # Evaluation.
    c.beam_sizes = (1, 2, 12)
    c.length_penalty = 1.0  # the extra column: finished hypotheses ranked by log p / length^alpha, beam 12
    c.eval_batch_size = 64
    c.eval_sentences = 0  # > 0 scores only the first sentences of validation and test (smoke)
    # Runner.
    c.distribute = "default"
    c.deterministic = True
    c.verbose = 2
    c.workdir = ""  # "" = runs/seq2seq/<preset>/<model>/seed<seed>
    c.results_dir = ""  # "" = results/
    return c


def cpu() -> ml_collections.ConfigDict:
    c = paper()
    c.dataset = "libreoffice"
    c.max_length = 50
    c.source_vocab_size = c.target_vocab_size = 8_000
    c.units = c.embedding_dim = c.attention_units = 256
    c.max_epochs = 6.0  # the paper's 7.5 with 5 at full lr, shortened in the same proportion (NOTES.md)
    c.lr_decay_after = 4.0
    # 2,000 updates are too few for plain SGD to leave the plateau of a decoder that ignores the source; Adam at
    # the same schedule's shape does (README "Deviations").
    c.optimizer = "adam"
    c.learning_rate = 1e-3
    return c


def smoke() -> ml_collections.ConfigDict:
    c = cpu()
    c.dataset = "generated"
    c.max_length = 14
    c.source_vocab_size = c.target_vocab_size = 64
    c.num_layers = 2
    c.units = c.embedding_dim = c.attention_units = 16
    c.batch_size = 16
    c.max_epochs = 2.0
    c.lr_decay_after = 1.0
    c.beam_sizes = (1, 2)
    c.eval_batch_size = 16
    c.eval_sentences = 24
    c.verbose = 0
    return c


MODELS = {
    "reversed": {},
    "forward": {"reverse_source": False},
    "reversed_l1": {"num_layers": 1},
    "reversed_l2": {"num_layers": 2},
    "attention": {"architecture": "attention", "reverse_source": False, "num_layers": 1},
}


def model_name(config) -> str:
    """The name of `config`'s model in workdirs and make targets (the keys of MODELS, else a description)."""
    if config.architecture == "attention":
        return "attention" + ("_reversed" if config.reverse_source else "")
    name = "reversed" if config.reverse_source else "forward"
    return name if config.num_layers == 4 else f"{name}_l{config.num_layers}"


PRESETS = {"smoke": smoke, "cpu": cpu, "paper": paper}


def get_config(spec: str | None = None) -> ml_collections.ConfigDict:
    """`<preset>` or `<preset>,<model>` (a key of MODELS; default: the preset's, the reversed deep LSTM)."""
    return preset_with_model(PRESETS, MODELS, spec)


def validate(config: ml_collections.ConfigDict) -> None:
    check_choices(config, CHOICES)
    check_positive(config, ("max_length", "source_vocab_size", "target_vocab_size", "num_layers", "units",
                            "embedding_dim", "attention_units", "init_scale", "batch_size", "learning_rate",
                            "max_epochs", "clip_norm", "bucket_batches", "checkpoints_per_epoch", "eval_batch_size"))
    if not config.beam_sizes or min(config.beam_sizes) < 1:
        raise ConfigError(f"config.beam_sizes={tuple(config.beam_sizes)} must be beam widths >= 1, e.g. (1, 2, 12)")
    if config.max_train_pairs < 0:
        raise ConfigError(f"config.max_train_pairs={config.max_train_pairs} must be >= 0 (0 = every training pair)")
    if min(config.source_vocab_size, config.target_vocab_size) <= 4:
        raise ConfigError("the vocabularies must hold more than the 4 special symbols (PAD, UNK, BOS, EOS)")
