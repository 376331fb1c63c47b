"""Cooijmans et al. 2016 presets. Pick one with --config=papers/recurrent_batch_norm/configs.py:<preset>,<task>,<model>
(task: pixels, pixels_permuted, chars; model: lstm, bn_lstm), e.g. `configs.py:cpu,pixels_permuted,bn_lstm`; override
with --config.KEY=V (`--config.gamma_init=1.0` for the paper's gamma experiment).

`paper` is the paper's setup (Sec. 5): sequential MNIST (784 steps) with 100 units, RMSProp lr 1e-3 and momentum
0.9, gradient norm clipped at 1, batches of 100 (the authors' script), identity recurrent init; PTB characters with
1,000 units, sequences of 100, Adam lr 2e-3, batches of 64. gamma starts at 0.1, beta at 0.
`cpu` keeps the models and optimisers and scales the data and length: Fashion-MNIST averaged to 14 x 14 (196 steps)
and the Bible's characters with 256 units, each run about 45 minutes on 2 cores (NOTES.md).
`smoke` runs the same code path on a few hundred 7 x 7 images or a few thousand characters in seconds.
"""

import ml_collections

from common.config import ConfigError, check_choices, check_positive, preset_config

CHOICES = {"task": ("pixels", "pixels_permuted", "chars"), "model": ("lstm", "bn_lstm"),
           "dataset": ("mnist", "fashion_mnist", "ptb", "bible"), "recurrent_init": ("identity", "orthogonal")}
STATISTICS = ("per_step", "shared", "batch")  # the inference ablation (bn_lstm.py), claim 4


def paper(task: str = "pixels", model: str = "bn_lstm") -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.seed = 1
    c.task, c.model = task, model
    chars = task == "chars"
    # Data.
    c.dataset = "ptb" if chars else "mnist"
    c.data_dir = "data/ptb" if chars else ""  # ptb.char.*.txt; for MNIST the TFDS data_dir ("" = its default)
    c.image_size = 28  # pixels: the image side, T = image_size^2 steps
    c.valid_images = 5_000  # drawn from the training split by data_seed
    c.max_images = 0  # > 0 keeps only the first training images (smoke)
    c.permutation_seed = 0  # the permuted task's fixed pixel order
    c.data_seed = 0
    c.seq_length = 100  # characters per training sequence
    c.max_chars = 0  # > 0 keeps only the first characters of each split (smoke)
    c.long_length = 1000  # characters: also evaluated on test sequences this long (Sec. 5.2, Fig. 5b)
    # Model (Sec. 5).
    c.units = 1000 if chars else 100
    c.gamma_init = 0.1  # Sec. 4: "0.1 seems to work well across tasks"
    c.recurrent_init = "orthogonal" if chars else "identity"
    c.initial_noise = 0.0 if chars else 0.1  # std of the noise on h_0 in training (Sec. 5.1)
    # Training.
    c.learning_rate = 2e-3 if chars else 1e-3
    c.momentum = 0.9  # RMSProp's (pixels)
    c.clip_norm = 1.0
    c.batch_size = 64 if chars else 100
    c.train_steps = 100_000 if chars else 150_000  # the paper states none; our choice (README "Deviations")
    c.steps_per_checkpoint = 1_000
    c.eval_batch_size = 500
    c.population_batches = 50  # training batches whose statistics re-estimate the population before validation
    # Runner.
    c.distribute = "default"
    c.deterministic = True
    c.verbose = 2
    c.workdir = ""  # "" = runs/recurrent_batch_norm/<preset>/<task>/<model>[-gamma<g>]/seed<seed>
    c.results_dir = ""  # "" = results/
    return c


def cpu(task: str = "pixels", model: str = "bn_lstm") -> ml_collections.ConfigDict:
    c = paper(task, model)
    if task == "chars":
        c.dataset, c.data_dir = "bible", ""
        c.units = 256
        c.train_steps = 3_000  # 5 passes over the Bible's characters: a run fits a session (NOTES.md)
    else:
        c.dataset, c.data_dir = "fashion_mnist", ""
        c.image_size = 14
        c.train_steps = 6_000
    return c


def smoke(task: str = "pixels", model: str = "bn_lstm") -> ml_collections.ConfigDict:
    c = cpu(task, model)
    c.image_size = 7
    c.max_images = 400
    c.valid_images = 100
    c.max_chars = 4000
    c.seq_length = 20
    c.long_length = 60
    c.units = 8
    c.batch_size = 16
    c.train_steps = 6
    c.steps_per_checkpoint = 3
    c.eval_batch_size = 64
    c.population_batches = 4
    c.verbose = 0
    return c


PRESETS = {"smoke": smoke, "cpu": cpu, "paper": paper}


def get_config(spec: str | None = None) -> ml_collections.ConfigDict:
    """`<preset>[,<task>[,<model>]]`, e.g. "cpu,pixels_permuted,lstm" (module docstring)."""
    preset, task, model = ((spec or "cpu").split(",") + ["", ""])[:3]
    task, model = task or "pixels", model or "bn_lstm"
    if task not in CHOICES["task"] or model not in CHOICES["model"]:
        raise ConfigError(f"unknown task or model in {spec!r}: tasks {CHOICES['task']}, models {CHOICES['model']}")
    return preset_config({name: lambda f=f: f(task, model) for name, f in PRESETS.items()}, preset)


def validate(config: ml_collections.ConfigDict) -> None:
    check_choices(config, CHOICES)
    check_positive(config, ("units", "gamma_init", "learning_rate", "clip_norm", "batch_size", "train_steps",
                            "steps_per_checkpoint", "eval_batch_size", "seq_length", "long_length", "image_size",
                            "population_batches"))
    if (config.task == "chars") != (config.dataset in ("ptb", "bible")):
        raise ConfigError(f"config.dataset={config.dataset!r} does not hold the task {config.task!r}: characters "
                          f"come from 'ptb' or 'bible', pixels from 'mnist' or 'fashion_mnist'")
    if config.task != "chars" and 28 % config.image_size:
        raise ConfigError(f"config.image_size={config.image_size}: 28 x 28 images average to 28, 14, 7, 4 or 2")
