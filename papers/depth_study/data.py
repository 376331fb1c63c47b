"""The depth study's data: CIFAR-10 (the papers') and Fashion-MNIST (the offline `cpu` stand-in), as `tf.data`.

Sources (`load(dataset, source, data_dir)`; each returns {"train": Split, "test": Split} of uint8 NHWC images):

* "fashion_mnist", source "idx": the idx files of the Debian package `dataset-fashion-mnist`, unpacked under
  the repository by `make data/fashion_mnist` (`IDX_DIR`; `data_dir` overrides it). No network.
* "fashion_mnist" or "cifar10", source "tfds": TensorFlow Datasets through `common.data.load_tfds`.

The setup follows the papers:

* Validation (He et al. 2016, Sec. 4.2: "45k/5k train/val split"; Huang et al. 2017, Sec. 4.2: "hold out 5k"):
  `split_validation(train, n_valid, seed)` draws `VALIDATION_SIZE[dataset]` images from the training split,
  deterministically from the seed, disjoint from the rest (45k / 5k for CIFAR-10, 55k / 5k for Fashion-MNIST).
* Preprocessing (`Standardize.fit(kind, train_images)`, on the pixels scaled to [0, 1]):
  "per_pixel_mean" (He et al., Sec. 4.2: "the per-pixel mean subtracted"; the mean image of the training part)
  or "per_channel" (Huang et al., Sec. 4.2 / fb.resnet.torch: mean and standard deviation per channel).
* Augmentation (He et al., Sec. 4.2, after Lee et al. 2015; Huang et al. use the same "standard" scheme):
  "4 pixels are padded on each side, and a 32x32 crop is randomly sampled from the padded image or its
  horizontal flip". Padding is applied after standardisation, so a padded pixel is zero, i.e. the mean, as
  in fb.resnet.torch. Testing uses "the single view of the original 32x32 image".
* Order and randomness: `train_dataset(split, batch_size, seed, epoch, ...)` is a pure function of
  (seed, epoch): the permutation and every crop and flip come from stateless random ops seeded by
  (seed, epoch) and the batch number, so a run resumed at epoch e sees exactly the batches it would have seen.
  `train_batches(..., first_epoch)` chains epochs first_epoch, first_epoch + 1, ... for `common.training.fit`.

A run's data (`prepare_data(config)`, the same for train.py and lesion.py): the three splits and the standardisation
fitted on the training part; `training_data(prepared, config, checkpoint)` the batches from a checkpoint on.
"""

from dataclasses import dataclass

import ml_collections
import numpy as np
import tensorflow as tf

from common.config import ConfigError
from common.data import load_tfds
from common.fashion_mnist import NUM_CLASSES, load_arrays  # noqa: F401 (NUM_CLASSES: train.py reads data.NUM_CLASSES)

DATASETS = {"fashion_mnist": ("idx", "tfds"), "cifar10": ("tfds",)}  # dataset -> its sources, the default first
VALIDATION_SIZE = {"cifar10": 5_000, "fashion_mnist": 5_000}
STANDARDIZE_KINDS = ("per_pixel_mean", "per_channel")


@dataclass(frozen=True)
class Split:
    """Images uint8 (N, H, W, C) and their labels int32 (N,)."""

    images: np.ndarray
    labels: np.ndarray

    def __post_init__(self):
        if self.images.ndim != 4 or self.images.dtype != np.uint8:
            raise ValueError(f"images must be uint8 (N, H, W, C), got {self.images.dtype} {self.images.shape}")
        if self.labels.shape != (len(self.images),):
            raise ValueError(f"{len(self.images)} images but labels of shape {self.labels.shape}")

    def __len__(self) -> int:
        return len(self.images)

    def take(self, index) -> "Split":
        return Split(self.images[index], self.labels[index])


# --- reading --------------------------------------------------------------------------------------------------


def load_idx(directory=None) -> dict[str, Split]:
    """Fashion-MNIST's train and test splits from the idx.gz files in `directory` (default: `IDX_DIR`)."""
    return {name: Split(images[..., None].copy(), labels) for name, (images, labels) in load_arrays(directory).items()}


def _tfds_split(name: str, split: str, data_dir) -> Split:
    dataset = load_tfds(name, split, data_dir=data_dir, as_supervised=True)
    images, labels = [], []
    for x, y in dataset.batch(4096).as_numpy_iterator():
        images.append(x)
        labels.append(y)
    return Split(np.concatenate(images).astype(np.uint8), np.concatenate(labels).astype(np.int32))


