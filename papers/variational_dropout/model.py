"""Zaremba et al.'s word-level LSTM language model with three kinds of dropout (Gal & Ghahramani 2016, Table 1).

    e_t = E[w_t] * z_e[w_t]                       word embedding; z_e: word dropout, one draw per word type
    h_t^1 = LSTM^1(e_t * z_x^1, h_{t-1}^1 * z_h^1) each layer's input and recurrent state masked (variational_lstm.py)
    h_t^l = LSTM^l(h_t^{l-1} * z_x^l, h_{t-1}^l * z_h^l)
    p(w_{t+1} | w_{<=t}) = softmax(W_y (h_t^L * z_o) + b_y)

`dropout` picks the masks:
    "none"         no dropout (z = 1);
    "zaremba"      Zaremba et al. 2014: z_x and z_o on the non-recurrent connections only, a fresh draw at every time
                   step (p_input on the embedding and between layers, p_output on the top layer), z_e = z_h = 1;
    "variational"  Gal's: every mask drawn once per sequence and held over its time steps; z_x, z_h a mask per
                   gate (`tied` False) or one for all four gates (`tied` True); z_e drops word types.
At test time the masks are 1 (the standard dropout approximation: inverted dropout scales in training), unless
`masks` are passed: MC dropout (evaluate.py). Init uniform in +-init_scale for every weight, as Zaremba's code.
"""

import keras
from keras import ops

from common.schedules import DecayAfter
from papers.variational_dropout.masks import keep_mask, word_type_mask
from papers.variational_dropout.variational_lstm import VariationalLSTM

DROPOUTS = ("none", "zaremba", "variational")


@keras.saving.register_keras_serializable(package="variational_dropout")
class WordLM(keras.Model):
    """`call(ids)` returns next-word logits; `initial_states` / `return_states` carry [h, c] per layer across calls.

    `carry_batch_size` > 0 trains with truncated backpropagation through time as Zaremba's code: the state at the
    end of one batch of windows starts the next, kept in non-trainable variables so checkpoints hold it.
    """

    def __init__(self, vocab_size: int, units: int, num_layers: int, dropout: str = "none", tied: bool = False,
                 p_embed: float = 0.0, p_input: float = 0.0, p_recurrent: float = 0.0, p_output: float = 0.0,
                 init_scale: float = 0.05, carry_batch_size: int = 0, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        if dropout not in DROPOUTS:
            raise ValueError(f"dropout={dropout!r}: choose one of {DROPOUTS}")
        self.vocab_size, self.units, self.num_layers, self.dropout, self.tied = (vocab_size, units, num_layers,
                                                                                 dropout, tied)
        self.p_embed, self.p_input, self.p_recurrent, self.p_output = p_embed, p_input, p_recurrent, p_output
        self.init_scale, self.carry_batch_size, self.seed = init_scale, carry_batch_size, seed
        init = lambda: keras.initializers.RandomUniform(-init_scale, init_scale)  # noqa: E731
        self.embedding = keras.layers.Embedding(vocab_size, units, embeddings_initializer=init(), name="embedding")
        self.lstms = [VariationalLSTM(units, init_scale, name=f"lstm_{i}") for i in range(num_layers)]
        self.decoder = keras.layers.Dense(vocab_size, kernel_initializer=init(), bias_initializer=init(),
                                          name="decoder")
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        self.embedding.build(input_shape)
        for lstm in self.lstms:
            lstm.build((*input_shape, self.units))
        self.decoder.build((*input_shape, self.units))
        self.carry = [self.add_weight(shape=(self.carry_batch_size, self.units), initializer="zeros",
                                      trainable=False, name=f"carry_{layer}_{part}")
                      for layer in range(self.num_layers if self.carry_batch_size else 0) for part in "hc"]
        self.built = True

    def sample_masks(self, batch_size: int, word_dropout: bool = True, seed=None) -> dict:
        """One draw of Gal's masks for `batch_size` sequences, held over all their steps; `seed` a SeedGenerator
        (default the model's own)."""
        gates = 1 if self.tied else 4
        draw = lambda shape, p: keep_mask(shape, p, seed or self.seed_generator)  # noqa: E731
        return {"embed": draw((batch_size, self.vocab_size), self.p_embed if word_dropout else 0.0),
                "input": [draw((gates, batch_size, self.units), self.p_input) for _ in self.lstms],
                "recurrent": [draw((gates, batch_size, self.units), self.p_recurrent) for _ in self.lstms],
                "output": draw((batch_size, 1, self.units), self.p_output)}

    def _step_dropout(self, x, rate, training):
        """Zaremba's dropout: a fresh mask for every element, so for every time step."""
        mask = keep_mask(ops.shape(x), rate, self.seed_generator) if training else None
        return x if mask is None else x * mask

    def call(self, ids, initial_states=None, masks=None, return_states=False, training=None):
        carry = bool(training) and bool(self.carry) and initial_states is None
        if carry:
            initial_states = [self.carry[2 * layer : 2 * layer + 2] for layer in range(self.num_layers)]
        if initial_states is None:
            initial_states = self.zero_states(ops.shape(ids)[0])
        if masks is None and training and self.dropout == "variational":
            masks = self.sample_masks(ops.shape(ids)[0])
        x = self.embedding(ids)
        if masks is not None and masks["embed"] is not None:
            x = x * word_type_mask(ids, masks["embed"])
        states = []
        for layer, lstm in enumerate(self.lstms):
            if self.dropout == "zaremba":
                x = self._step_dropout(x, self.p_input, training)
            x, h, c = lstm(x, initial_states[layer], input_mask=masks and masks["input"][layer],
                           recurrent_mask=masks and masks["recurrent"][layer])
            states.append([h, c])
        if self.dropout == "zaremba":
            x = self._step_dropout(x, self.p_output, training)
        elif masks is not None and masks["output"] is not None:
            x = x * masks["output"]
        logits = self.decoder(x)
        if carry:
            for variable, state in zip(self.carry, [s for pair in states for s in pair], strict=True):
                variable.assign(ops.stop_gradient(state))
        return (logits, states) if return_states else logits

    def zero_states(self, batch_size):
        zeros = ops.zeros((batch_size, self.units))
        return [[zeros, zeros] for _ in range(self.num_layers)]

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "units": self.units,
                "num_layers": self.num_layers, "dropout": self.dropout, "tied": self.tied, "p_embed": self.p_embed,
                "p_input": self.p_input, "p_recurrent": self.p_recurrent, "p_output": self.p_output,
                "init_scale": self.init_scale, "carry_batch_size": self.carry_batch_size, "seed": self.seed}


