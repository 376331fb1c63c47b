"""Depth study presets: --config=papers/depth_study/configs.py:<preset>[,<arch>]; override with --config.KEY=V.

The presets are the three scales; the architecture picks its paper's recipe, because He et al. 2016 and Huang et al.
2017 trained their networks differently and every value a run uses should stand in its config. `get_config("cpu")`
is He et al.'s recipe with ResNet-20, `get_config("cpu,plain56")` the same recipe with plain-56, and
`get_config("cpu,densenet40")` Huang et al.'s recipe (`DENSENET`) with DenseNet-40 (ml_collections passes the text
after ':' to get_config). `config.recipe` records which; a net of the other family (`--config.arch=densenet40` on
He et al.'s recipe) is refused with the command to use (`validate`).

| preset | ResNets and plain nets (He et al.) | DenseNets (Huang et al.) | data |
|---|---|---|---|
| `paper` | resnet20 .. resnet1202, plain20 .. plain110 | densenet40, densenet_bc100, ... | CIFAR-10 (TFDS) |
| `cpu` | the same depths 20 .. 56, width 8 | densenet40 with growth rate 6 | Fashion-MNIST (Debian package) |
| `smoke` | resnet14, width 4, a few steps | densenet_bc10, growth rate 4 | the same files, or test fixtures |

Runs live in runs/depth_study/<preset>/<arch>[-noaug]/seed<seed>/, and the rows of both families of a preset share
one table.

`paper`, He et al. 2016 (Sec. 4.2): SGD with momentum 0.9, weight decay 1e-4, batches of 128, lr 0.1 divided by 10
at 32k and 48k iterations, 64k iterations; at depth >= 110 the lr is 0.01 until the training error is below 80%
(`warmup_*`); pad-4 crops and flips; the per-pixel mean subtracted; a 45k / 5k split, selection on the 5k.
`paper`, Huang et al. 2017 (Sec. 4.2): batches of 64, 300 epochs, Nesterov momentum 0.9, lr 0.1 divided by 10 at 50%
and 75% of training, weight decay 1e-4, per-channel mean and std, dropout 0.2 only without augmentation
(`--config.augment=False --config.dropout_rate=0.2` for the paper's C10 column). In steps: we keep the 5k
validation images out of training (selection on them, as for the ResNets), so an epoch is floor(45,000 / 64) = 703
full batches and 300 epochs are 300 x 703 = 210,900 steps, with the lr drops at 105,450 (epoch 150) and 158,175
(epoch 225). The paper retrains on all 50k after tuning (300 x ceil(50,000 / 64) = 234,600 steps); we do not, so
our DenseNets see 10% fewer training images (README, deviations).

`cpu`: the same recipes on Fashion-MNIST, narrowed and shortened to fit 2 CPU cores (`CPU_SIZING`; the timings and
probes behind each size are in NOTES.md). `smoke`: the same code path in seconds.
"""

import re

import ml_collections

from common.config import ConfigError, check_choices, check_lr_boundaries, check_positive, preset_config
from papers.depth_study import data
from papers.depth_study.densenet import densenet_layers_per_block
from papers.depth_study.resnet import resnet_blocks_per_stage

CHOICES = {
    "dataset": tuple(data.DATASETS),
    "source": ("idx", "tfds"),
    "normalization": data.STANDARDIZE_KINDS,
    "recipe": ("resnet", "densenet"),
}
FAMILIES = {"resnet": re.compile(r"(resnet|plain)\d+"), "densenet": re.compile(r"densenet(_bc)?\d+(_k\d+)?")}
PAPER_WIDTH, PAPER_GROWTH_RATE, PAPER_CROP_PADDING = 16, 12, 4

