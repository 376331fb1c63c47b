"""Pointer Networks' Ptr-Net (Vinyals, Fortunato & Jaitly 2015, Sec. 2.3) and the parts all three models share.

Each model of Table 1 reads a point set P = (P_1 .. P_n), points in the plane, with a single-layer LSTM encoder and
emits an output sequence C = (C_1 .. C_m) with a single-layer LSTM decoder of the same size (Sec. 2.1):

    p(C | P) = prod_i p(C_i | C_1 .. C_{i-1}, P)                  eq. 1 (`sequence_nll` is its negative log)
    x_j = W_x (2 P_j - 1) + b_x,   e_j = LSTM_enc(x_j, e_{j-1})   the encoder (`encode_points`)
    d_i = LSTM_dec(y_i, d_{i-1}),  d_0 = e_n                      the decoder; y_i stands for C_{i-1}
    u^i_j = v^T tanh(W1 e_j + W2 d_i)                             eq. 3 (`common.attention.ContentAttention`)

and they differ in what d_i predicts:

    Ptr-Net (`PointerNet`, below):     p(C_i | C_<i, P) = softmax(u^i)                over the n inputs and EOS
    LSTM (`Seq2SeqLSTM`):              p(C_i | C_<i, P) = softmax(W_o d_i)            over a fixed dictionary
    +Attention (`AttentionLSTM`):      a^i = softmax(u^i), d'_i = sum_j a^i_j e_j,
                                       p(C_i | C_<i, P) = softmax(W_o [d_i; d'_i])    over a fixed dictionary

The baselines live in `baseline_models.py`. Their dictionary has n_max + 1 classes (the indices 0 .. n_max - 1 and
an end of sequence), set by the largest n the model is built for: the paper's point is that it cannot grow. The
pointer's output grows with the input: n + 1 classes for n points.

Conventions shared by the three models (and by the searches, `constraints.py` and `common/beam_search.py`):

* Output classes: class j < n is input point j (0-based, as the data layer's targets), and the *last* class is the
  end of sequence (EOS): `eos_index(n)` is n for Ptr-Net and n_max for the baselines. `with_eos` turns the data
  layer's -1-padded targets into training targets with EOS.
* Inputs: a dict {"points": (B, n, 2) float, "targets": (B, T) int, "lengths": optional (B,) int}. `targets` are
  output classes padded with -1 (teacher forcing); "lengths" marks the real number of points of each instance when
  a batch mixes sizes (points after it are padding, read by no one: the encoder masks them and eq. 3 gives them a
  logit of -1e9, so probability 0).
* Embedding: the coordinates, moved from the unit square to [-1, 1]^2 (2 P - 1, `centred`), pass through a learned
  linear map (dimension `embedding_dim`, default `units`) before the LSTMs. The paper feeds the coordinates; an
  LSTM's input kernel is linear and the map has a bias, so all three compute the same family of functions, but the
  embedding space gives the learned start vector and EOS state room to differ from every point. Centring changes
  only the optimisation, and it matters: fed [0, 1] coordinates, the LSTM baseline sits at the loss of a decoder
  that ignores its input (4.24 nats on convex hull n = 5) for all of 25k SGD steps, and Adam does not help; fed
  2 P - 1, Adam leaves that plateau within a few hundred steps (SGD more slowly; NOTES.md).
* Decoder inputs y_i under teacher forcing: the previous output C_{i-1}; at the first step (previous = -1) a learned
  start vector (the paper's "=>" symbol). Ptr-Net reads the *point* it pointed to, embedded (Fig. 1b: the decoder's
  inputs are P_{C_{i-1}}); the baselines read a learned embedding of the previous output *class* (Fig. 1a).
* The decoder starts from the encoder's final (h, c); with "lengths", the state after the last real point.
* Initialisation (Sec. 4.1): every parameter, biases included, uniform in [-init_scale, init_scale], 0.08.

The per-step interface of all three, used by the searches: `memory, state = model.encode(points, lengths)`, then
`logits, state = model.decode_step(memory, state, previous)` with `previous` the (B,) previous output classes (-1 at
the first step). `call` computes the same logits for all steps at once (teacher forcing).
"""

import keras
import numpy as np
from keras import ops

from common.attention import ContentAttention

# --- inputs, targets and the loss ---------------------------------------------------------------------------------

def centred(points):
    """Points of the unit square moved to [-1, 1]^2: 2 P - 1 (module docstring, "Embedding")."""
    return 2.0 * points - 1.0


