"""The batch-normalized LSTM of Cooijmans et al. 2016 (Sec. 3, Eqs. 6-8), with statistics kept per time step.

For every time step t (gate order i, f, g, o):

    (i, f, g, o) = BN(W_h h_{t-1}; gamma_h, 0) + BN(W_x x_t; gamma_x, 0) + b          Eq. 6
    c_t = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(g)                                 Eq. 7
    h_t = sigmoid(o) * tanh(BN(c_t; gamma_c, beta_c))                                 Eq. 8
    BN(z; gamma, beta) = beta + gamma * (z - E[z]) / sqrt(Var[z] + eps)                Eq. 5

The two gate terms share one shift, b (their betas would only add to it), as the authors' code does; the cell has
its own beta_c. In training, E and Var of step t are the minibatch's at step t alone: never pooled over time, so no
later input reaches an earlier output. Each step also keeps population statistics, a moving average of its batch
statistics, used at test time; a step beyond the longest training length reuses the last step's (Sec. 4).
gamma starts at 0.1 (Sec. 4: large gamma saturates the gates). W_x x_t is computed and normalized inside the step,
as Keras' LSTM projects its input: hoisted out of the loop, the (time, batch, 4 units) projection and its gradient
made a training step of the pixel task up to 1.7x slower (NOTES.md "Speed").
`normalize=False` gives the plain LSTM of the same weights (the baseline; Keras' LSTM, tested).

`test_statistics` (an attribute, not saved; the paper's claim 4 ablation) picks what inference normalizes with:
"per_step" (the population statistics of each step, the paper's), "shared" (their average over the steps, one set
for all), "batch" (the evaluated batch's own statistics of each step; the population is not updated).
"""

import keras
import numpy as np
from keras import ops

from common import recurrence

STATISTICS = ("x_mean", "x_variance", "h_mean", "h_variance", "c_mean", "c_variance")  # per step, in this order