# The cpu preset's sizes, in one place (NOTES.md, "Sizing the cpu recipe", has the timings and probes behind them).
CPU_SIZING = dict(
    width=8,  # half the paper's 16 filters (8 / 16 / 32), about a quarter of the FLOPs; the paper's depths 20 .. 56
    batch_size=128,  # the paper's
    train_steps=6_000,  # about 14 passes over the 55k training images; 3,000 underfit (NOTES.md)
    steps_per_checkpoint=200,  # 30 points per training curve
    # Flips without crops (He et al.: pad-4 crops and flips): the lowest validation error of ResNet-20 at this
    # budget, since the garments are centred and fill the frame; flips keep the ten classes (NOTES.md).
    crop_padding=0,
    # DenseNet-40 at half the paper's growth rate (12 -> 6), the paper's batch of 64, and as many passes over the
    # data as the ResNets (12,000 steps of 64 = 6,000 of 128).
    densenet_growth_rate=6,
    densenet_batch_size=64,
    densenet_train_steps=12_000,
    densenet_steps_per_checkpoint=400,
)


def paper() -> ml_collections.ConfigDict:
    """He et al. 2016's CIFAR-10 setup for the ResNets and their plain twins (Sec. 4.2)."""
    c = ml_collections.ConfigDict()
    c.seed = 1  # initialisation, batch order, crops and flips; the validation split has its own, split_seed
    c.arch = "resnet20"  # resnet<6n+2> or plain<6n+2> (model.build_model); a DenseNet: get_config("paper,densenet40")
    c.recipe = "resnet"  # whose recipe the values are: "resnet" (He et al. 2016), "densenet" (Huang et al., DENSENET)
    # Data (data.py).
    c.dataset = "cifar10"
    c.source = "tfds"  # "idx": the Debian package's Fashion-MNIST files; "tfds": TensorFlow Datasets
    c.data_dir = ""  # the idx directory or TFDS's data_dir; "" = the default place
    c.valid_size = 5_000  # held out of the training split for selection: 45k / 5k on CIFAR-10
    c.split_seed = 0  # the same validation images for every run
    c.test_size = 0  # > 0: only the first test images (smoke); 0 = the whole test set
    c.normalization = "per_pixel_mean"  # He: "the per-pixel mean subtracted"; DenseNet: "per_channel"
    c.augment = True  # pad crop_padding pixels, random crop, horizontal flip
    c.crop_padding = PAPER_CROP_PADDING  # He et al.: "4 pixels are padded on each side"; 0 = flips only
    # Model (model.py).
    c.width = PAPER_WIDTH  # the first stage's filters (16 / 32 / 64); ResNets and plain nets only
    c.growth_rate = 0  # DenseNets only; 0 = the arch's (a `_k<k>` suffix) or the paper's 12
    c.dropout_rate = 0.0  # DenseNets only; Huang et al. use 0.2 only without augmentation
    c.weight_decay = 1e-4
    # Optimiser and schedule: SGD, lr divided by 10 at each boundary (fractions of train_steps).
    c.learning_rate = 0.1
    c.momentum = 0.9
    c.nesterov = False
    c.batch_size = 128
    c.train_steps = 64_000
    c.lr_boundaries = (0.5, 0.75)  # 32k / 64k and 48k / 64k
    # He et al.: "we use 0.01 to warm up the training until the training error is below 80% (about 400
    # iterations), and then go back to 0.1" (ResNet-110 and -1202). Applied to nets at least warmup_min_depth deep
    # (0 = never); the error is the running training error of the current checkpoint interval (schedule.py).
    c.warmup_lr = 0.01
    c.warmup_until_train_error = 80.0  # percent, as every error in this paper's rows
    c.warmup_min_depth = 110
    c.steps_per_checkpoint = 1_000  # one Keras epoch = one checkpoint, validation pass and history row
    # Evaluation.
    c.eval_batch_size = 500
    # Lesion (lesion.py; Veit et al. 2016) of the trained lesion_arch, a ResNet or its plain twin (the control), one
    # net a call: every single block, then k = 1 .. lesion_max_deleted random blocks (not the downsampling ones),
    # lesion_draws sets per k, drawn from lesion_seed; the same sets for both nets.
    c.lesion_arch = "resnet110"  # Veit et al.'s CIFAR-10 net; plain110 its control
    c.lesion_max_deleted = 20
    c.lesion_draws = 10
    c.lesion_seed = 0
    # Runner.
    c.distribute = "default"
    c.deterministic = True
    c.verbose = 2
    c.workdir = ""  # "" = runs/depth_study/<preset>/<arch>[-noaug]/seed<seed>
    c.results_dir = ""  # "" = results/
    return c


