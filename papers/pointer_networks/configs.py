"""Pointer Networks presets. Pick one with --config=papers/pointer_networks/configs.py:<preset>; override with
--config.KEY=V, e.g. `--config.task=tsp --config.model=lstm --config.n_min=10 --config.n_max=10 --config.n_test=10`.

`paper` is the paper's setup (Vinyals et al. 2015, Sec. 4.1): single-layer LSTM encoder and decoder of 512
units (the paper says 256 or 512, "typically 512"), uniform init in [-0.08, 0.08], SGD with learning rate 1.0,
batches of 128, L2 (global) gradient-norm clipping at 2.0, 1M training instances of n = 5 .. 50 points (convex
hull; TSP: 5 .. 20, Held-Karp labels). The paper does not say how long it trained; 100,000 steps (12.8
passes over the 1M instances) is our choice, with the checkpoint of the best validation loss kept.
`cpu` keeps all of it but trains at one n (5; `--config.n_min=10 --config.n_max=10 --config.n_test=10` for
10), with 256 units, for 25,000 steps, and divides the lr by 10 for the last fifth of them (a deviation: README,
"Deviations").
`smoke` runs the same code path on a few hundred instances in seconds.
"""

import ml_collections

from common.config import ConfigError, check_choices, check_lr_boundaries, check_positive, preset_getter
from papers.pointer_networks.solvers import MAX_HELD_KARP_CITIES

CHOICES = {
    # "tsp" trains on Held-Karp optima (n <= 20); "tsp_a1" / "tsp_a3" on the tours of the heuristics A1 / A3,
    # as the paper's n = 50 models of Table 2.
    "task": ("convex_hull", "delaunay", "tsp", "tsp_a1", "tsp_a3"),
    "model": ("ptr_net", "lstm", "attention"),
    "optimizer": ("sgd", "adam"),
}


def paper() -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.seed = 1  # the model's seed (initialisation, batch order); the data have their own, data_seed
    c.task = "convex_hull"
    c.model = "ptr_net"  # "lstm" (Table 1's LSTM), "attention" (+Attention), "ptr_net" (Ptr-Net)
    # Data (data.py): train and valid draw n uniformly from n_min .. n_max, the test set has n_test points.
    c.n_min = 5
    c.n_max = 50
    c.n_test = 50
    c.train_instances = 1_000_000
    c.valid_instances = 10_000
    c.test_instances = 10_000
    c.data_seed = 0  # every model and seed sees the same points; the baselines use the same test set
    c.data_dir = "data/pointer_networks"  # the cache of generated splits
    # Model (model.py): one LSTM layer in the encoder and one in the decoder.
    c.units = 512
    c.embedding_dim = 0  # 0 = units
    c.init_scale = 0.08
    # Training: the whole-sequence negative log-likelihood, SGD, global gradient-norm clipping.
    c.optimizer = "sgd"
    c.learning_rate = 1.0
    c.lr_boundaries = ()  # fractions of train_steps at which the lr is divided by 10; the paper's lr is constant
    c.batch_size = 128
    c.clip_norm = 2.0  # keras global_clipnorm: the norm of all gradients together, as "L2 gradient clipping"
    c.train_steps = 100_000
    c.steps_per_checkpoint = 1_000  # one Keras epoch = one checkpoint, validation pass and history row
    # Evaluation on the test set: beam search (the paper's decoding; it states no width) and greedy.
    c.beam_width = 4
    c.eval_batch_size = 250
    # Runner.
    c.distribute = "default"
    c.deterministic = True
    c.verbose = 2
    c.workdir = ""  # "" = runs/pointer_networks/<preset>/<task>/<model>-n<n_min>-<n_max>/seed<seed>
    c.results_dir = ""  # "" = results/
    return c


def cpu() -> ml_collections.ConfigDict:
    """The paper's model (256 units), optimiser, batch, clipping and 1M training instances, at one n.

    256 units, the smaller of the paper's two sizes, and 25,000 steps (3.2 passes over the 1M instances) fit a run
    into the `cpu` scale's budget on 2 cores (512 units are 4x slower per step). `make pointer_networks` trains
    convex hull n = 10 and Delaunay n = 5 for 50,000 steps, Delaunay n = 10 (a decoder of up to 46 steps) for
    10,000 (`PN_STEPS_<task>_<n>`; the lr drop stays at the last fifth). The probes and the validation losses
    behind these choices: papers/pointer_networks/NOTES.md.
    """
    c = paper()
    c.n_min = c.n_max = c.n_test = 5
    c.units = 256
    c.test_instances = 10_000
    c.train_steps = 25_000
    c.steps_per_checkpoint = 1_000
    # lr 1.0, then 0.1 from step 20,000. At the paper's constant 1.0 the validation loss of the hull Ptr-Net at
    # n = 5 still swung by 0.1 nats between checkpoints at the end (best 0.332); with the drop it fell to 0.235
    # within 1,000 steps (NOTES.md). The paper gives no schedule and no training length.
    c.lr_boundaries = (0.8,)
    return c


def smoke() -> ml_collections.ConfigDict:
    c = cpu()
    c.train_instances = 256
    c.valid_instances = 64
    c.test_instances = 32
    c.units = 16
    c.batch_size = 32
    c.train_steps = 8
    c.steps_per_checkpoint = 4
    c.beam_width = 2
    c.eval_batch_size = 32
    c.verbose = 0
    return c


get_config = preset_getter(smoke=smoke, cpu=cpu, paper=paper)


def validate(config: ml_collections.ConfigDict) -> None:
    """The checks a type-safe ConfigDict cannot make."""
    check_choices(config, CHOICES)
    check_positive(config, ("n_min", "n_max", "n_test", "train_instances", "valid_instances", "test_instances",
                            "units", "init_scale", "learning_rate", "batch_size", "train_steps",
                            "steps_per_checkpoint", "beam_width", "eval_batch_size"))
    if config.embedding_dim < 0 or config.clip_norm < 0 or config.data_seed < 0:
        raise ConfigError("config.embedding_dim, config.clip_norm and config.data_seed must be >= 0 "
                          "(embedding_dim 0 = units, clip_norm 0 = no clipping)")
    check_lr_boundaries(config)
    if config.n_min < 3 or config.n_test < 3:
        raise ConfigError(f"config.n_min={config.n_min} and config.n_test={config.n_test} must be >= 3: a hull, a "
                          f"triangulation and a tour need at least 3 points")
    if config.n_min > config.n_max:
        raise ConfigError(f"config.n_min={config.n_min} is larger than config.n_max={config.n_max}")
    if config.task == "tsp" and config.n_max > MAX_HELD_KARP_CITIES:
        raise ConfigError(f"config.task='tsp' labels the training data with Held-Karp's optimum, which runs up to "
                          f"n = {MAX_HELD_KARP_CITIES} (as in the paper); got n_max={config.n_max}. Train on "
                          f"heuristic tours with --config.task=tsp_a1 or tsp_a3 (the paper's n = 50 models).")
    if config.model != "ptr_net" and config.n_test > config.n_max:
        raise ConfigError(f"config.model={config.model!r} has a fixed output dictionary of n_max={config.n_max} "
                          f"indices and cannot point to {config.n_test} inputs (that is the paper's point); use "
                          f"--config.model=ptr_net or n_test <= n_max")
