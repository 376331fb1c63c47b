"""Show and Tell presets. Pick one with --config=papers/show_and_tell/configs.py:<preset>[,<model>]; override with
--config.KEY=V. The model picks a row of the claims:

    nic            the paper's: pre-trained frozen encoder, image fed once (Sec. 3.1)
    every_step     the image fed at every step instead (Sec. 3.1's rejected alternative, claim 3)
    scratch        the encoder trained from random weights with the captioner, no pre-training (claim 4)
    blind          no image: a language model of the captions (claim 5, the floor)

`paper` is Sec. 3-4 with im2txt's configuration (tensorflow/models research/im2txt, configuration.py): MS-COCO
(TFDS `coco_captions`, Karpathy splits: trained on train + restval, 113,287 images, selected on val and tested on
test, 5,000 each, as im2txt; data.py), InceptionV3 with ImageNet weights, frozen, its pooled features cached;
words seen at least 5 times; LSTM 512, embeddings 512, dropout 0.3 (keep 0.7); SGD lr 2.0 halved every 8 epochs,
gradient norm clipped at 5, batches of 32, init +-0.08; beams 1, 3 and 20 (the paper's 20, im2txt's 3).
`cpu` is the same model on scenes.py's task: 20,000 / 1,000 / 1,000 scenes of Fashion-MNIST items, the encoder a
small CNN pre-trained on single items (encoder.py).
`smoke` runs the same code path on a few dozen generated scenes in seconds.
"""

import ml_collections

from common.config import ConfigError, check_choices, check_positive, preset_with_model

CHOICES = {"dataset": ("coco", "scenes", "generated"), "feed_image": ("once", "every_step"),
           "encoder": ("pretrained", "scratch", "none")}


def paper() -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.seed = 1
    c.dataset = "coco"
    c.data_dir = ""  # TFDS' (coco) or Fashion-MNIST's (scenes); "" = the default
    c.sizes = (0, 0, 0)  # scenes: (train, valid, test) scenes; coco: 0 = the whole Karpathy splits
    c.inception_weights = "imagenet"  # a download; or a local .h5 path, or "none" (random: tests only)
    c.min_word_count = 5
    # Model.
    c.encoder = "pretrained"  # "pretrained" (frozen, features cached), "scratch" (cpu task only) or "none" (blind)
    c.feed_image = "once"  # or "every_step"
    c.standardize_features = False  # the frozen features centred and scaled by train moments (feature_moments)
    c.population_images = 3_200  # scratch: training canvases whose moments re-estimate the normalization (encoder.py)
    c.units = 512
    c.embedding_dim = 512
    c.dropout = 0.3
    c.init_scale = 0.08
    # Training: SGD, lr halved every `lr_halve_every` epochs; the loss per word, as im2txt's (model.CaptionNLL).
    c.batch_size = 32
    c.learning_rate = 2.0
    c.lr_halve_every = 8.0
    c.max_epochs = 30.0
    c.clip_norm = 5.0
    c.checkpoints_per_epoch = 1
    # The cpu encoder's pre-training on single items (encoder.py, pretrain.py); the paper's is ImageNet's.
    c.encoder_epochs = 3
    c.encoder_batch_size = 128
    c.encoder_learning_rate = 1e-3
    c.encoder_workdir = ""  # the pre-training run the captioner reads; "" = runs/show_and_tell/<preset>/encoder/seed<s>
    # Evaluation.
    c.beam_sizes = (1, 3, 20)
    c.max_caption_length = 20
    c.eval_batch_size = 64
    c.meteor = True  # METEOR runs a JVM per call (seconds); smoke leaves it out
    # Runner.
    c.distribute = "default"
    c.deterministic = True
    c.verbose = 2
    c.workdir = ""  # "" = runs/show_and_tell/<preset>/<model>/seed<seed>
    c.results_dir = ""  # "" = results/
    return c


def cpu() -> ml_collections.ConfigDict:
    c = paper()
    c.dataset = "scenes"
    c.sizes = (20_000, 1_000, 1_000)
    c.min_word_count = 4  # im2txt's
    c.units = c.embedding_dim = 256
    c.standardize_features = True  # chosen on validation (README "Deviations", NOTES.md)
    c.max_epochs = 6.0  # the scratch encoder's CNN step (0.3-0.5 s) bounds the suite's 8 hours (NOTES.md)
    c.lr_halve_every = 2.0
    return c


def smoke() -> ml_collections.ConfigDict:
    c = cpu()
    c.dataset = "generated"
    c.sizes = (48, 8, 8)
    c.min_word_count = 1
    c.units = c.embedding_dim = 16
    c.batch_size = 8
    c.max_epochs = 2.0
    c.beam_sizes = (1, 3)
    c.eval_batch_size = 8
    c.meteor = False
    c.encoder_epochs = 1
    c.encoder_batch_size = 16
    c.population_images = 16
    c.verbose = 0
    return c


MODELS = {"nic": {}, "every_step": {"feed_image": "every_step"}, "scratch": {"encoder": "scratch"},
          "blind": {"encoder": "none"}}
PRESETS = {"smoke": smoke, "cpu": cpu, "paper": paper}


def get_config(spec: str | None = None) -> ml_collections.ConfigDict:
    """`<preset>` or `<preset>,<model>` (a key of MODELS; default: the preset's, NIC)."""
    return preset_with_model(PRESETS, MODELS, spec)


def validate(config: ml_collections.ConfigDict) -> None:
    check_choices(config, CHOICES)
    check_positive(config, ("min_word_count", "units", "embedding_dim", "init_scale", "batch_size", "learning_rate",
                            "lr_halve_every", "max_epochs", "clip_norm", "checkpoints_per_epoch", "max_caption_length",
                            "eval_batch_size", "encoder_epochs", "encoder_batch_size", "encoder_learning_rate",
                            "population_images"))
    if not 0 <= config.dropout < 1:
        raise ConfigError(f"config.dropout={config.dropout} must be in [0, 1)")
    if config.dataset != "coco" and min(config.sizes) < 1:
        raise ConfigError(f"config.sizes={tuple(config.sizes)} must be (train, valid, test) scene counts >= 1")
    if config.dataset == "coco" and min(config.sizes) < 0:
        raise ConfigError(f"config.sizes={tuple(config.sizes)} must be image counts >= 0 (0 = the whole split)")
    if config.inception_weights not in ("imagenet", "none") and not config.inception_weights.endswith(".h5"):
        raise ConfigError(f"config.inception_weights={config.inception_weights!r} must be 'imagenet' (a download), "
                          f"a local .h5 file or 'none' (random weights, tests only)")
    if config.encoder == "scratch" and config.dataset == "coco":
        raise ConfigError("config.encoder=scratch trains the scenes task's small CNN with the captioner; for coco "
                          "use encoder=pretrained (InceptionV3) or none")
    if not config.beam_sizes or min(config.beam_sizes) < 1:
        raise ConfigError(f"config.beam_sizes={tuple(config.beam_sizes)} must be beam widths >= 1, e.g. (1, 3, 20)")