def cpu() -> ml_collections.ConfigDict:
    """He et al.'s recipe on Fashion-MNIST (28 x 28 x 1, 55k / 5k / 10k), narrowed and shortened (CPU_SIZING)."""
    c = paper()
    c.dataset = "fashion_mnist"
    c.source = "idx"
    c.width = CPU_SIZING["width"]
    c.batch_size = CPU_SIZING["batch_size"]
    c.train_steps = CPU_SIZING["train_steps"]
    c.steps_per_checkpoint = CPU_SIZING["steps_per_checkpoint"]
    c.crop_padding = CPU_SIZING["crop_padding"]  # the DenseNets' too, so the rows compare
    c.lesion_arch = "resnet56"
    c.lesion_max_deleted = 10  # of ResNet-56's 27 blocks (25 of them not downsampling)
    c.lesion_draws = 5
    return c


def smoke() -> ml_collections.ConfigDict:
    """A few steps on a few hundred images."""
    c = cpu()
    c.arch = "resnet14"  # 6 blocks, 2 of them downsampling: enough for every part of the lesion
    c.width = 4
    c.batch_size = 16
    c.train_steps = 8
    c.steps_per_checkpoint = 4
    c.valid_size = 256
    c.test_size = 512
    c.eval_batch_size = 128
    c.verbose = 0
    c.lesion_arch = "resnet14"
    c.lesion_max_deleted = 2
    c.lesion_draws = 2
    c.warmup_min_depth = 14  # He et al.'s warm-up (depth >= 110 in the paper) on the smoke net, to run that path
    return c


PRESETS = {"smoke": smoke, "cpu": cpu, "paper": paper}

# Huang et al. 2017's recipe (Sec. 4.2) where it differs from He et al.'s, per preset; get_config applies it when the
# arch is a DenseNet. The step arithmetic of `paper` is in the module docstring.
HUANG = dict(recipe="densenet", normalization="per_channel", nesterov=True,
             warmup_min_depth=0)  # no warm-up in the DenseNet paper
