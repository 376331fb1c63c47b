"""Training throughput of our CharRNN beside a plain Keras Sequential LSTM and the machine's matmul peak.

    python -m papers.char_rnn.bench [--steps=30]

Both models have char-rnn's default shape (2 x 128 LSTM, batches of 50 x 50 characters) and train on the
same batches in the same process, back to back in each of several rounds, after a warm-up; the medians
over rounds damp the drift of a shared machine. Printed and written to
results/bench/char_rnn.csv as ratios: ours / Sequential, and the model's useful FLOP/s / the measured peak
of a float32 matmul. Absolute numbers drift on shared machines; the ratios are what to compare.
"""

import time

import keras
import numpy as np
import pandas as pd
import tensorflow as tf
from absl import app, flags

from common import results
from papers.char_rnn import configs
from papers.char_rnn.model import build_char_rnn

_STEPS = flags.DEFINE_integer("steps", 30, "Timed training steps per model and round.")
_ROUNDS = flags.DEFINE_integer("rounds", 5, "Rounds; each times both models back to back, medians are reported.")
VOCAB = 72  # the Bible's character set


def matmul_peak_flops(n: int = 1024, repeats: int = 20) -> float:
    """Measured float32 matmul FLOP/s on this machine (n x n by n x n)."""
    a = tf.random.normal((n, n))
    matmul = tf.function(lambda x: tf.linalg.matmul(x, x))
    matmul(a).numpy()
    start = time.perf_counter()
    for _ in range(repeats):
        out = matmul(a)
    out.numpy()
    return 2 * n**3 * repeats / (time.perf_counter() - start)


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


def steps_per_second(model: keras.Model, dataset: tf.data.Dataset, steps: int) -> float:
    start = time.perf_counter()
    model.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False)
    return steps / (time.perf_counter() - start)


def main(argv):
    del argv
    config = configs.get_config("paper")
    rng = np.random.default_rng(0)
    x, y = (rng.integers(0, VOCAB, size=(config.batch_size, config.seq_length)).astype("int32") for _ in range(2))
    peak = matmul_peak_flops()
    flops = training_flops_per_step(config.batch_size, config.seq_length, config.rnn_size, config.num_layers, VOCAB)
    dataset = tf.data.Dataset.from_tensors((x, y)).repeat()
    models = {"ours": build_char_rnn(config, VOCAB, steps_per_epoch=1000), "baseline": sequential_baseline(config)}
    rates = {name: [] for name in models}
    for model in models.values():
        steps_per_second(model, dataset, 5)  # trace and warm up
    for _ in range(_ROUNDS.value):
        for name, model in models.items():
            rates[name].append(steps_per_second(model, dataset, _STEPS.value))
    ours, baseline = (float(np.median(rates[name])) for name in models)
    chars = config.batch_size * config.seq_length
    rows = [
        {"model": "CharRNN (ours, state carried)", "chars_per_second": ours * chars,
         "ratio_to_sequential": ours / baseline, "share_of_matmul_peak": ours * flops / peak},
        {"model": "keras.Sequential LSTM", "chars_per_second": baseline * chars,
         "ratio_to_sequential": 1.0, "share_of_matmul_peak": baseline * flops / peak},
    ]
    table = pd.DataFrame(rows).assign(matmul_peak_gflops=peak / 1e9)
    print(table[["model", "chars_per_second", "ratio_to_sequential", "share_of_matmul_peak"]]
          .to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"matmul peak: {peak / 1e9:.1f} GFLOP/s")
    results.write_bench(table, "char_rnn")


if __name__ == "__main__":
    app.run(main)
