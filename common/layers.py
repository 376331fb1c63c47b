"""Layers that two papers share."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="common")
class OneHot(keras.layers.Layer):
    """Token ids -> one-hot vectors (char-rnn's OneHot.lua): the input of the character-level LSTMs."""

    def __init__(self, depth: int, **kwargs):
        super().__init__(**kwargs)
        self.depth = depth

    def call(self, ids):
        return ops.one_hot(ops.cast(ids, "int32"), self.depth)

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.depth)

    def get_config(self):
        return {**super().get_config(), "depth": self.depth}