def load(dataset: str, source: str | None = None, data_dir=None) -> dict[str, Split]:
    """{"train": Split, "test": Split} of `dataset` from `source` (module docstring; default: the first of
    `DATASETS[dataset]`). `data_dir`: the idx directory, or TFDS's data directory."""
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of {sorted(DATASETS)}")
    source = source or DATASETS[dataset][0]
    if source not in DATASETS[dataset]:
        raise ValueError(f"{dataset} has the sources {list(DATASETS[dataset])}, not {source!r}")
    if source == "idx":
        return load_idx(data_dir)
    return {split: _tfds_split(dataset, split, data_dir) for split in ("train", "test")}


def split_validation(train: Split, n_valid: int, seed: int) -> tuple[Split, Split]:
    """(train part, validation part): `n_valid` images drawn from `train` without replacement by `seed`.

    Both parts keep the original order of their images. The same (train, n_valid, seed) gives the same parts.
    """
    if not 0 < n_valid < len(train):
        raise ValueError(f"n_valid must be in 1 .. {len(train) - 1} for {len(train)} training images, got {n_valid}")
    chosen = np.zeros(len(train), dtype=bool)
    chosen[np.random.default_rng(seed).choice(len(train), n_valid, replace=False)] = True
    return train.take(~chosen), train.take(chosen)


# --- preprocessing ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Standardize:
    """x -> (x / 255 - mean) / std, with mean and std from the training images (module docstring).

    kind "per_pixel_mean": mean (H, W, C), the mean image; std 1. kind "per_channel": mean and std (C,).
    """

    kind: str
    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, kind: str, images: np.ndarray) -> "Standardize":
        if kind not in STANDARDIZE_KINDS:
            raise ValueError(f"unknown standardisation {kind!r}; choose one of {list(STANDARDIZE_KINDS)}")
        x = np.asarray(images, dtype=np.float64) / 255.0
        if kind == "per_pixel_mean":
            return cls(kind, x.mean(axis=0).astype(np.float32), np.ones(x.shape[-1], dtype=np.float32))
        return cls(kind, x.mean(axis=(0, 1, 2)).astype(np.float32), x.std(axis=(0, 1, 2)).astype(np.float32))

    def __call__(self, images):
        return (tf.cast(images, tf.float32) / 255.0 - self.mean) / self.std


def augment_batch(images, seed, pad: int = 4, flip: bool = True):
    """Pad `pad` pixels of zeros on each side, crop back to (H, W) at a random offset, flip half the images
    horizontally; each image of the batch (B, H, W, C) draws its own offset and flip from the int seed (2,)."""
    images = tf.convert_to_tensor(images)
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 3)
    shape = tf.shape(images)
    batch, height, width = shape[0], shape[1], shape[2]
    if pad:
        offset_y = tf.random.stateless_uniform([batch], seeds[0], 0, 2 * pad + 1, dtype=tf.int32)
        offset_x = tf.random.stateless_uniform([batch], seeds[1], 0, 2 * pad + 1, dtype=tf.int32)
        padded = tf.pad(images, [[0, 0], [pad, pad], [pad, pad], [0, 0]])
        rows = offset_y[:, None] + tf.range(height)[None, :]  # (B, H)
        cols = offset_x[:, None] + tf.range(width)[None, :]  # (B, W)
        images = tf.gather(tf.gather(padded, rows, axis=1, batch_dims=1), cols, axis=2, batch_dims=1)
    if flip:
        flips = tf.random.stateless_uniform([batch], seeds[2]) < 0.5
        images = tf.where(flips[:, None, None, None], tf.reverse(images, axis=[2]), images)
    return images


# --- pipelines -------------------------------------------------------------------------------------------------


def _identity(images):
    return tf.cast(images, tf.float32) / 255.0