def point_mask(points, lengths):
    """(B, n) bool: True at the real points, False at padding after `lengths` (all True without lengths)."""
    if lengths is None:
        return ops.ones(ops.shape(points)[:2], dtype="bool")
    positions = ops.arange(ops.shape(points)[1], dtype="int32")[None, :]
    return positions < ops.cast(ops.reshape(lengths, (-1, 1)), "int32")


def unpack_inputs(inputs):
    """(points, targets, lengths or None) from the models' input dict (or a tuple in that order)."""
    if isinstance(inputs, dict):
        return inputs["points"], inputs["targets"], inputs.get("lengths")
    points, targets, *rest = inputs
    return points, targets, (rest[0] if rest else None)


def shift_right(targets):
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


def sequence_log_prob(model, points, sequences, lengths=None, eos=True) -> np.ndarray:
    """log p(C | P) (B,) of given index sequences (int, padded with -1) by teacher forcing, in float64.

    `eos` (a bool, or one per sequence): whether the EOS class after the sequence counts too, as for the
    sequences a search stopped at EOS; not for tours, nor for sequences cut at their maximum length.
    """
    sequences = np.asarray(sequences).reshape(len(sequences), -1)
    points = np.asarray(points, dtype=np.float32)
    eos = np.broadcast_to(np.asarray(eos, dtype=bool), (len(sequences),))
    targets = np.full((len(sequences), sequences.shape[1] + 1), -1, dtype=np.int32)
    for i, row in enumerate(sequences):
        row = row[row != -1]
        targets[i, : len(row)] = row
        if eos[i]:
            targets[i, len(row)] = model.eos_index(points.shape[1])
    inputs = {"points": points, "targets": targets}
    if lengths is not None:
        inputs["lengths"] = np.asarray(lengths, dtype=np.int32)
    logits = np.asarray(ops.convert_to_numpy(model(inputs)), dtype=np.float64)
    log_p = logits - logits.max(axis=-1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(axis=-1, keepdims=True))
    picked = np.take_along_axis(log_p, np.maximum(targets, 0)[..., None], axis=-1)[..., 0]
    return np.where(targets != -1, picked, 0.0).sum(axis=1)


# --- the building blocks ------------------------------------------------------------------------------------------

def uniform(scale: float):
    """The paper's initialiser (Sec. 4.1): uniform in [-scale, scale].

    Keras draws an unseeded initialiser's seed when the instance is made, so which weights share an instance and
    the order instances are made fix the initial values; both are kept as they were, so that seeds reproduce.
    """
    return keras.initializers.RandomUniform(-scale, scale)


def lstm(units: int, init_scale: float, name: str) -> keras.layers.LSTM:
    """The paper's single-layer LSTM (encoder or decoder), every parameter uniform in [-init_scale, init_scale]."""
    init = uniform(init_scale)
    return keras.layers.LSTM(units, return_sequences=True, return_state=True, unit_forget_bias=False,
                             kernel_initializer=init, recurrent_initializer=init, bias_initializer=init, name=name)


def point_embedding(embedding_dim: int, init_scale: float) -> keras.layers.Dense:
    """x_j = W_x (2 P_j - 1) + b_x (module docstring, "Embedding")."""
    return keras.layers.Dense(embedding_dim, kernel_initializer=uniform(init_scale),
                              bias_initializer=uniform(init_scale), name="point_embedding")


def encode_points(embed, encoder, points, lengths=None):
    """The encoder all three models share: x_j = W_x (2 P_j - 1) + b_x, e_1 .. e_n = LSTM_enc(x_1 .. x_n).

    Returns the embedded points x (B, n, E), the encoder states e (B, n, units), the final state [h, c] (after
    the last real point with `lengths`), and the point mask (B, n).
    """
    points = ops.convert_to_tensor(points, dtype=embed.compute_dtype)
    x = embed(centred(points))
    mask = point_mask(points, lengths)
    e, h, c = encoder(x, mask=None if lengths is None else mask)
    return x, e, [h, c], mask


# ContentAttention (eq. 3) is common/attention.py's, shared with seq2seq's Bahdanau model. It was registered here as
# "pointer_networks>ContentAttention": that name still resolves to it. (Saved models of this paper never name it:
# their config is the model's own, and its weights load by attribute path.)
keras.saving.get_custom_objects()["pointer_networks>ContentAttention"] = ContentAttention


# --- Ptr-Net ------------------------------------------------------------------------------------------------------

