"""The step-indexed shuffled batcher: batch s is a pure function of (seed, s), so a resumed run sees the batches an
uninterrupted run would have seen (char-RNN's zero-state windows, Pointer Networks' instances)."""

from collections.abc import Callable

import numpy as np
import tensorflow as tf


def shuffled_batches(items: int, batch_size: int, seed: int, start_step: int, total_steps: int,
                     make_batch: Callable[[tf.Tensor], object]) -> tf.data.Dataset:
    """Batches for global steps start_step .. total_steps - 1: make_batch(indices of the batch's items).

    Pass p over the `items` visits them in the permutation drawn from (seed, p) and drops its last partial batch.
    """
    per_pass = items // batch_size
    if per_pass < 1:
        raise ValueError(f"{items} items are fewer than one batch of {batch_size}")
    passes = max(1, -(-total_steps // per_pass))
    order = np.concatenate([np.random.default_rng([seed, p]).permutation(items)[: per_pass * batch_size]
                            for p in range(passes)]).reshape(passes * per_pass, batch_size).astype(np.int32)
    order = tf.constant(order)
    dataset = tf.data.Dataset.range(start_step, total_steps)
    return dataset.map(lambda step: make_batch(order[step]), num_parallel_calls=tf.data.AUTOTUNE).prefetch(
        tf.data.AUTOTUNE)
