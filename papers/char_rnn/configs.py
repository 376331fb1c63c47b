"""char-rnn presets. Pick one with --config=papers/char_rnn/configs.py:<preset>; override with --config.KEY=V.

`paper` is char-rnn's train.lua defaults (karpathy/char-rnn@6f9487a6) on tiny_shakespeare.
`cpu` keeps the paper's model, optimiser and batch shape and changes only the data (the World English Bible,
offline) and the length of training: 16 passes over its 3.75M training characters, 24,000 updates (the
paper preset makes about 20,000), about 20-30 minutes per seed on 2 cores.
`smoke` runs the same code path on a few thousand characters in seconds.
"""

import ml_collections

from common.config import ConfigError, check_choices, check_positive, preset_getter

CHOICES = {"dataset": ("tiny_shakespeare", "bible")}


def paper() -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.seed = 123  # char-rnn's default seed
    c.dataset = "tiny_shakespeare"
    c.data_dir = ""  # TFDS data_dir; "" = TFDS default
    c.max_chars = 0  # > 0 keeps only the first characters of each split
    # Model: 2-layer LSTM, 128 units, one-hot input, uniform init +-0.08, forget bias 1.
    c.rnn_size = 128
    c.num_layers = 2
    c.dropout = 0.0
    c.init_scale = 0.08
    # Training: batches of 50 sequences of 50 characters, RMSprop(2e-3, decay 0.95), element-wise clip 5,
    # lr x0.97 per epoch after epoch 10, 50 epochs.
    c.seq_length = 50
    c.batch_size = 50
    # True: char-rnn's truncated BPTT, the state carried from batch to batch along 50 streams of text.
    # False: the ablation, independent windows in random order, each from a zero state.
    c.carry_state = True
    c.learning_rate = 2e-3
    c.decay_rate = 0.95
    c.learning_rate_decay = 0.97
    c.learning_rate_decay_after = 10
    c.grad_clip = 5.0  # on the gradient of the loss summed over the window's steps, as char-rnn (model.py)
    c.rmsprop_epsilon = 1e-8  # optim.rmsprop's, added to sqrt(v)
    c.max_epochs = 50.0  # passes over the training text
    # At most this many steps between checkpoints (validation pass and history row); a run divides its steps evenly
    # among the checkpoints, so it makes max_epochs passes to within a step per checkpoint.
    c.steps_per_checkpoint = 1000
    # Evaluation: the test text scored in `eval_streams` contiguous parts with the state carried.
    c.eval_streams = 16
    c.eval_chunk = 500
    c.eval_batch_size = 256
    # Runner.
    c.distribute = "default"
    c.deterministic = True
    c.verbose = 2
    c.workdir = ""  # "" = runs/char_rnn/<preset>/<variant>/seed<seed>
    c.results_dir = ""  # "" = results/
    return c


def cpu() -> ml_collections.ConfigDict:
    c = paper()
    c.seed = 1
    c.dataset = "bible"
    c.max_epochs = 16.0
    c.steps_per_checkpoint = 1000
    return c


def smoke() -> ml_collections.ConfigDict:
    c = cpu()
    c.max_chars = 6000
    c.rnn_size = 16
    c.seq_length = 20
    c.batch_size = 8
    c.max_epochs = 1.0
    c.steps_per_checkpoint = 12
    c.eval_streams = 4
    c.eval_chunk = 64
    c.verbose = 0
    return c


get_config = preset_getter(smoke=smoke, cpu=cpu, paper=paper)


def validate(config: ml_collections.ConfigDict) -> None:
    """The checks a type-safe ConfigDict cannot make."""
    check_choices(config, CHOICES)
    check_positive(config, ("rnn_size", "num_layers", "seq_length", "batch_size", "learning_rate",
                            "max_epochs", "steps_per_checkpoint", "eval_streams", "eval_chunk"))
    if config.carry_state and config.distribute != "default":
        raise ConfigError("config.carry_state=True carries one state per stream of the batch, which cannot be "
                          "split across replicas: use --config.distribute=default or --config.carry_state=False")
    if not 0.0 <= config.dropout < 1.0:
        raise ConfigError(f"config.dropout={config.dropout!r} must be in [0, 1)")
