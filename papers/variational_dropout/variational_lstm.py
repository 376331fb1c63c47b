"""An LSTM layer whose dropout masks are held over all time steps (Gal & Ghahramani 2016, Sec. 4, Eq. 8).

For every time step t, with masks z_x, z_h drawn once per sequence (gate order Keras': i, f, g, o):

    untied:  (i, f, g, o) = (x_t * z_x^i) W_i + (h_{t-1} * z_h^i) U_i + b_i, ...   a mask per gate
    tied:    (i, f, g, o) = (x_t * z_x) W + (h_{t-1} * z_h) U + b               one mask for all gates
    c_t = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(g),   h_t = sigmoid(o) * tanh(c_t)

The masks come in as arguments, so a caller can hold them over many calls (MC dropout over a whole test stream).
Because z_x is constant over time, the masked input projection of every step is one product before the loop
(for untied masks, four: one per gate); only (h_{t-1} * z_h) U stays inside it. Without masks the layer is
Keras' LSTM (same weights, same gate order), which tests/test_variational_dropout.py checks.
"""

import keras
from keras import ops

from common import recurrence


@keras.saving.register_keras_serializable(package="variational_dropout")
class VariationalLSTM(keras.layers.Layer):
    """LSTM over (batch, time, features) -> (outputs (batch, time, units), h_T, c_T).

    `input_mask` (gates, batch, features) and `recurrent_mask` (gates, batch, units), gates 4 (untied) or 1 (tied),
    already scaled by 1 / (1 - p); None means no dropout on that connection.
    """

    def __init__(self, units: int, init_scale: float = 0.05, **kwargs):
        super().__init__(**kwargs)
        self.units, self.init_scale = units, init_scale

    def build(self, input_shape):
        init = keras.initializers.RandomUniform(-self.init_scale, self.init_scale)  # every weight, as Zaremba's
        self.kernel = self.add_weight(shape=(input_shape[-1], 4 * self.units), initializer=init, name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, 4 * self.units), initializer=init,
                                                name="recurrent_kernel")
        self.bias = self.add_weight(shape=(4 * self.units,), initializer=init, name="bias")

    def _masked_input_projection(self, x, mask):
        """sum over gates g of (x_t * z_x^g) W_g for every step t at once: x (batch, time, features)."""
        if mask is None:
            return ops.matmul(x, self.kernel)
        if mask.shape[0] == 1:
            return ops.matmul(x * mask[0][:, None, :], self.kernel)
        per_gate = ops.split(self.kernel, 4, axis=-1)
        return ops.concatenate([ops.matmul(x * mask[g][:, None, :], per_gate[g]) for g in range(4)], axis=-1)

    def call(self, x, initial_state, input_mask=None, recurrent_mask=None):
        untied = recurrent_mask is not None and recurrent_mask.shape[0] == 4
        x_projection = self._masked_input_projection(x, input_mask) + self.bias  # every step at once
        x_projection = ops.transpose(x_projection, (1, 0, 2))  # (time, batch, 4 units)
        if untied:  # gate-major, so a step adds and splits (gate, batch, units) without a transpose
            x_projection = ops.transpose(ops.reshape(x_projection, (ops.shape(x)[1], -1, 4, self.units)), (0, 2, 1, 3))
            recurrent_kernel = ops.transpose(ops.reshape(self.recurrent_kernel, (self.units, 4, self.units)),
                                             (1, 0, 2))  # U as (gate, units, units)
        else:
            recurrent_kernel = self.recurrent_kernel

        def step(state, x_projection_t):
            h, c = state
            if untied:  # the four masked products of a step are one batched matmul
                i, f, g, o = ops.unstack(x_projection_t + ops.matmul(h[None] * recurrent_mask, recurrent_kernel))
            else:
                h_projection = ops.matmul(h if recurrent_mask is None else h * recurrent_mask[0], recurrent_kernel)
                i, f, g, o = ops.split(x_projection_t + h_projection, 4, axis=-1)
            c = ops.sigmoid(f) * c + ops.sigmoid(i) * ops.tanh(g)
            h = ops.sigmoid(o) * ops.tanh(c)
            return (h, c), h

        (h, c), outputs = recurrence.scan(step, tuple(initial_state), x_projection)
        return ops.transpose(outputs, (1, 0, 2)), h, c

    def compute_output_spec(self, x, initial_state, input_mask=None, recurrent_mask=None):
        batch, time = x.shape[0], x.shape[1]
        state = keras.KerasTensor((batch, self.units), dtype=self.compute_dtype)
        return keras.KerasTensor((batch, time, self.units), dtype=self.compute_dtype), state, state

    def get_config(self):
        return {**super().get_config(), "units": self.units, "init_scale": self.init_scale}
