"""Training throughput of our CharRNN beside a plain Keras Sequential LSTM and the machine's matmul peak.

    python -m papers.char_rnn.bench [--steps=30] [--rounds=5] [--out=CSV]

Both models have char-rnn's default shape (2 x 128 LSTM, batches of 50 x 50 characters) and train on the
same batches in the same process, back to back in each of several rounds, after a warm-up (common/bench.py); the
medians over rounds damp the drift of a shared machine. Printed and written to
results/bench/char_rnn.csv as ratios: ours / Sequential, and the model's useful FLOP/s / the measured peak
of a float32 matmul. Absolute numbers drift on shared machines; the ratios are what to compare.
"""

import keras
import numpy as np
import tensorflow as tf
from absl import app, flags

from common import bench
from papers.char_rnn import configs
from papers.char_rnn.model import build_char_rnn

_FLAGS = bench.define_flags(steps=30, rounds=5)
flags.adopt_module_key_flags(bench)
VOCAB = 72  # the Bible's character set


def training_flops_per_step(batch: int, steps: int, units: int, layers: int, vocab: int) -> float:
    """Matmul FLOPs of one training step: forward (4 gates, input + recurrent, softmax layer) x 3 for backward."""
    forward, inputs = 0, vocab
    for _ in range(layers):
        forward += 2 * batch * steps * 4 * units * (inputs + units)
        inputs = units
    forward += 2 * batch * steps * units * vocab
    return 3 * forward


def sequential_baseline(config) -> keras.Model:
    """What a user would write instead: Embedding + Keras LSTM layers + Dense in a Sequential."""
    model = keras.Sequential([keras.Input((config.seq_length,), dtype="int32"),
                              keras.layers.Embedding(VOCAB, VOCAB)]
                             + [keras.layers.LSTM(config.rnn_size, return_sequences=True)
                                for _ in range(config.num_layers)]
                             + [keras.layers.Dense(VOCAB)])
    model.compile(keras.optimizers.RMSprop(config.learning_rate, rho=config.decay_rate, clipvalue=config.grad_clip),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def main(argv):
    del argv
    config = configs.get_config("paper")
    rng = np.random.default_rng(0)
    x, y = (rng.integers(0, VOCAB, size=(config.batch_size, config.seq_length)).astype("int32") for _ in range(2))
    peak = bench.matmul_peak_flops()
    chars = config.batch_size * config.seq_length
    flops_per_char = training_flops_per_step(config.batch_size, config.seq_length, config.rnn_size,
                                             config.num_layers, VOCAB) / chars
    dataset = tf.data.Dataset.from_tensors((x, y)).repeat()
    baseline = "keras.Sequential LSTM"
    models = {"CharRNN (ours, state carried)": build_char_rnn(config, VOCAB, steps_per_epoch=1000),
              baseline: sequential_baseline(config)}
    rates = bench.median_rates({name: bench.training_measure(model, dataset, chars) for name, model in models.items()},
                               _FLAGS.steps.value, _FLAGS.rounds.value)
    ratios = bench.ratios(rates, baseline)
    rows = [{"model": name, "chars_per_second": rate, "ratio_to_sequential": ratios[name],
             "share_of_matmul_peak": rate * flops_per_char / peak, "matmul_peak_gflops": peak / 1e9}
            for name, rate in rates.items()]
    print(f"matmul peak: {peak / 1e9:.1f} GFLOP/s")
    bench.report(rows, "char_rnn", ["model", "chars_per_second", "ratio_to_sequential", "share_of_matmul_peak"],
                 _FLAGS.out.value, "{:.3f}")


if __name__ == "__main__":
    app.run(main)
