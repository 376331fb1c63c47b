"""Dropout masks drawn once per sequence (Gal & Ghahramani 2016, Sec. 4): Bernoulli(1 - p) / (1 - p).

A training call draws one set per batch of sequences (a 35-word window, as the author's script resamples its noise
every window while the state carries over); MC dropout draws one set per sample and holds it over the whole test
stream.
"""

import keras
from keras import ops


def keep_mask(shape, rate: float, seed):
    """A Bernoulli(1 - rate) mask scaled by 1 / (1 - rate) (inverted dropout); None when rate is 0."""
    if not rate:
        return None
    keep = keras.random.uniform(shape, seed=seed) >= rate
    return ops.cast(keep, "float32") / (1.0 - rate)


def word_type_mask(ids, type_mask):
    """Embedding (word) dropout: a word type dropped in a sequence is dropped at every one of its occurrences.

    `type_mask` (batch, vocabulary) holds one draw per word type and sequence; gathered at the sequence's ids it
    gives (batch, time, 1), the factor for each token's embedding.
    """
    return ops.take_along_axis(type_mask, ops.cast(ids, "int32"), axis=1)[..., None]