@keras.saving.register_keras_serializable(package="recurrent_batch_norm")
class GateIdentity(keras.initializers.Initializer):
    """An identity matrix per gate block, (units, 4 units): the recurrent init of the pixel tasks (Sec. 5.1)."""

    def __call__(self, shape, dtype=None):
        units = shape[0]
        return ops.convert_to_tensor(np.tile(np.eye(units), (1, shape[1] // units)), dtype=dtype)


@keras.saving.register_keras_serializable(package="recurrent_batch_norm")
class BNLSTM(keras.layers.Layer):
    """(batch, time, features) -> (outputs (batch, time, units), h_T, c_T); statistics for `max_length` steps."""

    def __init__(self, units: int, max_length: int, normalize: bool = True, gamma_init: float = 0.1,
                 recurrent_init: str = "orthogonal", forget_bias: float = 1.0, initial_noise: float = 0.0,
                 momentum: float = 0.99, epsilon: float = 1e-5, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.units, self.max_length, self.normalize, self.gamma_init = units, max_length, normalize, gamma_init
        self.recurrent_init, self.forget_bias, self.initial_noise = recurrent_init, forget_bias, initial_noise
        self.momentum, self.epsilon, self.seed = momentum, epsilon, seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.test_statistics = "per_step"

    def build(self, input_shape):
        units, gates = self.units, 4 * self.units
        orthogonal = keras.initializers.Orthogonal(seed=self.seed)
        recurrent = GateIdentity() if self.recurrent_init == "identity" else orthogonal
        self.kernel = self.add_weight(shape=(input_shape[-1], gates), initializer=orthogonal, name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(units, gates), initializer=recurrent, name="recurrent_kernel")
        bias = np.zeros(gates, "float32")
        bias[units : 2 * units] = self.forget_bias
        self.bias = self.add_weight(shape=(gates,), initializer=keras.initializers.Constant(bias), name="bias")
        if not self.normalize:
            return
        gamma = keras.initializers.Constant(self.gamma_init)
        self.gamma_x = self.add_weight(shape=(gates,), initializer=gamma, name="gamma_x")
        self.gamma_h = self.add_weight(shape=(gates,), initializer=gamma, name="gamma_h")
        self.gamma_c = self.add_weight(shape=(units,), initializer=gamma, name="gamma_c")
        self.beta_c = self.add_weight(shape=(units,), initializer="zeros", name="beta_c")
        # Population statistics, a row per time step: mean and variance of W_x x, W_h h and c.
        self.population = {
            f"{part}_{moment}": self.add_weight(shape=(self.max_length, width), initializer=init, trainable=False,
                                                name=f"population_{part}_{moment}")
            for part, width in (("x", gates), ("h", gates), ("c", units))
            for moment, init in (("mean", "zeros"), ("variance", "ones"))}

    def _batch_norm(self, z, mean, variance, gamma, beta=0.0):
        scale = gamma * ops.rsqrt(variance + self.epsilon)  # Eq. 5, as one scale and one shift of z
        return z * scale + (beta - mean * scale)

    def _batch_statistics_norm(self, z, gamma, beta=0.0):
        """(BN(z) with z's own batch statistics, their mean, their variance) for z (batch, features)."""
        mean, variance = ops.moments(z, axes=[0])
        return self._batch_norm(z, mean, variance, gamma, beta), mean, variance

    def _population_rows(self, length):
        """Each step's population statistics; a step past max_length reuses the last row (Sec. 4). With
        test_statistics "shared", every step gets their average over the steps."""
        if self.test_statistics == "shared":
            return {name: ops.repeat(ops.mean(variable, axis=0, keepdims=True), length, axis=0)
                    for name, variable in self.population.items()}
        steps = ops.minimum(ops.arange(length), self.max_length - 1)
        return {name: ops.take(variable, steps, axis=0) for name, variable in self.population.items()}

    def call(self, x, training=False, initial_state=None):
        outputs, h, c, _ = self._run(x, training, initial_state)
        return outputs, h, c

    def step_statistics(self, x):
        """Each step's statistics of the batch x under the current weights, without noise and leaving the population
        as it is: {name: (time, width)}, the names of `population` (to re-estimate it, evaluate.py)."""
        return self._run(x, False, None, collect=True)[3]

    def _run(self, x, training, initial_state, collect=False):
        batch = ops.shape(x)[0]
        length = x.shape[1] if x.shape[1] is not None else ops.shape(x)[1]
        if training and self.normalize and length > self.max_length:
            raise ValueError(f"a training sequence of {length} steps is longer than max_length={self.max_length}: "
                             f"population statistics exist for {self.max_length} steps; raise max_length")
        zeros = ops.zeros((batch, self.units))
        h, c = initial_state if initial_state is not None else (zeros, zeros)
        if training and self.initial_noise:
            h = h + self.initial_noise * keras.random.normal(ops.shape(h), seed=self.seed_generator)
        update = bool(training) and self.normalize  # training moves the population statistics
        use_batch = update or (self.normalize and (collect or self.test_statistics == "batch"))  # the batch's

        def step(carry, inputs):
            h, c = carry[0], carry[1]
            x_t, row_values = inputs[0], inputs[1:]  # step t's population statistics, when they are used
            rows = dict(zip(STATISTICS, row_values, strict=True)) if row_values else {}
            x_projection = ops.matmul(x_t, self.kernel)
            h_projection = ops.matmul(h, self.recurrent_kernel)
            if use_batch:  # step t's statistics over the batch of step t only
                x_projection, x_mean, x_variance = self._batch_statistics_norm(x_projection, self.gamma_x)
                h_projection, h_mean, h_variance = self._batch_statistics_norm(h_projection, self.gamma_h)
            elif self.normalize:
                x_projection = self._batch_norm(x_projection, rows["x_mean"], rows["x_variance"], self.gamma_x)
                h_projection = self._batch_norm(h_projection, rows["h_mean"], rows["h_variance"], self.gamma_h)
            i, f, g, o = ops.split(h_projection + x_projection + self.bias, 4, axis=-1)  # Eq. 6
            c = ops.sigmoid(f) * c + ops.sigmoid(i) * ops.tanh(g)                       # Eq. 7
            if use_batch:
                c_normalized, c_mean, c_variance = self._batch_statistics_norm(c, self.gamma_c, self.beta_c)
                h = ops.sigmoid(o) * ops.tanh(c_normalized)                           # Eq. 8
                return (h, c), (h, x_mean, x_variance, h_mean, h_variance, c_mean, c_variance)
            if self.normalize:
                c_normalized = self._batch_norm(c, rows["c_mean"], rows["c_variance"], self.gamma_c, self.beta_c)
                h = ops.sigmoid(o) * ops.tanh(c_normalized)
                return (h, c), (h,)
            h = ops.sigmoid(o) * ops.tanh(c)                                             # Eq. 8
            return (h, c), (h,)

        xs = (ops.transpose(x, (1, 0, 2)),)  # time-major
        if self.normalize and not use_batch:  # each step's population rows ride along with its input
            population_rows = self._population_rows(length)
            xs += tuple(population_rows[name] for name in STATISTICS)
        last, sequence = recurrence.scan(step, (h, c), xs)
        batch_stats = None
        if use_batch:
            batch_stats = dict(zip(STATISTICS, sequence[1:], strict=True))
        if update:  # each step's population row moves toward its batch statistics
            for name, value in batch_stats.items():
                variable = self.population[name]
                kept = variable[:length] * self.momentum + value * (1.0 - self.momentum)
                variable.assign(ops.concatenate([kept, variable[length:]], axis=0))
        return ops.transpose(sequence[0], (1, 0, 2)), last[0], last[1], batch_stats

    def compute_output_spec(self, x, training=False, initial_state=None):
        state = keras.KerasTensor((x.shape[0], self.units), dtype=self.compute_dtype)
        return keras.KerasTensor((x.shape[0], x.shape[1], self.units), dtype=self.compute_dtype), state, state

    def get_config(self):
        return {**super().get_config(), "units": self.units, "max_length": self.max_length,
                "normalize": self.normalize, "gamma_init": self.gamma_init, "recurrent_init": self.recurrent_init,
                "forget_bias": self.forget_bias, "initial_noise": self.initial_noise, "momentum": self.momentum,
                "epsilon": self.epsilon, "seed": self.seed}
