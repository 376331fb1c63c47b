"""The three models of Pointer Networks' Table 1 (Vinyals, Fortunato & Jaitly 2015): LSTM, +Attention, Ptr-Net.

All three read a point set P = (P_1 .. P_n), points in the plane, with a single-layer LSTM encoder and emit
an output sequence C = (C_1 .. C_m) with a single-layer LSTM decoder of the same size, one output per step
(Sec. 2.1, "Sequence-to-Sequence Model"):

    p(C | P) = prod_i p(C_i | C_1 .. C_{i-1}, P)

They differ only in what the decoder state d_i predicts (Sec. 2.2 and 2.3; e_j are the encoder states):

    u_j^i = v^T tanh(W1 e_j + W2 d_i)                                   (eq. 3, `ContentAttention`)
    LSTM (`Seq2SeqLSTM`):         p(C_i | ...) = softmax(W_o d_i)        over a fixed dictionary
    +Attention (`AttentionLSTM`): a^i = softmax(u^i), d'_i = sum_j a_j^i e_j,
                                  p(C_i | ...) = softmax(W_o [d_i; d'_i]) over a fixed dictionary
    Ptr-Net (`PointerNet`):       p(C_i | ...) = softmax(u^i)            over the input positions

The fixed dictionary of the two baselines has n_max + 1 classes (the indices 0 .. n_max - 1 and an end of
sequence), set by the largest n the model is built for: the paper's point is that it cannot grow. The
pointer's output grows with the input: n + 1 classes for n points.

Conventions shared by the three models (and by `decoding.py`):

* Output classes: class j < n is input point j (0-based, as the data layer's targets), and the *last* class
  is the end of sequence (EOS): `eos_index(n)` is n for Ptr-Net and n_max for the baselines. `with_eos`
  turns the data layer's -1-padded targets into training targets with EOS.
* Inputs: a dict {"points": (B, n, 2) float, "targets": (B, T) int, "lengths": optional (B,) int}.
  `targets` are output classes padded with -1 (teacher forcing); "lengths" marks the real number of points
  of each instance when a batch mixes sizes (points after it are padding, read by no one: the encoder
  masks them and the attention gives them a logit of -1e9, so probability 0).
* Embedding: the coordinates, moved from the unit square to [-1, 1]^2 (2 P - 1, `centred`), pass through a
  learned linear map (dimension `embedding_dim`, default `units`) before the LSTMs. The paper feeds the
  coordinates; an LSTM's input kernel is linear and the map has a bias, so all three compute the same family
  of functions, but the embedding space gives the learned start vector and EOS state room to differ from
  every point. Centring changes only the optimisation, and it matters: fed [0, 1] coordinates, the LSTM
  baseline sits at the loss of a decoder that ignores its input (4.24 nats on convex hull n = 5) for all of
  25k SGD steps, and Adam does not help; fed 2 P - 1, Adam leaves that plateau within a few hundred steps
  (SGD more slowly; README, "What the runs say").
* Decoder inputs under teacher forcing: at step i the decoder reads the previous output C_{i-1}; at step 0
  (previous = -1) a learned start vector (the paper's "=>" symbol). Ptr-Net reads the *point* it pointed
  to, embedded (Fig. 1b: the decoder's inputs are P_{C_{i-1}}); the baselines read a learned embedding of
  the previous output *class* (their outputs are dictionary symbols, Fig. 1a).
* EOS for Ptr-Net: a learned extra encoder state e_{n+1}, appended after the n encoder states, that the
  pointer can point to. It is a constant vector, but its score v^T tanh(W1 e_{n+1} + W2 d_i) depends on the
  decoder state, so the decoder decides when to stop. (A learned "end" input fed through the encoder would
  have to sit after the padding of a mixed-size batch.)
* The decoder starts from the encoder's final (h, c); with "lengths", the state after the last real point.
* Initialisation (Sec. 4.1): every parameter, biases included, uniform in [-init_scale, init_scale], 0.08.

The per-step interface for decoding: `memory, state = model.encode(points, lengths)`, then
`logits, state = model.decode_step(memory, state, previous)` with `previous` the (B,) previous output
classes (-1 at the first step). `call` computes the same logits for all steps at once.
"""

