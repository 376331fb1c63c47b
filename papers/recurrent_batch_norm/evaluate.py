"""The paper's measures on held-out data: pixel tasks' accuracy (%), characters' bits per character, each with the
BN-LSTM's statistics chosen at test time (bn_lstm.py `test_statistics`: the paper's per-step population statistics,
or the ablation's shared or batch statistics)."""

import math

import keras
import numpy as np
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


def reestimate_population(model, split: Sequences, batch_size: int, batches: int) -> None:
    """Sets each step's population statistics to the average of `batches` training batches' statistics under the
    current weights (the authors' nowwithpopulationstatistics.py): the moving average lags weights that still move
    (NOTES.md). Steps past the batches' length keep their rows."""
    layer = model.get_layer("lstm")
    if not layer.normalize:
        return
    features = keras.Model(model.inputs, layer.input)  # the layer's input: the pixels, or the one-hot characters
    statistics = tf.function(lambda x: layer.step_statistics(features(x)), reduce_retracing=True)
    order = np.random.default_rng(0).permutation(len(split))[: batches * batch_size]
    total = None
    for start in range(0, len(order), batch_size):
        found = statistics(split.inputs[np.sort(order[start : start + batch_size])])
        total = found if total is None else {k: total[k] + v for k, v in found.items()}
    count = -(-len(order) // batch_size)
    for name, value in total.items():
        variable, length = layer.population[name], value.shape[0]
        variable.assign(tf.concat([value / count, variable[length:]], axis=0))
