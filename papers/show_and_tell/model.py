"""NIC, the caption generator of Vinyals et al. 2015 (Sec. 3.1, Eqs. 10-13), over precomputed image features.

    x_{-1} = W_I CNN(I)                 eq. 10: the image, embedded into the word space, fed once, before the words
    x_t = W_e S_t,  t = 0 .. N - 1      eq. 11: S_0 is the start word
    p_{t+1} = LSTM(x_t)                 eq. 12: a softmax over the vocabulary after every word (not after the image)
    L(I, S) = -sum_t log p_t(S_t)       eq. 13: the caption's words and its end word, summed
                                        (and divided by the batch's word count: im2txt's units, `CaptionNLL`)

The LSTM's output after the image is not scored: the image only sets the state the words start from (`encode`).
Eq. 8 prints m_t = o_t * c_t; we use the standard m_t = o_t * tanh(c_t) of Keras' LSTM and of im2txt. Dropout on
the word and image embeddings and on the LSTM's output, as im2txt (keep 0.7). Every parameter starts uniform in
+-0.08 (im2txt's initializer_scale).

`feed_image="every_step"` is Sec. 3.1's rejected alternative (claim 3): no image step, and [W_e S_t ; W_I CNN(I)]
as the input of every step.

With `feature_moments` (the `cpu` preset's frozen features: config.standardize_features), CNN(I) is centred and
scaled per feature by the training split's mean and variance, carried by the model, so a saved model reads the
trunk's features as they come (README "Deviations").

With a `trunk` (claim 4, the encoder trained from scratch), "features" are the uint8 (B, 64, 64) canvases and
CNN(I) = encoder.quadrant_features(trunk(I / 255)) is trained with the captioner, then standardized per feature by a
batch normalization without scale or shift (the batch's moments in training, their moving averages in inference):
the counterpart of `feature_moments` for features that move as the trunk learns. Without it the trunk's features
grew ~10^4-fold under lr 2.0 in one of two seeds and the captioner ignored the image (NOTES.md). Without a trunk,
"features" are the frozen encoder's, computed once.

The searches (common/beam_search.py) use `encode(features) -> ((features,), state)` and `decode_step(memory, state,
previous)`, `previous` (R,) the previous words, -1 before the first (read as the start word).
"""

import keras
import numpy as np
from keras import ops

from common.vocabulary import BOS, PAD
from papers.show_and_tell.encoder import quadrant_features


def uniform(scale: float) -> keras.initializers.Initializer:
    return keras.initializers.RandomUniform(-scale, scale)


@keras.saving.register_keras_serializable(package="show_and_tell")
class CaptionNLL(keras.losses.Loss):
    """Eq. 13 summed over the batch's real words (PAD = 0 excluded) and divided by their count: im2txt's per-word
    mean, the units its lr 2.0 and clip 5 are set for. Summed per caption instead, the gradient is ~10x larger and
    NIC learns to ignore the image (one caption for every scene: NOTES.md "The loss in im2txt's units")."""

    def __init__(self, name="caption_nll", reduction="sum", **kwargs):
        super().__init__(name=name, reduction=reduction, **kwargs)

    def call(self, y_true, y_pred):
        nll = keras.losses.sparse_categorical_crossentropy(y_true, y_pred, from_logits=True)
        real = ops.cast(ops.not_equal(y_true, PAD), nll.dtype)
        return nll * real / ops.sum(real)  # (B, T); the "sum" reduction adds them up


