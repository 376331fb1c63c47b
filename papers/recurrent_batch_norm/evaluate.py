"""The paper's measures on held-out data: pixel tasks' accuracy (%), characters' bits per character, each with the
BN-LSTM's statistics chosen at test time (bn_lstm.py `test_statistics`: the paper's per-step population statistics,
or the ablation's shared or batch statistics)."""

import math

import keras
import tensorflow as tf

from papers.recurrent_batch_norm.data import Sequences


def measure(model, split: Sequences, batch_size: int, statistics: str = "per_step") -> float:
    """Accuracy in % (pixels: one label per sequence) or bits per character (characters: a target per step)."""
    layer = model.get_layer("lstm")
    layer.test_statistics = statistics
    try:
        @tf.function(reduce_retracing=True)
        def scores(x, y):
            logits = model(x, training=False)
            if y.shape.rank == 1:
                return tf.reduce_sum(tf.cast(tf.argmax(logits, -1, output_type=tf.int32) == y, tf.float64))
            nats = keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True)
            return tf.reduce_sum(tf.cast(nats, tf.float64))

        total = 0.0
        for start in range(0, len(split), batch_size):
            total += float(scores(split.inputs[start : start + batch_size], split.targets[start : start + batch_size]))
    finally:
        layer.test_statistics = "per_step"
    if split.targets.ndim == 1:
        return 100.0 * total / len(split)
    return total / split.targets.size / math.log(2.0)


def statistics_ablation(model, split: Sequences, batch_size: int) -> dict[str, float]:
    """Claim 4: the same trained BN-LSTM measured with each kind of test-time statistics."""
    return {statistics: measure(model, split, batch_size, statistics) for statistics in ("shared", "batch")}

