"""The deep LSTM encoder-decoder of Sutskever, Vinyals & Le 2014 (Sec. 2 and 3.4).

    p(y_1 .. y_T' | x_1 .. x_T) = prod_t p(y_t | v, y_1 .. y_{t-1})                      eq. 1
    v = the encoder's final states: layer l of the encoder, read over the (reversed) source, ends in (h_l, c_l)
    the decoder's layer l starts from (h_l, c_l) and reads BOS y_1 .. y_{T'-1};  p(y_t | ..) = softmax(W d_t + b)

Two separate LSTM stacks ("two different LSTMs", Sec. 2) of `num_layers` layers, word embeddings of their own,
and a plain softmax over the target vocabulary (the paper's "naive softmax"). Every parameter starts uniform in
[-0.08, 0.08] (Sec. 3.4). The source's padding is masked, so each encoder layer's final state is the state after
the last real word (the pipeline pads after the reversed words: pipeline.py).

The loss is the paper's objective, 1/|S| sum log p(T | S) (Sec. 3.2): the target words' negative log-likelihood
summed over the sentence, padding excluded, averaged over the batch (`SentenceNLL`), so the gradient norm that is
clipped at 5 is the paper's.

The searches (common/beam_search.py) know the model through `encode(source) -> (memory, state)` and
`decode_step(memory, state, previous) -> (logits, state)`, `previous` the (R,) previous words, -1 before the first
(read as BOS). `call` computes the logits of every step at once (teacher forcing).
"""

import keras
from keras import ops

from papers.seq2seq.pipeline import BOS, PAD


def uniform(scale: float) -> keras.initializers.Initializer:
    return keras.initializers.RandomUniform(-scale, scale)


def lstm_stack(num_layers: int, units: int, init_scale: float, name: str) -> list[keras.layers.LSTM]:
    init = uniform(init_scale)
    return [keras.layers.LSTM(units, return_sequences=True, return_state=True, kernel_initializer=init,
                              recurrent_initializer=init, bias_initializer=init, unit_forget_bias=False,
                              name=f"{name}_{i}") for i in range(num_layers)]


@keras.saving.register_keras_serializable(package="seq2seq")
class SentenceNLL(keras.losses.Loss):
    """sum_t -log p(y_t | ..) over a sentence's real target words (PAD = 0 excluded); Keras averages over the batch."""

    def __init__(self, name="sentence_nll", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        nll = keras.losses.sparse_categorical_crossentropy(y_true, y_pred, from_logits=True)
        return ops.sum(nll * ops.cast(ops.not_equal(y_true, PAD), nll.dtype), axis=-1)


def previous_words(previous):
    """A search's previous outputs (R,), -1 before the first, as decoder inputs: BOS there."""
    previous = ops.convert_to_tensor(previous, dtype="int32")
    return ops.where(previous < 0, BOS, previous)


@keras.saving.register_keras_serializable(package="seq2seq")
class DeepLSTMSeq2Seq(keras.Model):
    """{"source": (B, S), "target_in": (B, T)} word ids -> logits (B, T, target_vocab_size)."""

    def __init__(self, source_vocab_size: int, target_vocab_size: int, num_layers: int = 4, units: int = 1000,
                 embedding_dim: int = 1000, init_scale: float = 0.08, **kwargs):
        super().__init__(**kwargs)
        self.source_vocab_size, self.target_vocab_size = source_vocab_size, target_vocab_size
        self.num_layers, self.units, self.embedding_dim, self.init_scale = num_layers, units, embedding_dim, init_scale
        init = uniform(init_scale)
        self.source_embedding = keras.layers.Embedding(source_vocab_size, embedding_dim, embeddings_initializer=init,
                                                       mask_zero=True, name="source_embedding")
        self.target_embedding = keras.layers.Embedding(target_vocab_size, embedding_dim, embeddings_initializer=init,
                                                       name="target_embedding")
        self.encoder = lstm_stack(num_layers, units, init_scale, "encoder")
        self.decoder = lstm_stack(num_layers, units, init_scale, "decoder")
        self.softmax = keras.layers.Dense(target_vocab_size, kernel_initializer=init, bias_initializer=init,
                                          name="softmax")

    def encode(self, source):
        """((), [(h_l, c_l) per layer]): the final state of every encoder layer; no memory (no attention)."""
        x = self.source_embedding(source)
        mask = self.source_embedding.compute_mask(source)
        states = []
        for layer in self.encoder:
            x, h, c = layer(x, mask=mask)
            states.append((h, c))
        return (), states

    def decode(self, states, target_in):
        """Teacher forcing: every step's logits, and the decoder's final states."""
        x = self.target_embedding(target_in)
        finals = []
        for layer, state in zip(self.decoder, states, strict=True):
            x, h, c = layer(x, initial_state=list(state))
            finals.append((h, c))
        return self.softmax(x), finals

    def call(self, inputs):
        _, states = self.encode(inputs["source"])
        return self.decode(states, inputs["target_in"])[0]

    def decode_step(self, memory, state, previous):
        """One step of the decoder for a search: (logits (R, V), the new per-layer states)."""
        x = self.target_embedding(previous_words(previous))
        new_state = []
        for layer, (h, c) in zip(self.decoder, state, strict=True):
            x, (h, c) = layer.cell(x, [h, c])
            new_state.append((h, c))
        return self.softmax(x), new_state

    def get_config(self):
        return {**super().get_config(), "source_vocab_size": self.source_vocab_size,
                "target_vocab_size": self.target_vocab_size, "num_layers": self.num_layers, "units": self.units,
                "embedding_dim": self.embedding_dim, "init_scale": self.init_scale}
