"""The models of Cooijmans et al. 2016, Sec. 5: one (BN-)LSTM layer and a softmax classifier.

    pixels:      x_1 .. x_T one pixel per step -> (BN-)LSTM -> softmax(W h_T + b)             the class (Sec. 5.1)
    characters:  one-hot c_1 .. c_T -> (BN-)LSTM -> softmax(W h_t + b) at every step         the next character (5.2)

The LSTM baseline is the same layer without normalization (bn_lstm.py, `normalize=False`), so the two differ only
by batch normalization. Pixels: orthogonal init but the identity for the recurrent weights, RMSProp lr 1e-3 with
momentum 0.9, gradient norm clipped at 1, noise on the initial hidden state (Sec. 5.1). Characters: orthogonal
init, Adam lr 2e-3, clipping at 1 (Sec. 5.2).
"""

import math

import keras

from common.layers import OneHot
from papers.recurrent_batch_norm.bn_lstm import BNLSTM


def recurrent_layer(config, max_length: int, name: str = "lstm") -> BNLSTM:
    return BNLSTM(config.units, max_length, normalize=config.model == "bn_lstm", gamma_init=config.gamma_init,
                  recurrent_init=config.recurrent_init, initial_noise=config.initial_noise, seed=config.seed,
                  name=name)


def pixel_classifier(config, steps: int, classes: int = 10) -> keras.Model:
    pixels = keras.Input((steps, 1), name="pixels")
    _, h_last, _ = recurrent_layer(config, steps)(pixels)
    logits = keras.layers.Dense(classes, kernel_initializer=keras.initializers.Orthogonal(seed=config.seed),
                                name="classifier")(h_last)
    return keras.Model(pixels, logits, name=config.model)


def char_model(config, vocab_size: int) -> keras.Model:
    chars = keras.Input((None,), dtype="int32", name="chars")
    outputs, _, _ = recurrent_layer(config, config.seq_length)(OneHot(vocab_size)(chars))
    logits = keras.layers.Dense(vocab_size, kernel_initializer=keras.initializers.Orthogonal(seed=config.seed),
                                name="softmax")(outputs)
    return keras.Model(chars, logits, name=config.model)


@keras.saving.register_keras_serializable(package="recurrent_batch_norm")
def bits_per_character(targets, logits):
    return keras.losses.sparse_categorical_crossentropy(targets, logits, from_logits=True) / math.log(2.0)


def build(config, steps: int, vocab_size: int = 0) -> keras.Model:
    """The task's model of `config`, compiled with the paper's optimiser for the task."""
    if config.task == "chars":
        model = char_model(config, vocab_size)
        optimizer = keras.optimizers.Adam(config.learning_rate, global_clipnorm=config.clip_norm)
        metrics = [keras.metrics.MeanMetricWrapper(bits_per_character, name="bpc")]
    else:
        model = pixel_classifier(config, steps)
        optimizer = keras.optimizers.RMSprop(config.learning_rate, momentum=config.momentum,
                                             global_clipnorm=config.clip_norm)
        metrics = [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
    model.compile(optimizer, keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=metrics)
    return model
