"""Text as contiguous streams for truncated backpropagation through time: the loader of char-rnn
(CharSplitLMMinibatchLoader) and of Zaremba et al.'s PTB code (`ptb_iterator`), used by char-RNN and the word-level
language model of Gal & Ghahramani. Batch k is a pure function of k, so a resumed run sees the same batches."""

import numpy as np
import tensorflow as tf

from common.data import DataError


def steps_per_pass(ids: np.ndarray, seq_length: int, batch_size: int) -> int:
    """Training steps in one pass over the text."""
    steps = (len(ids) - 1) // (seq_length * batch_size)
    if steps < 1:
        raise DataError(f"a text of {len(ids)} tokens is shorter than one batch of "
                        f"{batch_size} x {seq_length}.")
    return steps


def stream_batches(
    ids: np.ndarray, seq_length: int, batch_size: int, start_step: int, total_steps: int
) -> tf.data.Dataset:
    """The text as `batch_size` contiguous streams.

    Row i of batch k is the k-th piece of seq_length tokens of stream i, so a state carried from
    batch k to batch k + 1 continues the same text. After the last piece the passes start over.
    """
    per_pass = steps_per_pass(ids, seq_length, batch_size)
    usable = per_pass * seq_length * batch_size
    inputs = tf.constant(ids[:usable].reshape(batch_size, per_pass, seq_length))
    targets = tf.constant(ids[1 : usable + 1].reshape(batch_size, per_pass, seq_length))

    def batch(step):
        k = step % per_pass
        return inputs[:, k], targets[:, k]

    dataset = tf.data.Dataset.range(start_step, total_steps)
    return dataset.map(batch, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
