"""Training throughput of our variational LSTM language model beside Keras' own LSTM, with and without dropout.

    python -m papers.variational_dropout.bench [--steps=20] [--rounds=5] [--out=CSV]

All subjects have the `cpu` preset's shape (2 x 256 units, 10,000 words, batches of 20 x 35) and train on the same
batches in the same process, back to back in each round (common/bench.py). The issue's bar: ours with Gal's untied
masks at least 0.9x Keras' LSTM *without* dropout; Keras' `recurrent_dropout` (its own untied masks) is the
comparison a user would reach for. Ratios go to results/bench/variational_dropout.csv.
"""

import keras
import numpy as np
import tensorflow as tf
from absl import app, flags

from common import bench
from papers.variational_dropout import configs
from papers.variational_dropout.model import build_word_lm

_FLAGS = bench.define_flags(steps=20, rounds=5)
flags.adopt_module_key_flags(bench)


def keras_lstm_lm(config, vocab: int, recurrent_dropout: float = 0.0, dropout: float = 0.0) -> keras.Model:
    """What a user would write: Embedding, Keras LSTM layers (their `dropout` / `recurrent_dropout`: per-gate masks
    held over each call's steps), Dense; compiled with the same SGD and clipping."""
    model = keras.Sequential([keras.Input((config.seq_length,), dtype="int32"),
                              keras.layers.Embedding(vocab, config.units)]
                             + [keras.layers.LSTM(config.units, return_sequences=True, dropout=dropout,
                                                  recurrent_dropout=recurrent_dropout)
                                for _ in range(config.num_layers)]
                             + [keras.layers.Dense(vocab)])
    model.compile(keras.optimizers.SGD(1.0, global_clipnorm=config.clip_norm),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def main(argv):
    del argv
    config = configs.get_config("cpu")
    vocab = config.vocab_size
    rng = np.random.default_rng(0)
    x, y = (rng.integers(0, vocab, size=(config.batch_size, config.seq_length)).astype("int32") for _ in range(2))
    dataset = tf.data.Dataset.from_tensors((x, y)).repeat()
    words = config.batch_size * config.seq_length
    baseline = "Keras LSTM, no dropout"
    models = {"ours, variational (untied)": build_word_lm(configs.get_config("cpu,variational"), vocab, 1000),
              "ours, variational (tied)": build_word_lm(configs.get_config("cpu,variational_tied"), vocab, 1000),
              "ours, no dropout": build_word_lm(configs.get_config("cpu,none"), vocab, 1000),
              baseline: keras_lstm_lm(config, vocab),
              "Keras LSTM, dropout + recurrent_dropout": keras_lstm_lm(config, vocab, config.p_recurrent,
                                                                        config.p_input)}
    rates = bench.median_rates({name: bench.training_measure(model, dataset, words) for name, model in models.items()},
                               _FLAGS.steps.value, _FLAGS.rounds.value)
    ratios = bench.ratios(rates, baseline)
    rows = [{"model": name, "words_per_second": rate, "ratio_to_keras_lstm": ratios[name]}
            for name, rate in rates.items()]
    bench.report(rows, "variational_dropout", ["model", "words_per_second", "ratio_to_keras_lstm"],
                 _FLAGS.out.value, "{:.3f}")


if __name__ == "__main__":
    app.run(main)
