"""The shared benchmark harness (common/bench.py) on a tiny model: rates are positive and finite, warm-up is not
counted, subjects are timed back to back in every round, and the table written has the rows' columns."""

import math

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from common import bench


def tiny_model_and_data(batch: int = 8):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.compile(keras.optimizers.SGD(0.01), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(0)
    x, y = rng.random((batch, 4), dtype=np.float32), rng.integers(0, 3, batch).astype("int32")
    return model, tf.data.Dataset.from_tensors((x, y)).repeat()


def test_training_rate_times_the_steps_after_warm_up():
    model, dataset = tiny_model_and_data()
    rate = bench.training_rate(model, dataset, steps=3, items_per_step=8, warm=2)
    assert math.isfinite(rate) and rate > 0
    assert int(model.optimizer.iterations) == 5  # the warm-up steps train too, in the same fit


def test_median_rates_warms_up_then_interleaves_subjects_and_takes_medians():
    calls = []
    values = {"ours": iter([99.0, 3.0, 1.0, 2.0]), "baseline": iter([99.0, 10.0, 30.0, 20.0])}

    def measure(key):
        def rate(steps):
            calls.append((key, steps))
            return next(values[key])
        return rate

    rates = bench.median_rates({key: measure(key) for key in values}, steps=7, rounds=3, warmup_steps=1)
    assert calls == [("ours", 1), ("baseline", 1)] + [("ours", 7), ("baseline", 7)] * 3
    assert rates == {"ours": 2.0, "baseline": 20.0}  # the warm-up's 99 is not counted
    assert bench.ratios(rates, "baseline") == {"ours": 0.1, "baseline": 1.0}


def test_harness_on_a_tiny_model_writes_a_well_formed_table(tmp_path, capsys):
    model, dataset = tiny_model_and_data()
    peak = bench.matmul_peak_flops(n=64, repeats=3)
    assert math.isfinite(peak) and peak > 0
    rates = bench.median_rates({"tiny": bench.training_measure(model, dataset, 8)}, steps=2, rounds=2)
    assert math.isfinite(rates["tiny"]) and rates["tiny"] > 0
    rows = [{"model": name, "items_per_second": rate, "share_of_matmul_peak": rate * 2 * 4 * 3 * 3 / peak}
            for name, rate in rates.items()]
    out = bench.report(rows, "tiny", ["model", "items_per_second"], str(tmp_path / "tiny.csv"))
    table = pd.read_csv(out)
    assert list(table.columns) == ["model", "items_per_second", "share_of_matmul_peak", "device", "versions", "date"]
    assert table["model"].tolist() == ["tiny"] and (table["items_per_second"] > 0).all()
    assert "items_per_second" in capsys.readouterr().out
