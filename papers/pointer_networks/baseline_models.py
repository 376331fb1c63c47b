"""Table 1's two baselines of Pointer Networks (Vinyals et al. 2015): the LSTM and +Attention, over a fixed dictionary.

Both read the points with the encoder they share with Ptr-Net (`model.encode_points`) and run an LSTM decoder over
a dictionary of n_max + 1 classes (the indices 0 .. n_max - 1, then EOS), set by the largest n the model is built
for; they cannot answer for more points (the paper's point). The decoder reads a learned embedding of the previous
output class y_i = E[C_{i-1}] (n_max + 2 rows: the n_max indices, EOS, and the start symbol; Fig. 1a):

    LSTM (Sutskever et al. 2014):       d_i = LSTM_dec(y_i, d_{i-1}),  p(C_i | C_<i, P) = softmax(W_o d_i)
    +Attention (Bahdanau et al. 2015):  u^i_j = v^T tanh(W1 e_j + W2 d_i),  a^i = softmax(u^i),
                                        d'_i = sum_j a^i_j e_j,  p(C_i | C_<i, P) = softmax(W_o [d_i; d'_i])

Inputs, outputs, initialisation and the per-step interface (`encode`, `decode_step`) are those of `model.py`.
"""

import keras
from keras import ops

from papers.pointer_networks.model import (
    ContentAttention,
    encode_points,
    lstm,
    point_embedding,
    shift_right,
    uniform,
    unpack_inputs,
)


def class_embedding(n_max: int, embedding_dim: int, init_scale: float) -> keras.layers.Embedding:
    """E: the n_max indices, EOS (row n_max) and the start symbol (row n_max + 1)."""
    return keras.layers.Embedding(n_max + 2, embedding_dim, embeddings_initializer=uniform(init_scale),
                                  name="class_embedding")


def previous_class(previous, n_max: int):
    """The row of E the decoder reads: C_{i-1}, or the start symbol (n_max + 1) where previous is -1."""
    previous = ops.cast(ops.convert_to_tensor(previous), "int32")
    return ops.where(previous < 0, n_max + 1, previous)


def check_dictionary(model, points):
    """`points` as a tensor; an error if the dictionary has no class for some of them (n > n_max)."""
    points = ops.convert_to_tensor(points, dtype=model.compute_dtype)
    if points.shape[1] is not None and points.shape[1] > model.n_max:
        raise ValueError(f"{type(model).__name__} was built for at most n_max={model.n_max} points; got "
                         f"{points.shape[1]} (its output dictionary cannot grow; that is Ptr-Net's point)")
    return points


@keras.saving.register_keras_serializable(package="pointer_networks")
class Seq2SeqLSTM(keras.Model):
    """Table 1's "LSTM" (Sutskever et al. 2014): p(C_i | C_<i, P) = softmax(W_o d_i) over n_max + 1 classes.

    The only path from the input to the output is the encoder's final state, d_0 = e_n.
    """

    def __init__(self, n_max: int, units: int = 256, embedding_dim: int | None = None, init_scale: float = 0.08,
                 **kwargs):
        super().__init__(**kwargs)
        self.n_max, self.units, self.init_scale = n_max, units, init_scale
        self.embedding_dim = embedding_dim or units
        # creation order = the order of the saved weights (checkpoints of earlier versions load unchanged)
        self.embed = point_embedding(self.embedding_dim, init_scale)
        self.encoder = lstm(units, init_scale, "encoder")
        self.decoder = lstm(units, init_scale, "decoder")
        self.class_embedding = class_embedding(n_max, self.embedding_dim, init_scale)
        self.output_layer = keras.layers.Dense(n_max + 1, kernel_initializer=uniform(init_scale),
                                               bias_initializer=uniform(init_scale), name="output")  # W_o

    def build(self, input_shape=None):
        self.embed.build((None, None, 2))
        self.encoder.build((None, None, self.embedding_dim))
        self.decoder.build((None, None, self.embedding_dim))
        self.class_embedding.build((None, None))
        self.output_layer.build((None, None, self.units))
        self.built = True

    def eos_index(self, n_points: int) -> int:
        return self.n_max

    def encode(self, points, lengths=None):
        """memory: the point mask (nothing else reaches the output); state: the encoder's final (h, c)."""
        points = check_dictionary(self, points)
        _, _, state, mask = encode_points(self.embed, self.encoder, points, lengths)
        return {"mask": mask}, state

    def call(self, inputs, training=None):
        """Teacher forcing: logits (B, T, n_max + 1) of every step given the true previous outputs."""
        points, targets, lengths = unpack_inputs(inputs)
        _, state = self.encode(points, lengths)
        y = self.class_embedding(previous_class(shift_right(targets), self.n_max))  # y_i = E[C_{i-1}]
        d, _, _ = self.decoder(y, initial_state=state)  # d_i = LSTM_dec(y_i, d_{i-1}), d_0 = e_n
        return self.output_layer(d)  # W_o d_i

    def decode_step(self, memory, state, previous):
        """One step: logits (B, n_max + 1) and the new state, given the (B,) previous outputs C_{i-1}."""
        y = self.class_embedding(previous_class(previous, self.n_max))
        d, state = self.decoder.cell(y, state)
        return self.output_layer(d[:, None, :])[:, 0, :], state  # as `call`, a sequence of one step

    def get_config(self):
        return {**super().get_config(), "units": self.units, "embedding_dim": self.embedding_dim,
                "init_scale": self.init_scale, "n_max": self.n_max}