@keras.saving.register_keras_serializable(package="pointer_networks")
class PointerNet(keras.Model):
    """Table 1's "Ptr-Net" (Sec. 2.3): the attention of eq. 3 *is* the output.

        e_1 .. e_n, (h, c)  = encoder(P)                 e_{n+1} = a learned EOS state
        d_i                 = LSTM_dec(x_{C_{i-1}}, d_{i-1}),   x_{C_0} = a learned start vector
        u^i_j               = v^T tanh(W1 e_j + W2 d_i)         j = 1 .. n + 1
        p(C_i | C_<i, P)    = softmax(u^i)

    The output has n + 1 classes, EOS last, for any n; no weight depends on n. EOS is the extra encoder state
    e_{n+1}, appended after the n encoder states: a constant vector, but its score depends on d_i, so the decoder
    decides when to stop. (A learned "end" input fed through the encoder would have to sit after the padding of a
    mixed-size batch.) The decoder reads the embedded point it pointed to last (Fig. 1b).
    """

    def __init__(self, units: int = 256, embedding_dim: int | None = None, init_scale: float = 0.08, **kwargs):
        super().__init__(**kwargs)
        self.units, self.init_scale = units, init_scale
        self.embedding_dim = embedding_dim or units
        # creation order = the order of the saved weights (checkpoints of earlier versions load unchanged)
        self.embed = point_embedding(self.embedding_dim, init_scale)
        self.encoder = lstm(units, init_scale, "encoder")
        self.decoder = lstm(units, init_scale, "decoder")
        self.attention = ContentAttention(units, init_scale, name="pointer")

    def build(self, input_shape=None):
        init = uniform(self.init_scale)
        self.embed.build((None, None, 2))
        self.encoder.build((None, None, self.embedding_dim))
        self.decoder.build((None, None, self.embedding_dim))
        self.start = self.add_weight(shape=(self.embedding_dim,), initializer=init, name="start")
        self.eos_state = self.add_weight(shape=(self.units,), initializer=init, name="eos_state")
        self.attention.build(((None, None, self.units), (None, None, self.units)))
        self.built = True

    def eos_index(self, n_points: int) -> int:
        return n_points

    def encode(self, points, lengths=None):
        """memory: W1 e_j (j = 1 .. n + 1), the decoder's inputs by class, the mask; state: the encoder's (h, c)."""
        x, e, state, mask = encode_points(self.embed, self.encoder, points, lengths)
        batch = ops.shape(x)[0]
        e = ops.concatenate([e, ops.broadcast_to(self.eos_state, (batch, 1, self.units))], axis=1)  # e_{n+1}
        x = ops.concatenate([x, ops.broadcast_to(self.start, (batch, 1, self.embedding_dim))], axis=1)
        mask = ops.concatenate([mask, ops.ones((batch, 1), dtype="bool")], axis=1)
        # "inputs" (B, n + 1, E): the decoder's inputs, indexed by output class (EOS's row is the start vector)
        return {"keys": self.attention.project(e), "inputs": x, "mask": mask}, state

    def decoder_inputs(self, memory, previous):
        """x_{C_{i-1}}: the embedded point of class `previous` ((B,) or (B, T)); the start vector for -1 (or EOS)."""
        previous = ops.cast(ops.convert_to_tensor(previous), "int32")
        eos = ops.shape(memory["inputs"])[1] - 1
        index = ops.where((previous < 0) | (previous > eos), eos, previous)
        if len(previous.shape) == 1:
            return ops.take_along_axis(memory["inputs"], index[:, None, None], axis=1)[:, 0, :]
        return ops.take_along_axis(memory["inputs"], index[:, :, None], axis=1)

    def call(self, inputs, training=None):
        """Teacher forcing: the logits u^i (B, T, n + 1) of every step given the true previous outputs."""
        points, targets, lengths = unpack_inputs(inputs)
        memory, state = self.encode(points, lengths)
        d, _, _ = self.decoder(self.decoder_inputs(memory, shift_right(targets)), initial_state=state)
        return self.attention(memory["keys"], d, memory["mask"])  # u^i_j = v^T tanh(W1 e_j + W2 d_i)

    def decode_step(self, memory, state, previous):
        """One step: the logits u^i (B, n + 1) and the new state, given the (B,) previous outputs C_{i-1}."""
        d, state = self.decoder.cell(self.decoder_inputs(memory, previous), state)
        u = self.attention(memory["keys"], d[:, None, :], memory["mask"])  # as `call`, a sequence of one step
        return u[:, 0, :], state

    def get_config(self):
        return {**super().get_config(), "units": self.units, "embedding_dim": self.embedding_dim,
                "init_scale": self.init_scale}