def parameter_count(vocab_size: int, units: int, num_layers: int) -> int:
    """Embedding, 4 gates x (input + recurrent + bias) per layer, softmax: medium (650) on PTB's 10k words 19.8M."""
    return vocab_size * units + num_layers * 4 * units * (2 * units + 1) + units * vocab_size + vocab_size


@keras.saving.register_keras_serializable(package="variational_dropout")
def nats_per_window(targets, logits):
    """Zaremba's training loss: the cross-entropy summed over the window's steps (each step's averaged over the
    batch, which Keras does), so the gradient whose norm is clipped has the scale of the authors' code."""
    return ops.sum(keras.losses.sparse_categorical_crossentropy(targets, logits, from_logits=True), axis=-1)


@keras.saving.register_keras_serializable(package="variational_dropout")
def nats_per_word(targets, logits):
    return keras.losses.sparse_categorical_crossentropy(targets, logits, from_logits=True)


def build_word_lm(config, vocab_size: int, steps_per_epoch: int) -> WordLM:
    """The model of `config`, compiled as Zaremba's and Gal's scripts train it: SGD, lr divided by `lr_decay` after
    every epoch past `lr_decay_after`, global gradient-norm clipping, weight decay."""
    model = WordLM(vocab_size, config.units, config.num_layers, config.dropout, config.tied, config.p_embed,
                   config.p_input, config.p_recurrent, config.p_output, config.init_scale,
                   carry_batch_size=config.batch_size, seed=config.seed)
    model.build((config.batch_size, config.seq_length))
    schedule = DecayAfter(config.learning_rate, 1.0 / config.lr_decay, config.lr_decay_after + 1, steps_per_epoch)
    optimizer = keras.optimizers.SGD(schedule, global_clipnorm=config.clip_norm or None,
                                     weight_decay=config.weight_decay or None)
    model.compile(optimizer, nats_per_window, metrics=[keras.metrics.MeanMetricWrapper(nats_per_word, name="nats")])
    return model
