"""Karpathy's char-rnn (2015): one-hot characters -> stacked LSTMs -> affine -> softmax over characters.

For every time step t and layer l (char-rnn's LSTM.lua, the standard LSTM of Graves 2013):

    i, f, o = sigmoid(W_x x_t + W_h h_{t-1} + b)      input, forget and output gates
    g       = tanh(W_x x_t + W_h h_{t-1} + b)         candidate cell
    c_t     = f * c_{t-1} + i * g,   h_t = o * tanh(c_t)
    p(x_{t+1} | x_{<=t}) = softmax(W_y h_t^L + b_y)

Initialisation as char-rnn: every weight uniform in [-0.08, 0.08], forget-gate bias 1. Dropout (0 by
default) acts on the input of every LSTM layer but the first and on the top layer's output, as in
char-rnn's LSTM.lua.
"""

import math

import keras
from keras import ops

from common.layers import OneHot
from common.schedules import DecayAfter


@keras.saving.register_keras_serializable(package="char_rnn")
class CharRNN(keras.Model):
    """Multi-layer LSTM language model over characters; `call` returns next-character logits.

    With `return_states=True` it also returns the final [h, c] of every layer, and `initial_states`
    continues from them: evaluation and sampling carry the state across chunks of text.

    `carry_batch_size` > 0 trains as char-rnn does (truncated backpropagation through time): every
    training batch holds that many contiguous streams of text, and the state at the end of one batch
    is the initial state of the next. The carried state lives in non-trainable variables, so it is
    saved in checkpoints and a resumed run continues with it.
    """

    def __init__(self, vocab_size: int, rnn_size: int, num_layers: int, dropout: float = 0.0,
                 init_scale: float = 0.08, carry_batch_size: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.rnn_size, self.num_layers = vocab_size, rnn_size, num_layers
        self.dropout, self.init_scale, self.carry_batch_size = dropout, init_scale, carry_batch_size
        init = lambda: keras.initializers.RandomUniform(-init_scale, init_scale)  # noqa: E731
        self.one_hot = OneHot(vocab_size)
        self.lstms = [
            keras.layers.LSTM(rnn_size, return_sequences=True, return_state=True, unit_forget_bias=True,
                              kernel_initializer=init(), recurrent_initializer=init(), name=f"lstm_{i}")
            for i in range(num_layers)
        ]
        self.drop = keras.layers.Dropout(dropout)
        self.decoder = keras.layers.Dense(vocab_size, kernel_initializer=init(), bias_initializer=init(),
                                          name="decoder")

    def build(self, input_shape):
        features = (*input_shape, self.vocab_size)
        for lstm in self.lstms:
            lstm.build(features)
            features = (*input_shape, self.rnn_size)
        self.decoder.build(features)
        # h and c of every layer, carried from one training batch to the next (empty without TBPTT).
        self.carry = [
            self.add_weight(shape=(self.carry_batch_size, self.rnn_size), initializer="zeros",
                            trainable=False, name=f"carry_{layer}_{part}")
            for layer in range(self.num_layers if self.carry_batch_size else 0) for part in "hc"
        ]
        self.built = True

    def call(self, ids, initial_states=None, return_states=False, training=None):
        carry = bool(training) and bool(self.carry) and initial_states is None
        if carry:
            initial_states = [self.carry[2 * layer : 2 * layer + 2] for layer in range(self.num_layers)]
        x = self.one_hot(ids)
        states = []
        for layer, lstm in enumerate(self.lstms):
            if layer > 0:
                x = self.drop(x, training=training)
            initial = None if initial_states is None else initial_states[layer]
            x, h, c = lstm(x, initial_state=initial, training=training)
            states.append([h, c])
        x = self.drop(x, training=training)
        logits = self.decoder(x)
        if carry:
            for variable, state in zip(self.carry, [s for pair in states for s in pair], strict=True):
                variable.assign(ops.stop_gradient(state))
        return (logits, states) if return_states else logits

    def zero_states(self, batch_size: int):
        zeros = ops.zeros((batch_size, self.rnn_size))
        return [[zeros, zeros] for _ in range(self.num_layers)]

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "rnn_size": self.rnn_size,
                "num_layers": self.num_layers, "dropout": self.dropout, "init_scale": self.init_scale,
                "carry_batch_size": self.carry_batch_size}


def lstm_parameter_count(vocab_size: int, rnn_size: int, num_layers: int) -> int:
    """4 gates x (input + recurrent + bias) per layer, plus the softmax layer."""
    count, inputs = 0, vocab_size
    for _ in range(num_layers):
        count += 4 * rnn_size * (inputs + rnn_size + 1)
        inputs = rnn_size
    return count + rnn_size * vocab_size + vocab_size


# Checkpoints written before these moved to common/ name them char_rnn>DecayAfter and char_rnn>OneHot.
keras.saving.get_custom_objects().update({"char_rnn>DecayAfter": DecayAfter, "char_rnn>OneHot": OneHot})


@keras.saving.register_keras_serializable(package="char_rnn")
def nats_per_window(targets, logits):
    """char-rnn's training loss: the cross-entropy summed over the window's seq_length steps (train.lua adds every
    step's criterion, each averaged over the batch, and divides by seq_length only to print it), so the gradient
    that the element-wise clip at 5 sees has char-rnn's scale; Keras averages this over the batch."""
    return ops.sum(keras.losses.sparse_categorical_crossentropy(targets, logits, from_logits=True), axis=-1)


@keras.saving.register_keras_serializable(package="char_rnn")
def bits_per_character(targets, logits):
    """Cross-entropy in bits: -log2 p(x_{t+1} | x_{<=t})."""
    nats = keras.losses.sparse_categorical_crossentropy(targets, logits, from_logits=True)
    return nats / math.log(2.0)


def build_char_rnn(config, vocab_size: int, steps_per_epoch: int) -> CharRNN:
    """The model compiled with char-rnn's loss and optimiser: RMSprop, element-wise gradient clipping."""
    model = CharRNN(vocab_size, config.rnn_size, config.num_layers, config.dropout, config.init_scale,
                    carry_batch_size=config.batch_size if config.carry_state else 0)
    model.build((None, None))
    schedule = DecayAfter(config.learning_rate, config.learning_rate_decay,
                          config.learning_rate_decay_after, steps_per_epoch)
    # Torch's optim.rmsprop divides by sqrt(v) + epsilon, Keras by sqrt(v + epsilon): epsilon squared inside the
    # root is Torch's epsilon outside it, to within epsilon.
    optimizer = keras.optimizers.RMSprop(schedule, rho=config.decay_rate, epsilon=config.rmsprop_epsilon ** 2,
                                         clipvalue=config.grad_clip or None)
    model.compile(optimizer, nats_per_window,
                  metrics=[keras.metrics.MeanMetricWrapper(bits_per_character, name="bpc")])
    return model
