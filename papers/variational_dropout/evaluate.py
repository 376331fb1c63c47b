"""Perplexity of a word stream, the state carried across it (Zaremba et al.; Gal & Ghahramani 2016, Sec. 5.2).

Two estimators of the predictive probability p(w_{t+1} | w_{<=t}):
* the standard dropout approximation: the weights as trained, no masks (inverted dropout scaled them in training);
* MC dropout: K draws of the masks, each held over the whole stream (one sample of the weights), and the
  probabilities, not the log-probabilities, averaged over the K: p = (1/K) sum_k p_k. Word dropout is off, as in
  the author's script. The K samples run side by side as K copies of the batch (the author's batch-of-masks trick).
"""

import keras
import numpy as np
import tensorflow as tf


def _streams(ids: np.ndarray, streams: int):
    length = (len(ids) - 1) // streams
    if length < 1:
        raise ValueError(f"a stream of {len(ids)} words is too short for {streams} parts")
    return ids[: streams * length].reshape(streams, length), ids[1 : streams * length + 1].reshape(streams, length)


def log_probabilities(model, ids: np.ndarray, streams: int = 10, chunk: int = 100) -> np.ndarray:
    """log p(w_{t+1} | w_{<=t}) of every scored word (the standard dropout approximation), the stream cut into
    `streams` contiguous parts scored side by side with the state carried from chunk to chunk inside each part;
    part by part, in order."""
    inputs, targets = _streams(ids, streams)

    @tf.function(reduce_retracing=True)
    def score(x, y, states):
        logits, states = model(x, initial_states=states, return_states=True, training=False)
        return -keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True), states

    states, pieces = model.zero_states(streams), []
    for start in range(0, inputs.shape[1], chunk):
        log_p, states = score(inputs[:, start : start + chunk], targets[:, start : start + chunk], states)
        pieces.append(np.asarray(log_p, dtype=np.float64))
    return np.concatenate(pieces, axis=1).reshape(-1)


def perplexity(model, ids: np.ndarray, streams: int = 10, chunk: int = 100) -> float:
    """exp(mean -log p) over the stream (`log_probabilities`)."""
    return float(np.exp(-log_probabilities(model, ids, streams, chunk).mean()))


def mc_log_probabilities(model, ids: np.ndarray, samples: int, streams: int = 10, chunk: int = 100,
                         group: int = 10, seed: int = 0) -> np.ndarray:
    """log p_k(w_{t+1} | w_{<=t}) of every scored word under each of `samples` mask draws: (samples, words).

    The samples run `group` at a time, each group's masks drawn once and held over the whole stream."""
    if model.dropout != "variational":
        raise ValueError(f"MC dropout samples Gal's masks; this model was trained with dropout={model.dropout!r}")
    inputs, targets = _streams(ids, streams)
    seed_generator = keras.random.SeedGenerator(seed)  # the draws depend on `seed` only

    @tf.function(reduce_retracing=True)
    def score(x, y, states, masks):
        logits, states = model(x, initial_states=states, masks=masks, return_states=True, training=False)
        return -keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True), states

    groups = []
    for first in range(0, samples, group):
        size = min(group, samples - first)
        # sample k of the group is rows k * streams .. (k + 1) * streams - 1 of the batch
        masks = model.sample_masks(size * streams, word_dropout=False, seed=seed_generator)
        states, pieces = model.zero_states(size * streams), []
        for start in range(0, inputs.shape[1], chunk):
            x, y = (np.tile(a[:, start : start + chunk], (size, 1)) for a in (inputs, targets))
            log_p, states = score(x, y, states, masks)
            pieces.append(np.asarray(log_p, dtype=np.float64).reshape(size, streams, -1))
        groups.append(np.concatenate(pieces, axis=2).reshape(size, -1))
    return np.concatenate(groups)


def mc_average(log_p: np.ndarray) -> np.ndarray:
    """log of the MC predictive probability of every word: log (1/K) sum_k p_k, without underflow."""
    return np.logaddexp.reduce(log_p, axis=0) - np.log(len(log_p))


def mc_perplexity(log_p: np.ndarray) -> float:
    """Perplexity of the MC predictive distribution: the probabilities averaged over samples, then -log."""
    return float(np.exp(-mc_average(log_p).mean()))

