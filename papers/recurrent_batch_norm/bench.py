"""Training throughput of our BN-LSTM and of the same layer without normalization beside Keras' own LSTM.

    python -m papers.recurrent_batch_norm.bench [--steps=10] [--rounds=3] [--out=CSV]

All subjects have the `cpu` pixel task's shape (196 steps of one pixel, 100 units, batches of 100) and train on
the same batches in the same process, back to back in each round (common/bench.py). The issue's bar: the BN-LSTM
at most 2x the Keras LSTM's step time, i.e. a ratio of at least 0.5. Ratios go to
results/bench/recurrent_batch_norm.csv.
"""

import keras
import numpy as np
import tensorflow as tf
from absl import app, flags

from common import bench
from papers.recurrent_batch_norm import configs, model

_FLAGS = bench.define_flags(steps=10, rounds=3)
flags.adopt_module_key_flags(bench)


def keras_lstm(config, steps: int) -> keras.Model:
    """What a user would write: Keras' LSTM and a Dense classifier, the same optimiser."""
    net = keras.Sequential([keras.Input((steps, 1)), keras.layers.LSTM(config.units), keras.layers.Dense(10)])
    net.compile(keras.optimizers.RMSprop(config.learning_rate, momentum=config.momentum,
                                         global_clipnorm=config.clip_norm),
                keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return net


def main(argv):
    del argv
    config = configs.get_config("cpu,pixels,bn_lstm")
    steps = config.image_size**2
    rng = np.random.default_rng(0)
    x = rng.random((config.batch_size, steps, 1)).astype("float32")
    y = rng.integers(0, 10, config.batch_size).astype("int32")
    dataset = tf.data.Dataset.from_tensors((x, y)).repeat()
    baseline = "Keras LSTM"
    models = {"BN-LSTM (ours)": model.build(config, steps),
              "LSTM (ours, no BN)": model.build(configs.get_config("cpu,pixels,lstm"), steps),
              baseline: keras_lstm(config, steps)}
    rates = bench.median_rates({name: bench.training_measure(net, dataset, config.batch_size)
                                for name, net in models.items()}, _FLAGS.steps.value, _FLAGS.rounds.value)
    ratios = bench.ratios(rates, baseline)
    rows = [{"model": name, "sequences_per_second": rate, "ratio_to_keras_lstm": ratios[name]}
            for name, rate in rates.items()]
    bench.report(rows, "recurrent_batch_norm", ["model", "sequences_per_second", "ratio_to_keras_lstm"],
                 _FLAGS.out.value, "{:.3f}")


if __name__ == "__main__":
    app.run(main)
