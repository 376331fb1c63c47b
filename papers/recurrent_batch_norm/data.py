"""The BN-LSTM's tasks (Cooijmans et al. 2016, Sec. 5): images read one pixel per step, and characters.

Pixels (`task` "pixels" in scan-line order, "pixels_permuted" in one fixed random order):
* `paper`: MNIST through TFDS, 28 x 28 = 784 steps.
* `cpu`: Fashion-MNIST (common/fashion_mnist.py, offline), each image averaged over 2 x 2 blocks to 14 x 14 = 196
  steps; the same split sizes, 55k / 5k / 10k (the validation images drawn by `data_seed` from the training split).
* `smoke`: a few hundred of the same images, averaged to 7 x 7 = 49 steps.
Pixels are scaled to [0, 1]. The permutation is a true permutation of all pixels drawn from `permutation_seed`
(the authors' code draws indices with replacement, which keeps about 63% of the pixels; README "Deviations").

Characters (`task` "chars"): the World English Bible split by book (common/bible.py), as char-RNN's, cut into
non-overlapping sequences of `seq_length`; `paper`: Mikolov's PTB characters (ptb.char.*.txt, `make data/ptb`).
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf

from common import batches, bible, fashion_mnist
from common.characters import Vocabulary
from common.data import DataError, load_tfds

PIXEL_TASKS = ("pixels", "pixels_permuted")
PTB_CHAR_FILES = ("ptb.char.train.txt", "ptb.char.valid.txt", "ptb.char.test.txt")


@dataclass(frozen=True)
class Sequences:
    """Inputs: (N, T, 1) float32 pixels or (N, T) int32 characters; targets: labels (N,) or next characters (N, T)."""

    inputs: np.ndarray
    targets: np.ndarray

    def __len__(self) -> int:
        return len(self.inputs)


def pool(images: np.ndarray, size: int) -> np.ndarray:
    """Averages square images (N, S, S) over blocks to (N, size, size); S must be a multiple of size."""
    n, side = images.shape[0], images.shape[1]
    if side % size:
        raise ValueError(f"{side} x {side} images cannot be averaged to {size} x {size}")
    block = side // size
    return images.reshape(n, size, block, size, block).mean(axis=(2, 4))


def permutation(steps: int, seed: int) -> np.ndarray:
    """The fixed pixel order of the permuted task: every pixel exactly once."""
    return np.random.default_rng(seed).permutation(steps)


def pixel_sequences(images: np.ndarray, labels: np.ndarray, size: int, order: np.ndarray | None) -> Sequences:
    pixels = pool(images.astype(np.float32) / 255.0, size).reshape(len(images), size * size)
    if order is not None:
        pixels = pixels[:, order]
    return Sequences(pixels[..., None], labels.astype(np.int32))


def _mnist_arrays(data_dir: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    arrays = {}
    for split in ("train", "test"):
        images, labels = [], []
        for x, y in load_tfds("mnist", split, data_dir=data_dir or None, as_supervised=True).batch(4096):
            images.append(x.numpy()[..., 0])
            labels.append(y.numpy())
        arrays[split] = (np.concatenate(images), np.concatenate(labels))
    return arrays


def pixel_splits(config) -> dict[str, Sequences]:
    """{"train", "valid", "test"}: the images of `config.dataset` as sequences of `config.image_size`^2 pixels."""
    arrays = (fashion_mnist.load_arrays(config.data_dir or None) if config.dataset == "fashion_mnist"
              else _mnist_arrays(config.data_dir))
    (train_images, train_labels), (test_images, test_labels) = arrays["train"], arrays["test"]
    if config.max_images:
        train_images, train_labels = train_images[: config.max_images], train_labels[: config.max_images]
        test_images, test_labels = test_images[: config.max_images // 4], test_labels[: config.max_images // 4]
    valid = np.zeros(len(train_images), bool)
    valid[np.random.default_rng(config.data_seed).choice(len(train_images), config.valid_images, replace=False)] = True
    order = permutation(config.image_size**2, config.permutation_seed) if config.task == "pixels_permuted" else None
    return {"train": pixel_sequences(train_images[~valid], train_labels[~valid], config.image_size, order),
            "valid": pixel_sequences(train_images[valid], train_labels[valid], config.image_size, order),
            "test": pixel_sequences(test_images, test_labels, config.image_size, order)}


def char_texts(config) -> tuple[str, str, str]:
    if config.dataset == "bible":
        return bible.text_splits(config.max_chars)
    texts = []
    for name in PTB_CHAR_FILES:
        path = Path(config.data_dir) / name
        if not path.is_file():
            raise DataError(f"{path} is missing: run `make data/ptb` on a machine with internet, or use the `cpu` "
                            f"preset.")
        texts.append(path.read_text(encoding="utf-8"))
    return tuple(texts)


def char_sequences(ids: np.ndarray, seq_length: int) -> Sequences:
    """Non-overlapping sequences of seq_length characters and their next characters (the paper's examples)."""
    n = (len(ids) - 1) // seq_length
    if n < 1:
        raise DataError(f"a text of {len(ids)} characters is shorter than one sequence of {seq_length}")
    windows = ids[np.arange(n)[:, None] * seq_length + np.arange(seq_length + 1)]
    return Sequences(windows[:, :-1], windows[:, 1:])


def char_splits(config) -> tuple[dict[str, Sequences], Vocabulary]:
    train, valid, test = char_texts(config)
    vocab = Vocabulary(train + valid + test)
    return {name: char_sequences(vocab.encode(text), config.seq_length)
            for name, text in (("train", train), ("valid", valid), ("test", test))}, vocab


def training_batches(split: Sequences, batch_size: int, seed: int, start_step: int, total_steps: int):
    """Shuffled batches, batch s a pure function of (seed, s) (common/batches.py), so a resumed run sees the same."""
    inputs, targets = tf.constant(split.inputs), tf.constant(split.targets)
    return batches.shuffled_batches(len(split), batch_size, seed, start_step, total_steps,
                                    lambda index: (tf.gather(inputs, index), tf.gather(targets, index)))