DENSENET = {
    "paper": dict(HUANG, batch_size=64, train_steps=300 * (45_000 // 64),  # 210,900: 300 epochs of 703 batches
                  steps_per_checkpoint=45_000 // 64),  # one checkpoint per epoch: 300 points
    "cpu": dict(HUANG, growth_rate=CPU_SIZING["densenet_growth_rate"], batch_size=CPU_SIZING["densenet_batch_size"],
                train_steps=CPU_SIZING["densenet_train_steps"],
                steps_per_checkpoint=CPU_SIZING["densenet_steps_per_checkpoint"]),
    "smoke": dict(HUANG, growth_rate=4),  # the smoke sizes
}


def preset(name: str, arch: str = "") -> ml_collections.ConfigDict:
    """The preset `name` with the net `arch` (default: the preset's ResNet) and its paper's recipe."""
    c = PRESETS[name]()
    if arch:
        c.arch = arch
        if family(arch) == "densenet":
            c.update(DENSENET[name])
    return c


def get_config(spec: str | None = None) -> ml_collections.ConfigDict:
    """`"<preset>"` or `"<preset>,<arch>"`, e.g. "cpu", "cpu,plain56", "paper,densenet_bc100" (module docstring)."""
    name, _, arch = (spec or "cpu").partition(",")
    return preset_config({p: lambda p=p: preset(p, arch) for p in PRESETS}, name)


def family(arch: str) -> str | None:
    """"resnet" (ResNets and plain nets), "densenet", or None for a name of neither."""
    return next((name for name, pattern in FAMILIES.items() if pattern.fullmatch(arch)), None)


def depth(arch: str) -> int:
    return int(re.search(r"\d+", arch).group())


def growth_rate(config: ml_collections.ConfigDict) -> int:
    """The DenseNet's k: config.growth_rate, else the arch's `_k<k>`, else the paper's 12."""
    match = re.search(r"_k(\d+)$", config.arch)
    return config.growth_rate or (int(match[1]) if match else PAPER_GROWTH_RATE)


def validate(config: ml_collections.ConfigDict) -> None:
    """Checks the values that the type-safe ConfigDict cannot; one ConfigError that says what to do."""
    if config.preset not in PRESETS:
        raise ConfigError(f"config.preset={config.preset!r} is not a preset; choose one of: {', '.join(PRESETS)}")
    check_choices(config, CHOICES)
    if config.source not in data.DATASETS[config.dataset]:
        raise ConfigError(f"config.source={config.source!r} cannot load {config.dataset}; its sources are "
                          f"{', '.join(map(repr, data.DATASETS[config.dataset]))}")
    arch_family = family(config.arch)
    if arch_family is None:
        raise ConfigError(f"config.arch={config.arch!r} is not a network of this study; names are resnet<6n+2>, "
                          f"plain<6n+2> (resnet20 .. resnet1202, plain20 .. plain56), densenet<3m+4>[_k<k>], "
                          f"densenet_bc<6m+4>[_k<k>] (densenet40, densenet_bc100)")
    try:  # the depth rules (6n + 2, 3m + 4, 6m + 4) live with the models
        if arch_family == "resnet":
            resnet_blocks_per_stage(depth(config.arch))
        else:
            densenet_layers_per_block(depth(config.arch), bottleneck=config.arch.startswith("densenet_bc"))
    except ValueError as err:
        raise ConfigError(f"config.arch={config.arch!r}: {err}") from err
    if arch_family != config.recipe:
        kinds = {"resnet": "ResNet / plain net", "densenet": "DenseNet"}
        recipes = {"resnet": "He et al. 2016's recipe for ResNets", "densenet": "Huang et al. 2017's for DenseNets"}
        raise ConfigError(
            f"config.arch={config.arch!r} is a {kinds[arch_family]}, but the config holds {recipes[config.recipe]} "
            f"(config.recipe={config.recipe!r}); name the net with the preset to get its recipe: "
            f"--config=papers/depth_study/configs.py:{config.preset},{config.arch}")
    check_positive(config, ("width", "batch_size", "train_steps", "steps_per_checkpoint", "eval_batch_size",
                            "learning_rate", "valid_size"))
    named = re.search(r"_k(\d+)$", config.arch)
    if named and config.growth_rate and config.growth_rate != int(named[1]):
        raise ConfigError(f"config.arch={config.arch!r} names its growth rate; config.growth_rate="
                          f"{config.growth_rate} contradicts it (set one of them)")
    for key in ("crop_padding", "growth_rate", "weight_decay", "test_size", "warmup_min_depth", "lesion_max_deleted",
                "split_seed", "lesion_seed"):
        if config[key] < 0:
            raise ConfigError(f"config.{key}={config[key]!r} must be >= 0")
    if not 0.0 <= config.dropout_rate < 1.0 or not 0.0 <= config.momentum < 1.0:
        raise ConfigError(f"config.dropout_rate={config.dropout_rate} and config.momentum={config.momentum} must be "
                          f"in [0, 1)")
    if arch_family == "resnet" and config.dropout_rate:
        raise ConfigError("config.dropout_rate is a DenseNet setting; He et al.'s networks use no dropout")
    check_lr_boundaries(config)
    if config.train_steps % config.steps_per_checkpoint:
        raise ConfigError(f"config.train_steps={config.train_steps} must be a multiple of "
                          f"config.steps_per_checkpoint={config.steps_per_checkpoint} (one checkpoint ends training)")
    if config.warmup_min_depth and not (0.0 < config.warmup_lr and 0.0 < config.warmup_until_train_error <= 100.0):
        raise ConfigError(f"config.warmup_lr={config.warmup_lr} must be > 0 and config.warmup_until_train_error="
                          f"{config.warmup_until_train_error} a percentage in (0, 100]")
    if config.lesion_draws < 1:
        raise ConfigError(f"config.lesion_draws={config.lesion_draws} must be >= 1")
