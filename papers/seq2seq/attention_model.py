"""The attention model of Bahdanau, Cho & Bengio 2014 (Sec. 3 and Appendix A), the row beside the deep LSTM.

    h_j = [->h_j ; <-h_j]                      a bidirectional encoder over the source, in its natural order
    s_0 = tanh(W_s <-h_1)                      App. A.2.2: the decoder starts from the backward encoder's end
    e_ij = v^T tanh(W_a s_{i-1} + U_a h_j)     eq. 6, additive attention (common/attention.py)
    a_ij = softmax_j(e_ij),  c_i = sum_j a_ij h_j                                   eq. 5
    s_i = f(s_{i-1}, y_{i-1}, c_i)             eq. 4: an LSTM reading [E y_{i-1} ; c_i] (the paper's f is a GRU)
    t_i = maxout(U_o s_i + V_o E y_{i-1} + C_o c_i),  p(y_i | ..) = softmax(W_o t_i)  eq. 4's g, a deep output

Only s_i's recurrence runs step by step (common/recurrence.scan); the readout of all steps is one product after it.
Sizes, initialisation, loss, training and searches are the deep LSTM's (model.py), so the two rows differ only in
the model. README "Deviations": LSTM instead of GRU units; the readout reads s_i (eq. 4) where App. A writes s_{i-1}.
"""

import keras
from keras import ops

from common import recurrence
from common.attention import ContentAttention
from papers.seq2seq.model import previous_words, uniform
from papers.seq2seq.pipeline import PAD


@keras.saving.register_keras_serializable(package="seq2seq")
class AttentionSeq2Seq(keras.Model):
    """{"source": (B, S), "target_in": (B, T)} word ids -> logits (B, T, target_vocab_size)."""

    def __init__(self, source_vocab_size: int, target_vocab_size: int, units: int = 1000, embedding_dim: int = 1000,
                 attention_units: int = 1000, init_scale: float = 0.08, **kwargs):
        super().__init__(**kwargs)
        self.source_vocab_size, self.target_vocab_size = source_vocab_size, target_vocab_size
        self.units, self.embedding_dim, self.attention_units = units, embedding_dim, attention_units
        self.init_scale = init_scale
        init = uniform(init_scale)
        dense = dict(kernel_initializer=init, bias_initializer=init)
        self.source_embedding = keras.layers.Embedding(source_vocab_size, embedding_dim, embeddings_initializer=init,
                                                       mask_zero=True, name="source_embedding")
        self.target_embedding = keras.layers.Embedding(target_vocab_size, embedding_dim, embeddings_initializer=init,
                                                       name="target_embedding")
        self.encoder = keras.layers.Bidirectional(keras.layers.LSTM(
            units, return_sequences=True, return_state=True, kernel_initializer=init, recurrent_initializer=init,
            bias_initializer=init, unit_forget_bias=False), name="encoder")
        self.initial_state = keras.layers.Dense(units, activation="tanh", name="initial_state", **dense)  # W_s
        self.attention = ContentAttention(attention_units, init_scale, name="attention")
        self.cell = keras.layers.LSTMCell(units, kernel_initializer=init, recurrent_initializer=init,
                                          bias_initializer=init, unit_forget_bias=False, name="decoder")
        self.readout = keras.layers.Dense(2 * units, name="readout", **dense)  # U_o, V_o, C_o as one product
        self.softmax = keras.layers.Dense(target_vocab_size, name="softmax", **dense)  # W_o

    def encode(self, source):
        """((h_j (B, S, 2 units), U_a h_j, source mask), (s_0, cell state 0))."""
        mask = ops.not_equal(source, PAD)
        annotations, _, _, backward_h, _ = self.encoder(self.source_embedding(source), mask=mask)
        s = self.initial_state(backward_h)
        return (annotations, self.attention.project(annotations), mask), (s, ops.zeros_like(s))

    def _recur(self, memory, state, embedded):
        """One step of eqs. 4-6: (s_i, cell state, c_i) from (s_{i-1}, cell state) and E y_{i-1} (B, E)."""
        annotations, projected, mask = memory
        s, cell_state = state
        scores = self.attention(projected, s[:, None, :], mask)[:, 0]  # e_i. (B, S)
        context = ops.sum(ops.softmax(scores, axis=-1)[:, :, None] * annotations, axis=1)  # c_i
        s, (s, cell_state) = self.cell(ops.concatenate([embedded, context], axis=-1), [s, cell_state])
        return s, cell_state, context

    def _logits(self, s, embedded, context):
        t = self.readout(ops.concatenate([s, embedded, context], axis=-1))
        t = ops.max(ops.reshape(t, (*ops.shape(t)[:-1], self.units, 2)), axis=-1)  # maxout over pairs
        return self.softmax(t)

    def call(self, inputs):
        memory, state = self.encode(inputs["source"])
        embedded = self.target_embedding(inputs["target_in"])  # (B, T, E)

        def step(carry, embedded_t):
            s, cell_state, context = self._recur(memory, carry, embedded_t)
            return (s, cell_state), (s, context)

        _, (s, context) = recurrence.scan(step, state, ops.transpose(embedded, (1, 0, 2)))
        s, context = ops.transpose(s, (1, 0, 2)), ops.transpose(context, (1, 0, 2))
        return self._logits(s, embedded, context)

    def decode_step(self, memory, state, previous):
        embedded = self.target_embedding(previous_words(previous))
        s, cell_state, context = self._recur(memory, state, embedded)
        return self._logits(s, embedded, context), (s, cell_state)

    def get_config(self):
        return {**super().get_config(), "source_vocab_size": self.source_vocab_size,
                "target_vocab_size": self.target_vocab_size, "units": self.units,
                "embedding_dim": self.embedding_dim, "attention_units": self.attention_units,
                "init_scale": self.init_scale}