@keras.saving.register_keras_serializable(package="pointer_networks")
class AttentionLSTM(keras.Model):
    """Table 1's "+Attention" (Bahdanau et al. 2015 in the paper's eq. 3) over the fixed n_max + 1 dictionary.

        u^i_j = v^T tanh(W1 e_j + W2 d_i),  a^i = softmax(u^i),  d'_i = sum_j a^i_j e_j
        p(C_i | C_<i, P) = softmax(W_o [d_i; d'_i])

    The paper (Sec. 2.2) concatenates d'_i and d_i "and use[s] this as the hidden states from which we make
    predictions and which we feed to the next time step". With `input_feeding=True` (default) the decoder's
    input at step i is [E[C_{i-1}]; d'_{i-1}] (d'_0 = 0), as in the TF attention decoder that the authors'
    group used; training then runs the decoder step by step (`keras.ops.scan`). With `input_feeding=False` the
    context only feeds the prediction, and the decoder runs as one LSTM layer.
    """

    def __init__(self, n_max: int, units: int = 256, embedding_dim: int | None = None, init_scale: float = 0.08,
                 input_feeding: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.n_max, self.units, self.init_scale = n_max, units, init_scale
        self.embedding_dim = embedding_dim or units
        self.input_feeding = input_feeding
        # creation order = the order of the saved weights (checkpoints of earlier versions load unchanged)
        self.embed = point_embedding(self.embedding_dim, init_scale)
        self.encoder = lstm(units, init_scale, "encoder")
        self.decoder = lstm(units, init_scale, "decoder")
        self.class_embedding = class_embedding(n_max, self.embedding_dim, init_scale)
        self.output_layer = keras.layers.Dense(n_max + 1, kernel_initializer=uniform(init_scale),
                                               bias_initializer=uniform(init_scale), name="output")  # W_o
        self.attention = ContentAttention(units, init_scale, name="attention")

    def build(self, input_shape=None):
        self.embed.build((None, None, 2))
        self.encoder.build((None, None, self.embedding_dim))
        self.decoder.build((None, None, self.embedding_dim + (self.units if self.input_feeding else 0)))
        self.class_embedding.build((None, None))
        self.output_layer.build((None, None, 2 * self.units))
        self.attention.build(((None, None, self.units), (None, None, self.units)))
        self.built = True

    def eos_index(self, n_points: int) -> int:
        return self.n_max

    def encode(self, points, lengths=None):
        """memory: e_j and W1 e_j and the mask; state: the encoder's final (h, c), and d'_0 = 0 with input feeding."""
        points = check_dictionary(self, points)
        _, e, state, mask = encode_points(self.embed, self.encoder, points, lengths)
        if self.input_feeding:
            state = [*state, ops.zeros_like(state[0])]
        return {"mask": mask, "values": e, "keys": self.attention.project(e)}, state

    def attend(self, memory, d):
        """a^i = softmax(u^i) (B, T, n), zero at padded points, and d'_i = sum_j a^i_j e_j (B, T, units)."""
        a = ops.softmax(self.attention(memory["keys"], d, memory["mask"]), axis=-1)
        return a, ops.matmul(a, memory["values"])

    def _predict(self, memory, d):
        """Logits W_o [d_i; d'_i] and the contexts d'_i for decoder states d (B, T, units)."""
        _, context = self.attend(memory, d)
        return self.output_layer(ops.concatenate([d, context], axis=-1)), context

    def call(self, inputs, training=None):
        """Teacher forcing: logits (B, T, n_max + 1) of every step given the true previous outputs."""
        points, targets, lengths = unpack_inputs(inputs)
        memory, state = self.encode(points, lengths)
        previous = shift_right(targets)
        if self.input_feeding:  # d'_{i-1} is an input of step i: the decoder runs step by step
            return self._scan(memory, state, previous)
        y = self.class_embedding(previous_class(previous, self.n_max))  # y_i = E[C_{i-1}]
        d, _, _ = self.decoder(y, initial_state=state)  # d_i = LSTM_dec(y_i, d_{i-1})
        return self._predict(memory, d)[0]  # W_o [d_i; d'_i]

    def decode_step(self, memory, state, previous):
        """One step: logits (B, n_max + 1) and the new state, given the (B,) previous outputs C_{i-1}."""
        y = self.class_embedding(previous_class(previous, self.n_max))
        if self.input_feeding:
            *state, context = state
            y = ops.concatenate([y, context], axis=-1)  # [E[C_{i-1}]; d'_{i-1}]
        d, state = self.decoder.cell(y, state)
        logits, context = self._predict(memory, d[:, None, :])  # as `call`, a sequence of one step
        return logits[:, 0, :], ([*state, context[:, 0, :]] if self.input_feeding else state)

    def _scan(self, memory, state, previous):
        """`decode_step` over the time axis of `previous` (B, T): logits (B, T, n_max + 1)."""
        def step(carry, prev):
            logits, state = self.decode_step(memory, carry[:-1], prev)
            return [*state, logits], [*state, logits]

        # Keras' TensorFlow scan wants the per-step outputs shaped like the carry, so the logits ride in it.
        logits = ops.zeros((ops.shape(previous)[0], self.n_max + 1), dtype=state[0].dtype)
        _, outputs = ops.scan(step, [*state, logits], ops.transpose(previous, (1, 0)))  # time-major
        return ops.transpose(outputs[-1], (1, 0, 2))

    def get_config(self):
        return {**super().get_config(), "units": self.units, "embedding_dim": self.embedding_dim,
                "init_scale": self.init_scale, "n_max": self.n_max, "input_feeding": self.input_feeding}