import keras
import numpy as np
from keras import ops

NEG_INF = -1e9  # the logit of a masked position: exp(-1e9 - max) is exactly 0 in float32


def _uniform(scale: float):
    return keras.initializers.RandomUniform(-scale, scale)


def _point_mask(points, lengths):
    """(B, n) bool: True at the real points, False at padding after `lengths` (all True without lengths)."""
    if lengths is None:
        return ops.ones(ops.shape(points)[:2], dtype="bool")
    positions = ops.arange(ops.shape(points)[1], dtype="int32")[None, :]
    return positions < ops.cast(ops.reshape(lengths, (-1, 1)), "int32")


def centred(points):
    """Points of the unit square moved to [-1, 1]^2: 2 P - 1 (module docstring, "Embedding")."""
    return 2.0 * points - 1.0


def _shift_right(targets):
    """Decoder inputs under teacher forcing: [-1, C_1, .., C_{T-1}] (-1 = the start symbol)."""
    targets = ops.cast(targets, "int32")
    start = -ops.ones_like(targets[:, :1])
    return ops.concatenate([start, targets[:, :-1]], axis=1)


def with_eos(targets, eos: int) -> np.ndarray:
    """Training targets from the data layer's: int32 (N, L + 1), the EOS class after each sequence, then -1.

    `targets` is int (N, L, ...) padded with -1 after each sequence; trailing axes are flattened (Delaunay
    triangles (N, T, 3) become (N, 3T) indices), and EOS takes the place of the first -1.
    """
    targets = np.asarray(targets).reshape(len(targets), -1)
    out = np.full((targets.shape[0], targets.shape[1] + 1), -1, dtype=np.int32)
    lengths = (targets != -1).sum(axis=1)
    for i, length in enumerate(lengths):
        out[i, :length] = targets[i, :length]
        out[i, length] = eos
    return out


@keras.saving.register_keras_serializable(package="pointer_networks")
def sequence_nll(y_true, y_pred):
    """-log p(C | P) of each sequence (B,): the sum over steps of the cross-entropy, skipping -1 targets.

    The paper's objective (Sec. 2.1) is the likelihood of whole sequences; padded steps (target -1) add
    nothing. Keras averages these over the batch.
    """
    targets = ops.cast(y_true, "int32")
    valid = targets >= 0
    log_p = ops.log_softmax(ops.cast(y_pred, "float32"), axis=-1)
    picked = ops.take_along_axis(log_p, ops.where(valid, targets, 0)[..., None], axis=-1)[..., 0]
    return -ops.sum(ops.where(valid, picked, 0.0), axis=-1)