def _epoch_dataset(images, labels, batch_size, seed, epoch, augment, standardize, drop_remainder, pad, flip):
    """One epoch's batches; `epoch` may be a tensor (inside `flat_map`)."""
    base = tf.stack([tf.cast(seed, tf.int64), tf.cast(epoch, tf.int64)])
    order = tf.random.experimental.stateless_shuffle(tf.range(tf.shape(labels)[0]),
                                                     tf.random.experimental.stateless_fold_in(base, 0))

    def load_batch(step, index):
        x = standardize(tf.gather(images, index))
        if augment:
            x = augment_batch(x, tf.random.experimental.stateless_fold_in(base, step + 1), pad, flip)
        return x, tf.gather(labels, index)

    batches = tf.data.Dataset.from_tensor_slices(order).batch(batch_size, drop_remainder=drop_remainder)
    return batches.enumerate().map(load_batch, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def train_dataset(split: Split, batch_size: int, seed: int, epoch: int, augment: bool,
                  standardize: Standardize | None = None, drop_remainder: bool = True, pad: int = 4,
                  flip: bool = True) -> tf.data.Dataset:
    """The batches (x float32 (B, H, W, C), y int32 (B,)) of one training epoch, a pure function of (seed, epoch).

    A fresh permutation per (seed, epoch); with `augment`, pad-`pad` random crops and (with `flip`) horizontal
    flips, per image. `standardize=None` only scales to [0, 1]. `len(split) // batch_size` batches when
    `drop_remainder` (the default: every step sees a full batch, as the papers' iteration counts assume).
    """
    standardize = standardize or _identity
    images, labels = tf.constant(split.images), tf.constant(split.labels)
    return _epoch_dataset(images, labels, batch_size, seed, epoch, augment, standardize, drop_remainder, pad,
                          flip).prefetch(tf.data.AUTOTUNE)


def train_batches(split: Split, batch_size: int, seed: int, first_epoch: int, augment: bool,
                  standardize: Standardize | None = None, pad: int = 4, flip: bool = True) -> tf.data.Dataset:
    """Epochs first_epoch, first_epoch + 1, ... of `train_dataset` back to back, without end (full batches
    only, `steps_per_epoch(len(split), batch_size)` per epoch): `train_data(e)` for `common.training.fit`."""
    standardize = standardize or _identity
    images, labels = tf.constant(split.images), tf.constant(split.labels)
    epochs = tf.data.Dataset.range(first_epoch, np.iinfo(np.int64).max)
    return epochs.flat_map(lambda e: _epoch_dataset(images, labels, batch_size, seed, e, augment, standardize,
                                                    True, pad, flip)).prefetch(tf.data.AUTOTUNE)


def steps_per_epoch(n_examples: int, batch_size: int) -> int:
    """Full batches per epoch of `train_dataset` / `train_batches`."""
    return n_examples // batch_size


def eval_dataset(split: Split, batch_size: int, standardize: Standardize | None = None) -> tf.data.Dataset:
    """The original view of every image, in order, in batches (the last one may be short)."""
    standardize = standardize or _identity
    images, labels = tf.constant(split.images), tf.constant(split.labels)
    index = tf.data.Dataset.range(len(split)).batch(batch_size)
    return index.map(lambda i: (standardize(tf.gather(images, i)), tf.gather(labels, i)),
                     num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).prefetch(tf.data.AUTOTUNE)


# --- a run's data ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    """The three splits and the standardisation fitted on the training part (the same for lesion.py)."""

    train: Split
    valid: Split
    test: Split
    standardize: Standardize

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(self.train.images.shape[1:])


def prepare_data(config: ml_collections.ConfigDict) -> Prepared:
    """The config's dataset split into train / validation (`split_validation`) / test, and its standardisation."""
    splits = load(config.dataset, config.source, config.data_dir or None)
    if not 0 < config.valid_size < len(splits["train"]):
        raise ConfigError(f"config.valid_size={config.valid_size} must be below the {len(splits['train'])} training "
                          f"images of {config.dataset}")
    train, valid = split_validation(splits["train"], config.valid_size, config.split_seed)
    test = splits["test"]
    if config.test_size:
        test = test.take(slice(0, config.test_size))
    if len(train) < config.batch_size:
        raise ConfigError(f"config.batch_size={config.batch_size} is larger than the {len(train)} training images")
    return Prepared(train, valid, test, Standardize.fit(config.normalization, train.images))


def training_data(prepared: Prepared, config: ml_collections.ConfigDict, checkpoint: int) -> tf.data.Dataset:
    """The training batches from checkpoint `checkpoint` on (step checkpoint x steps_per_checkpoint): epochs are
    passes over the training part, each a pure function of (seed, epoch), so a resumed run sees the batches it
    would have seen."""
    per_epoch = steps_per_epoch(len(prepared.train), config.batch_size)
    step = checkpoint * config.steps_per_checkpoint
    batches = train_batches(prepared.train, config.batch_size, config.seed, step // per_epoch, config.augment,
                            prepared.standardize, pad=config.crop_padding)
    return batches.skip(step % per_epoch)
