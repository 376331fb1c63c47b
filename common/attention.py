"""Additive (content-based) attention, the score both Pointer Networks and Bahdanau's translation model use.

    u_j = v^T tanh(W1 e_j + W2 d)        Vinyals et al. 2015, eq. 3 (Pointer Networks)
    e_ij = v_a^T tanh(W_a s_{i-1} + U_a h_j)   Bahdanau et al. 2014, eq. 6 and App. A.1.2 (U_a = W1, W_a = W2)

The same formula under two names: an encoder state e_j (Bahdanau's annotation h_j) and a decoder state d (s_{i-1})
are projected to a common space, added, squashed and read out by v. A softmax over j then gives the attention
weights (Bahdanau, +Attention) or, in Ptr-Net, the output distribution itself.
"""

import keras
from keras import ops

NEG_INF = -1e9  # the score of a masked position: exp(-1e9 - max) is exactly 0 in float32, and -1e9 stays finite


@keras.saving.register_keras_serializable(package="common")
class ContentAttention(keras.layers.Layer):
    """u_j = v^T tanh(W1 e_j + W2 d) for every encoder position j and decoder state d, NEG_INF at masked j.

    `project(e)` computes W1 e_j once per input sequence (it does not depend on the decoder's step, so a search
    pays for it once); `call(projected, decoder_states, encoder_mask)` gives u (B, T, n) for decoder states
    (B, T, D) and a bool mask (B, n), True at real positions (not named `mask`, which Keras fills in by itself).
    Every weight starts uniform in [-init_scale, init_scale], as the rest of the model (0.08: Vinyals et al.
    Sec. 4.1, Sutskever et al. Sec. 3.4; Bahdanau et al. App. B.1 initialise W_a, U_a, v otherwise).

    Weights are made in the order W1, W2, v: by `build(((..., encoder_dim), (..., decoder_dim)))` or, when the model
    does not build the layer itself, W1 on the first `project` and W2, v on the first call.
    """

    def __init__(self, units: int, init_scale: float = 0.08, **kwargs):
        super().__init__(**kwargs)
        self.units, self.init_scale = units, init_scale

    def _initializer(self):
        # One initialiser instance for all three weights, made with the first: an unseeded Keras initialiser draws
        # its seed when it is made, so this keeps the initial values (and Pointer Networks' seeds) as they were.
        if getattr(self, "_init", None) is None:
            self._init = keras.initializers.RandomUniform(-self.init_scale, self.init_scale)
        return self._init

    def _build_keys(self, encoder_dim: int):
        if getattr(self, "w1", None) is None:
            self.w1 = self.add_weight(shape=(encoder_dim, self.units), initializer=self._initializer(), name="W1")

    def build(self, projected_shape, decoder_states_shape=None):
        """Makes W1, W2 and v, in that order (the order of the saved weights).

        A model calls `build((encoder states' shape, decoder states' shape))`; Keras, on a first call of a layer the
        model did not build, passes the shapes of `projected` and `decoder_states`, and W1 exists by then (`project`).
        Only the last dimensions matter.
        """
        if decoder_states_shape is None:
            encoder_shape, decoder_states_shape = projected_shape
            self._build_keys(encoder_shape[-1])
        elif getattr(self, "w1", None) is None:
            raise ValueError("ContentAttention: call project(encoder_states) before the first call, or build it")
        init = self._initializer()
        self.w2 = self.add_weight(shape=(decoder_states_shape[-1], self.units), initializer=init, name="W2")
        self.v = self.add_weight(shape=(self.units,), initializer=init, name="v")
        self.built = True

    def project(self, encoder_states):
        """W1 e_j (B, n, units)."""
        self._build_keys(encoder_states.shape[-1])
        return ops.matmul(encoder_states, self.w1)

    def call(self, projected, decoder_states, encoder_mask):
        """u (B, T, n) = v^T tanh(W1 e_j + W2 d_t), NEG_INF where `encoder_mask` (B, n) is False."""
        query = ops.matmul(decoder_states, self.w2)  # (B, T, units)
        u = ops.sum(ops.tanh(projected[:, None, :, :] + query[:, :, None, :]) * self.v, axis=-1)  # (B, T, n)
        return ops.where(encoder_mask[:, None, :], u, ops.cast(NEG_INF, u.dtype))

    def get_build_config(self):
        """Both sizes, for a saved layer is rebuilt from them (the shapes of a call do not say the encoder's)."""
        if not self.built:
            return None
        return {"input_shape": ((None, None, self.w1.shape[0]), (None, None, self.w2.shape[0]))}

    def get_config(self):
        return {**super().get_config(), "units": self.units, "init_scale": self.init_scale}