@keras.saving.register_keras_serializable(package="pointer_networks")
class SequenceNLL(keras.losses.Loss):
    """`sequence_nll` as a Keras loss: the mean over the batch of each sequence's negative log-likelihood."""

    def __init__(self, name="sequence_nll", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        return sequence_nll(y_true, y_pred)


@keras.saving.register_keras_serializable(package="pointer_networks")
class ContentAttention(keras.layers.Layer):
    """The paper's eq. 3: u_j^i = v^T tanh(W1 e_j + W2 d_i), with a large negative u_j^i at masked j.

    `project(e)` computes W1 e_j once per input sequence; `call(projected, d, point_mask)` gives u (B, T, n)
    for decoder states d (B, T, units). Softmax over j gives the attention a^i (+Attention) or the
    pointer distribution (Ptr-Net).
    """

    def __init__(self, units: int, init_scale: float = 0.08, **kwargs):
        super().__init__(**kwargs)
        self.units, self.init_scale = units, init_scale

    def build(self, input_shape):
        # input_shape: (encoder state shape, decoder state shape); only their last dimensions matter
        encoder_shape, decoder_shape = input_shape
        init = _uniform(self.init_scale)
        self.w1 = self.add_weight(shape=(encoder_shape[-1], self.units), initializer=init, name="W1")
        self.w2 = self.add_weight(shape=(decoder_shape[-1], self.units), initializer=init, name="W2")
        self.v = self.add_weight(shape=(self.units,), initializer=init, name="v")
        self.built = True

    def project(self, encoder_states):
        return ops.matmul(encoder_states, self.w1)

    def call(self, projected, decoder_states, point_mask):
        query = ops.matmul(decoder_states, self.w2)  # (B, T, units)
        u = ops.sum(ops.tanh(projected[:, None, :, :] + query[:, :, None, :]) * self.v, axis=-1)  # (B, T, n)
        return ops.where(point_mask[:, None, :], u, ops.cast(NEG_INF, u.dtype))

    def get_config(self):
        return {**super().get_config(), "units": self.units, "init_scale": self.init_scale}


class _EncoderDecoder(keras.Model):
    """What the three models share: the point embedding, the LSTM encoder and the LSTM decoder."""

    def __init__(self, units: int = 256, embedding_dim: int | None = None, init_scale: float = 0.08, **kwargs):
        super().__init__(**kwargs)
        self.units, self.init_scale = units, init_scale
        self.embedding_dim = embedding_dim or units
        self.embed = keras.layers.Dense(self.embedding_dim, kernel_initializer=_uniform(init_scale),
                                        bias_initializer=_uniform(init_scale), name="point_embedding")
        self.encoder = self._lstm("encoder")
        self.decoder = self._lstm("decoder")

    def _lstm(self, name):
        init = _uniform(self.init_scale)
        return keras.layers.LSTM(self.units, return_sequences=True, return_state=True, unit_forget_bias=False,
                                 kernel_initializer=init, recurrent_initializer=init, bias_initializer=init,
                                 name=name)

    def _decoder_input_dim(self) -> int:
        return self.embedding_dim

    def build(self, input_shape=None):
        self.embed.build((None, None, 2))
        self.encoder.build((None, None, self.embedding_dim))
        self.decoder.build((None, None, self._decoder_input_dim()))
        self._build_head()
        self.built = True

    def _build_head(self):
        raise NotImplementedError

    @staticmethod
    def _unpack(inputs):
        if isinstance(inputs, dict):
            return inputs["points"], inputs["targets"], inputs.get("lengths")
        points, targets, *rest = inputs
        return points, targets, (rest[0] if rest else None)

    def _encode(self, points, lengths):
        """Embedded points x (B, n, E), encoder states e (B, n, units), the final [h, c], the point mask."""
        points = ops.convert_to_tensor(points, dtype=self.compute_dtype)
        x = self.embed(centred(points))
        mask = _point_mask(points, lengths)
        e, h, c = self.encoder(x, mask=None if lengths is None else mask)
        return x, e, [h, c], mask

    def call(self, inputs, training=None):
        """Teacher forcing: logits (B, T, n_out) of every target class given the previous ones."""
        points, targets, lengths = self._unpack(inputs)
        memory, state = self.encode(points, lengths)
        return self._teacher_forced(memory, state, _shift_right(targets))

    def decode_step(self, memory, state, previous):
        """One decoder step: logits (B, n_out) of C_i and the new state, given the (B,) classes C_{i-1}."""
        x = self._decoder_inputs(memory, ops.cast(ops.convert_to_tensor(previous), "int32"))
        d, state = self.decoder.cell(x, state)
        return self._output_logits(memory, d[:, None, :])[:, 0, :], state

    def _teacher_forced(self, memory, state, previous):
        d, _, _ = self.decoder(self._decoder_inputs(memory, previous), initial_state=state)
        return self._output_logits(memory, d)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "embedding_dim": self.embedding_dim,
                "init_scale": self.init_scale}


