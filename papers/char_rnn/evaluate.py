"""Bits per character on held-out text, with the LSTM state carried across the whole text (as char-rnn)."""

import math

import keras
import numpy as np
import tensorflow as tf


def bits_per_character(model, ids: np.ndarray, streams: int = 16, chunk: int = 500) -> tuple[float, int]:
    """Mean -log2 p(x_{t+1} | x_{<=t}) over the text; returns (bits per character, characters scored).

    The text is cut into `streams` contiguous parts scored side by side as one batch; inside a part the
    state is carried from chunk to chunk, so each character is predicted from everything before it in
    its part. Every character but the first is scored, except fewer than `streams` at the very end.
    """
    length = (len(ids) - 1) // streams
    if length < 1:
        raise ValueError(f"a text of {len(ids)} characters is too short for {streams} streams")
    inputs = ids[: streams * length].reshape(streams, length)
    targets = ids[1 : streams * length + 1].reshape(streams, length)

    @tf.function(reduce_retracing=True)
    def score(x, y, states):
        logits, states = model(x, initial_states=states, return_states=True, training=False)
        nats = keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True)
        return tf.reduce_sum(tf.cast(nats, tf.float64)), states

    states = model.zero_states(streams)
    total = 0.0
    for start in range(0, length, chunk):
        nats, states = score(inputs[:, start : start + chunk], targets[:, start : start + chunk], states)
        total += float(nats)
    return total / (streams * length) / math.log(2), streams * length