@keras.saving.register_keras_serializable(package="show_and_tell")
class ShowAndTell(keras.Model):
    """{"features": (B, F) image features, "caption_in": (B, T) word ids} -> logits (B, T, vocab_size)."""

    def __init__(self, vocab_size: int, units: int = 512, embedding_dim: int = 512, dropout: float = 0.3,
                 init_scale: float = 0.08, feed_image: str = "once", trunk: keras.Model | None = None,
                 feature_moments: tuple | None = None, **kwargs):
        super().__init__(**kwargs)
        if feed_image not in ("once", "every_step"):
            raise ValueError(f"feed_image must be 'once' or 'every_step', got {feed_image!r}")
        self.vocab_size, self.units, self.embedding_dim = vocab_size, units, embedding_dim
        self.dropout_rate, self.init_scale, self.feed_image = dropout, init_scale, feed_image
        self.trunk = keras.saving.deserialize_keras_object(trunk) if isinstance(trunk, dict) else trunk
        if self.trunk is not None and feature_moments is not None:
            raise ValueError("feature_moments are the frozen features' moments; a trunk trained with the captioner "
                             "is standardized by its batches: give one or the other")
        self.feature_moments = self.feature_normalization = None
        if feature_moments is not None:
            mean, variance = self.feature_moments = tuple(np.asarray(m, np.float32).tolist()  # lists: get_config
                                                          for m in feature_moments)
            self.feature_normalization = keras.layers.Normalization(mean=mean, variance=variance,
                                                                    name="feature_normalization")
            self.feature_normalization.build((None, len(mean)))  # now: its constants, made in a graph, would leak
        if self.trunk is not None:
            self.feature_normalization = keras.layers.BatchNormalization(center=False, scale=False, epsilon=1e-6,
                                                                         name="feature_normalization")
        init = uniform(init_scale)
        self.image_embedding = keras.layers.Dense(embedding_dim, kernel_initializer=init, bias_initializer=init,
                                                  name="image_embedding")  # W_I
        self.word_embedding = keras.layers.Embedding(vocab_size, embedding_dim, embeddings_initializer=init,
                                                     name="word_embedding")  # W_e
        self.lstm = keras.layers.LSTM(units, return_sequences=True, return_state=True, kernel_initializer=init,
                                      recurrent_initializer=init, bias_initializer=init, unit_forget_bias=False,
                                      name="lstm")
        self.dropout = keras.layers.Dropout(dropout)
        self.softmax = keras.layers.Dense(vocab_size, kernel_initializer=init, bias_initializer=init, name="softmax")

    def _image(self, features, training=False):
        if self.trunk is not None:  # CNN(I), trained with the captioner
            pixels = ops.cast(features, "float32")[..., None] / 255.0
            features = quadrant_features(self.trunk(pixels, training=training))
        if self.feature_normalization is not None:
            features = self.feature_normalization(features, training=training)
        return self.dropout(self.image_embedding(features), training=training)

    def _words(self, ids, training=False):
        return self.dropout(self.word_embedding(ids), training=training)

    def encode(self, features, training=False):
        """((image embedding,), the LSTM state after reading the image at t = -1; zeros when fed every step)."""
        image = self._image(features, training)
        zeros = ops.zeros((ops.shape(features)[0], self.units))
        if self.feed_image == "every_step":
            return (image,), (zeros, zeros)
        _, h, c = self.lstm(image[:, None, :], initial_state=[zeros, zeros], training=training)
        return (image,), (h, c)

    def call(self, inputs, training=False):
        (image,), state = self.encode(inputs["features"], training)
        x = self._words(inputs["caption_in"], training)
        if self.feed_image == "every_step":
            x = ops.concatenate([x, ops.repeat(image[:, None, :], ops.shape(x)[1], axis=1)], axis=-1)
        outputs, _, _ = self.lstm(x, initial_state=list(state), training=training)
        return self.softmax(self.dropout(outputs, training=training))

    def decode_step(self, memory, state, previous):
        (image,) = memory
        previous = ops.convert_to_tensor(previous, dtype="int32")
        x = self._words(ops.where(previous < 0, BOS, previous))
        if self.feed_image == "every_step":
            x = ops.concatenate([x, image], axis=-1)
        h, (h, c) = self.lstm.cell(x, list(state))
        return self.softmax(h), (h, c)

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "units": self.units,
                "embedding_dim": self.embedding_dim, "dropout": self.dropout_rate, "init_scale": self.init_scale,
                "feed_image": self.feed_image, "feature_moments": self.feature_moments,
                "trunk": None if self.trunk is None else keras.saving.serialize_keras_object(self.trunk)}