@keras.saving.register_keras_serializable(package="pointer_networks")
class Seq2SeqLSTM(_EncoderDecoder):
    """Table 1's "LSTM" (Sutskever et al. 2014): p(C_i | C_<i, P) = softmax(W_o d_i) over n_max + 1 classes.

    The only path from the input to the output is the encoder's final state. The decoder reads a learned
    embedding of the previous output class (n_max + 2 rows: the n_max indices, EOS, and the start symbol).
    Calling it with more than n_max points is an error: its dictionary has no class for them.
    """

    def __init__(self, n_max: int, units: int = 256, embedding_dim: int | None = None, init_scale: float = 0.08,
                 **kwargs):
        super().__init__(units, embedding_dim, init_scale, **kwargs)
        self.n_max = n_max
        self.class_embedding = keras.layers.Embedding(n_max + 2, self.embedding_dim,
                                                      embeddings_initializer=_uniform(init_scale),
                                                      name="class_embedding")
        self.output_layer = keras.layers.Dense(n_max + 1, kernel_initializer=_uniform(init_scale),
                                               bias_initializer=_uniform(init_scale), name="output")

    def eos_index(self, n_points: int) -> int:
        return self.n_max

    def _head_input_dim(self) -> int:
        return self.units

    def _build_head(self):
        self.class_embedding.build((None, None))
        self.output_layer.build((None, None, self._head_input_dim()))

    def encode(self, points, lengths=None):
        points = ops.convert_to_tensor(points, dtype=self.compute_dtype)
        if points.shape[1] is not None and points.shape[1] > self.n_max:
            raise ValueError(f"{type(self).__name__} was built for at most n_max={self.n_max} points; got "
                             f"{points.shape[1]} (its output dictionary cannot grow; that is Ptr-Net's point)")
        _, e, state, mask = self._encode(points, lengths)
        return self._memory(e, mask), state

    def _memory(self, encoder_states, mask):
        return {"mask": mask}

    def _decoder_inputs(self, memory, previous):
        start = self.n_max + 1
        return self.class_embedding(ops.where(previous < 0, start, previous))

    def _output_logits(self, memory, d):
        return self.output_layer(d)

    def get_config(self):
        return {**super().get_config(), "n_max": self.n_max}


@keras.saving.register_keras_serializable(package="pointer_networks")
class AttentionLSTM(Seq2SeqLSTM):
    """Table 1's "+Attention" (Bahdanau et al. 2015 in the paper's eq. 3) over the fixed n_max + 1 dictionary.

    u^i = eq. 3 over the encoder states, a^i = softmax(u^i), d'_i = sum_j a_j^i e_j, and
    p(C_i | C_<i, P) = softmax(W_o [d_i; d'_i]).

    The paper (Sec. 2.2) concatenates d'_i and d_i "and use[s] this as the hidden states from which we make
    predictions and which we feed to the next time step". With `input_feeding=True` (default) the decoder's
    input at step i is [embedding(C_{i-1}); d'_{i-1}] (d'_{-1} = 0), as in the TF attention decoder that the
    authors' group used; training then runs the decoder step by step (`keras.ops.scan`). With
    `input_feeding=False` the context only feeds the prediction, and the decoder runs as one LSTM layer.
    """

    def __init__(self, n_max: int, units: int = 256, embedding_dim: int | None = None, init_scale: float = 0.08,
                 input_feeding: bool = True, **kwargs):
        super().__init__(n_max, units, embedding_dim, init_scale, **kwargs)
        self.input_feeding = input_feeding
        self.attention = ContentAttention(units, init_scale, name="attention")

    def _decoder_input_dim(self) -> int:
        return self.embedding_dim + (self.units if self.input_feeding else 0)

    def _head_input_dim(self) -> int:
        return 2 * self.units

    def _build_head(self):
        super()._build_head()
        self.attention.build(((None, None, self.units), (None, None, self.units)))

    def encode(self, points, lengths=None):
        memory, state = super().encode(points, lengths)
        if self.input_feeding:
            state = [*state, ops.zeros_like(state[0])]  # d'_{-1} = 0
        return memory, state

    def _memory(self, encoder_states, mask):
        return {"mask": mask, "values": encoder_states, "keys": self.attention.project(encoder_states)}

    def attend(self, memory, d):
        """Attention weights a (B, T, n), zero at padded points, and contexts d' (B, T, units) for states d."""
        a = ops.softmax(self.attention(memory["keys"], d, memory["mask"]), axis=-1)
        return a, ops.matmul(a, memory["values"])

    def _predict(self, memory, d):
        _, context = self.attend(memory, d)
        return self.output_layer(ops.concatenate([d, context], axis=-1)), context

    def _output_logits(self, memory, d):
        return self._predict(memory, d)[0]

    def decode_step(self, memory, state, previous):
        if not self.input_feeding:
            return super().decode_step(memory, state, previous)
        h, c, context = state
        x = self._decoder_inputs(memory, ops.cast(ops.convert_to_tensor(previous), "int32"))
        d, (h, c) = self.decoder.cell(ops.concatenate([x, context], axis=-1), [h, c])
        logits, context = self._predict(memory, d[:, None, :])
        return logits[:, 0, :], [h, c, context[:, 0, :]]

    def _teacher_forced(self, memory, state, previous):
        if not self.input_feeding:
            return super()._teacher_forced(memory, state, previous)

        def step(carry, prev):
            logits, state = self.decode_step(memory, carry[:-1], prev)
            return [*state, logits], [*state, logits]

        # Keras' TensorFlow scan wants the per-step outputs shaped like the carry, so the logits ride in it.
        logits = ops.zeros((ops.shape(previous)[0], self.n_max + 1), dtype=state[0].dtype)
        _, outputs = ops.scan(step, [*state, logits], ops.transpose(previous, (1, 0)))  # time-major
        return ops.transpose(outputs[-1], (1, 0, 2))

    def get_config(self):
        return {**super().get_config(), "input_feeding": self.input_feeding}


