"""The timing harness of the benchmarks (`make bench`, papers/*/bench.py); DESIGN.md "Speed".

A benchmark times its subjects (ours, and what a user would pick instead) back to back in each of several rounds
after one warm-up pass, and reports the median over rounds (it damps a shared machine's drift) as ratios: to the
baseline, and of useful FLOP/s to the machine's measured matmul peak. Absolute numbers drift; compare ratios.
Each paper keeps its own subjects, FLOP counts and rows; tables go to results/bench/<paper>.csv.
"""

import functools
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import keras
import numpy as np
import pandas as pd
import tensorflow as tf
from absl import flags

from common import results


class BenchFlags(NamedTuple):
    steps: flags.FlagHolder
    rounds: flags.FlagHolder
    out: flags.FlagHolder


def define_flags(steps: int, rounds: int) -> BenchFlags:
    """--steps, --rounds and --out with the benchmark's defaults; call once, at the top of a paper's bench.py, and
    `flags.adopt_module_key_flags(bench)` there so that --help lists them."""
    return BenchFlags(
        flags.DEFINE_integer("steps", steps, "Timed steps per subject and round.", lower_bound=1),
        flags.DEFINE_integer("rounds", rounds, "Rounds; each times every subject back to back; medians are reported.",
                             lower_bound=1),
        flags.DEFINE_string("out", "", "Output CSV; '' = results/bench/<paper>.csv."),
    )


def matmul_peak_flops(n: int = 1024, repeats: int = 20) -> float:
    """Measured float32 matmul FLOP/s on this machine (n x n by n x n), after one traced warm-up product."""
    a = tf.random.normal((n, n))
    matmul = tf.function(lambda x: tf.linalg.matmul(x, x))
    matmul(a).numpy()
    start = time.perf_counter()
    for _ in range(repeats):
        out = matmul(a)
    out.numpy()
    return 2 * n**3 * repeats / (time.perf_counter() - start)


class StepTimes(keras.callbacks.Callback):
    """The time at the end of every training step."""

    def on_train_begin(self, logs=None):
        self.times = []

    def on_train_batch_end(self, batch, logs=None):
        self.times.append(time.perf_counter())


def training_rate(model: keras.Model, dataset: tf.data.Dataset, steps: int, items_per_step: int = 1,
                  warm: int = 2) -> float:
    """Items (characters, instances, images) per second over `steps` training steps of one `fit`, timed from the
    end of its `warm` first steps, so the iterator's start-up (which a run pays once) is not timed. A callback ends
    every step, as the runs' NaN guard (common/training.StopOnNaN) does."""
    timer = StepTimes()
    model.fit(dataset, steps_per_epoch=warm + steps, epochs=1, verbose=0, shuffle=False, callbacks=[timer])
    return steps * items_per_step / (timer.times[-1] - timer.times[warm - 1])


def training_measure(model: keras.Model, dataset: tf.data.Dataset, items_per_step: int) -> Callable[[int], float]:
    """`training_rate` of this model on this dataset as a measure for `median_rates`."""
    return functools.partial(training_rate, model, dataset, items_per_step=items_per_step)


def median_rates(measures: Mapping[Hashable, Callable[[int], float]], steps: int, rounds: int,
                 warmup_steps: int = 1) -> dict[Hashable, float]:
    """The median rate of each measure (called with a step count, it returns a rate) over `rounds` rounds, every
    measure back to back in each round, after one call of each with `warmup_steps` (tracing, caches) not counted."""
    for measure in measures.values():
        measure(warmup_steps)
    rates = {key: [] for key in measures}
    for _ in range(rounds):
        for key, measure in measures.items():
            rates[key].append(measure(steps))
    return {key: float(np.median(r)) for key, r in rates.items()}


def ratios(rates: Mapping[Hashable, float], baseline: Hashable) -> dict[Hashable, float]:
    """Each rate over the baseline's (the baseline's own is 1)."""
    return {key: rate / rates[baseline] for key, rate in rates.items()}


def report(rows: list[dict], paper: str, shown: Sequence[str], out: str = "", float_format: str = "{:,.2f}") -> Path:
    """Prints the `shown` columns of the rows and writes all of them to results/bench/<paper>.csv (or `out`)."""
    table = pd.DataFrame(rows)
    print(table[list(shown)].to_string(index=False, float_format=float_format.format))
    return results.write_bench(table, paper, out or None)
