"""Training throughput of the three models of Table 1 and labelling throughput of the exact TSP solver.

    python -m papers.pointer_networks.bench [--steps=20] [--rounds=5] [--out=CSV]

Training: Ptr-Net, LSTM and +Attention at the `cpu` preset's size (256 units, batches of 128, SGD with global
norm clipping) on the same batches (TSP-shaped: n points, n + 1 output steps), at n = 5 and n = 10, beside
what a user would write instead: a Keras functional encoder-decoder of keras.layers.LSTM with the same
sizes (the LSTM row's twin without our subclassing). Every model trains back to back in each of several
rounds after a warm-up (common/bench.py); medians over rounds damp a shared machine's drift. Reported as instances per
second and as the ratio to the functional baseline.

Labelling: our Held-Karp (vectorised over instances and subsets, `solvers.held_karp`) beside the textbook
per-instance dynamic programme over subsets (a Python dict, as the algorithm is usually written), in
instances per second at n = 10. Both give the same optimal lengths, checked here.

Written to results/bench/pointer_networks.csv. Absolute numbers drift on shared machines; compare ratios.
"""

import itertools
import time

import keras
import numpy as np
import tensorflow as tf
from absl import app, flags

from common import bench
from papers.pointer_networks import configs, solvers, train
from papers.pointer_networks.model import SequenceNLL, with_eos
from papers.pointer_networks.tours import pairwise_distances, tour_length

_FLAGS = bench.define_flags(steps=20, rounds=5)
flags.adopt_module_key_flags(bench)
_HK_INSTANCES = flags.DEFINE_integer("held_karp_instances", 20_000, "Instances for our Held-Karp at n = 10.")
_TEXTBOOK_INSTANCES = flags.DEFINE_integer("textbook_instances", 20, "Instances for the textbook Held-Karp.")
MODELS = {"ptr_net": "Ptr-Net", "lstm": "LSTM", "attention": "+Attention"}


def functional_seq2seq(config, n: int) -> keras.Model:
    """The usual Keras encoder-decoder: LSTM(return_state) -> LSTM(initial_state) -> Dense over n + 1 classes."""
    init = keras.initializers.RandomUniform(-config.init_scale, config.init_scale)
    points = keras.Input((n, 2), name="points")
    previous = keras.Input((n + 1,), dtype="int32", name="previous")
    lstm = dict(kernel_initializer=init, recurrent_initializer=init, bias_initializer=init)
    _, h, c = keras.layers.LSTM(config.units, return_state=True, **lstm)(keras.layers.Dense(config.units)(points))
    x = keras.layers.Embedding(n + 2, config.units)(previous)
    d = keras.layers.LSTM(config.units, return_sequences=True, **lstm)(x, initial_state=[h, c])
    model = keras.Model([points, previous], keras.layers.Dense(n + 1)(d))
    model.compile(keras.optimizers.SGD(config.learning_rate, global_clipnorm=config.clip_norm), SequenceNLL())
    return model


def tsp_shaped_batch(batch: int, n: int, eos: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    points = rng.random((batch, n, 2), dtype=np.float32)
    tours = np.stack([rng.permutation(n) for _ in range(batch)])
    return points, with_eos(tours, eos)


def comparison_rows(benchmark: str, rates: dict[str, float], baseline: str) -> list[dict]:
    ratios = bench.ratios(rates, baseline)
    return [{"benchmark": benchmark, "subject": subject, "instances_per_second": rate,
             "ratio_to_baseline": ratios[subject], "baseline": baseline} for subject, rate in rates.items()]


def training_rows(n: int) -> list[dict]:
    config = configs.get_config("cpu")
    config.n_min = config.n_max = config.n_test = n
    models, datasets = {}, {}
    for name, label in MODELS.items():
        config.model = name
        models[label] = train.build_model(config)
        points, targets = tsp_shaped_batch(config.batch_size, n, models[label].eos_index(n))
        datasets[label] = tf.data.Dataset.from_tensors(({"points": points, "targets": targets}, targets)).repeat()
    baseline = "keras functional LSTM encoder-decoder"
    models[baseline] = functional_seq2seq(config, n)
    points, targets = tsp_shaped_batch(config.batch_size, n, n)
    previous = np.concatenate([np.full((len(targets), 1), n + 1), targets[:, :-1]], axis=1)  # n + 1 = start
    datasets[baseline] = tf.data.Dataset.from_tensors(((points, previous), targets)).repeat()
    rates = bench.median_rates({label: bench.training_measure(model, datasets[label], config.batch_size)
                                for label, model in models.items()}, _FLAGS.steps.value, _FLAGS.rounds.value)
    return comparison_rows(f"training, n={n}", rates, baseline)


def textbook_held_karp(distances: np.ndarray) -> float:
    """The optimal tour length of one instance by Held-Karp as usually written: a dict over (subset, end)."""
    n = len(distances)
    cost = {(1 << j, j): distances[0, j] for j in range(1, n)}
    for size in range(2, n):
        for subset in itertools.combinations(range(1, n), size):
            bits = sum(1 << j for j in subset)
            for j in subset:
                rest = bits ^ (1 << j)
                cost[bits, j] = min(cost[rest, k] + distances[k, j] for k in subset if k != j)
    full = sum(1 << j for j in range(1, n))
    return min(cost[full, j] + distances[j, 0] for j in range(1, n))


def held_karp_rows(n: int = 10) -> list[dict]:
    points = np.random.default_rng(1).random((_HK_INSTANCES.value, n, 2))
    solvers.held_karp(points[:100])  # warm-up (plan cache)
    start = time.perf_counter()
    tours = solvers.held_karp(points)
    ours = len(points) / (time.perf_counter() - start)
    few = points[: _TEXTBOOK_INSTANCES.value]
    start = time.perf_counter()
    lengths = [textbook_held_karp(pairwise_distances(p[None])[0]) for p in few]
    textbook = len(few) / (time.perf_counter() - start)
    np.testing.assert_allclose(lengths, tour_length(few, tours[: len(few)]), rtol=1e-9)
    baseline = "textbook Held-Karp (Python dict, one instance at a time)"
    return comparison_rows(f"exact TSP labels, n={n}", {"Held-Karp (ours, vectorised)": ours, baseline: textbook},
                           baseline)


def main(argv):
    del argv
    rows = held_karp_rows() + training_rows(5) + training_rows(10)
    bench.report(rows, "pointer_networks", ["benchmark", "subject", "instances_per_second", "ratio_to_baseline"],
                 _FLAGS.out.value)


if __name__ == "__main__":
    app.run(main)