@keras.saving.register_keras_serializable(package="pointer_networks")
class PointerNet(_EncoderDecoder):
    """Table 1's "Ptr-Net" (Sec. 2.3): p(C_i | C_<i, P) = softmax(u^i), u^i from eq. 3, over the inputs.

    The attention *is* the output: u_j^i scores input position j (j = 1 .. n) and the learned EOS state
    e_{n+1}, so the output has n + 1 classes, EOS last, for any n; no weight depends on n. The decoder
    reads the embedded point it pointed to last (a learned start vector at step 0).
    """

    def __init__(self, units: int = 256, embedding_dim: int | None = None, init_scale: float = 0.08, **kwargs):
        super().__init__(units, embedding_dim, init_scale, **kwargs)
        self.attention = ContentAttention(units, init_scale, name="pointer")

    def eos_index(self, n_points: int) -> int:
        return n_points

    def _build_head(self):
        init = _uniform(self.init_scale)
        self.start = self.add_weight(shape=(self.embedding_dim,), initializer=init, name="start")
        self.eos_state = self.add_weight(shape=(self.units,), initializer=init, name="eos_state")
        self.attention.build(((None, None, self.units), (None, None, self.units)))

    def encode(self, points, lengths=None):
        x, e, state, mask = self._encode(points, lengths)
        batch = ops.shape(x)[0]
        e = ops.concatenate([e, ops.broadcast_to(self.eos_state, (batch, 1, self.units))], axis=1)
        x = ops.concatenate([x, ops.broadcast_to(self.start, (batch, 1, self.embedding_dim))], axis=1)
        mask = ops.concatenate([mask, ops.ones((batch, 1), dtype="bool")], axis=1)
        # "inputs" (B, n + 1, E): the decoder's inputs, indexed by output class (EOS's row is the start vector)
        return {"keys": self.attention.project(e), "inputs": x, "mask": mask}, state

    def _decoder_inputs(self, memory, previous):
        eos = ops.shape(memory["inputs"])[1] - 1
        index = ops.where((previous < 0) | (previous > eos), eos, previous)
        if len(previous.shape) == 1:
            return ops.take_along_axis(memory["inputs"], index[:, None, None], axis=1)[:, 0, :]
        return ops.take_along_axis(memory["inputs"], index[:, :, None], axis=1)

    def _output_logits(self, memory, d):
        return self.attention(memory["keys"], d, memory["mask"])
