"""The runner: resume continues exactly, NaN fails the run, MirroredStrategy matches one device."""

import json

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from common import checkpoints, training

STEPS = 5
BATCH = 8


def tiny_model():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.05, momentum=0.9, global_clipnorm=1.0), "mse")
    return model


def tiny_data(checkpoint, poison_at=None):
    """Batch s depends only on s, so the stream from any checkpoint on is well defined."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40 * STEPS * BATCH, 4)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5, 3.0], dtype="float32"))[:, None]
    if poison_at is not None:
        x[poison_at * BATCH :] = np.nan
    start = checkpoint * STEPS * BATCH
    return tf.data.Dataset.from_tensor_slices((x[start:], y[start:])).batch(BATCH)


def run(workdir, checkpoints, strategy=None, poison_at=None):
    training.set_seed(7)
    return training.fit(tiny_model, lambda k: tiny_data(k, poison_at), workdir, checkpoints_total=checkpoints,
                        steps_per_checkpoint=STEPS, strategy=strategy, monitor="loss", verbose=0)


def weights(model):
    return [w.numpy() for w in model.weights]


def test_resume_continues_where_it_stopped(tmp_path):
    straight = run(tmp_path / "straight", checkpoints=4)
    run(tmp_path / "stopped", checkpoints=2)  # a run stopped after its second checkpoint
    resumed = run(tmp_path / "stopped", checkpoints=4)  # the same command again
    assert resumed.resumed_from == 2
    assert list(resumed.history["checkpoint"]) == [1, 2, 3, 4]
    for a, b in zip(weights(straight.model), weights(resumed.model), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(straight.history["loss"], resumed.history["loss"], rtol=1e-6)
    # The optimizer state (momentum, iteration count) came back too.
    assert int(resumed.model.optimizer.iterations) == 4 * STEPS


def test_finished_run_trains_no_more(tmp_path):
    run(tmp_path, checkpoints=2)
    again = run(tmp_path, checkpoints=2)
    assert again.resumed_from == 2 and again.checkpoints == 2


def test_nan_loss_fails_the_run_and_keeps_the_last_good_checkpoint(tmp_path):
    with pytest.raises(training.TrainingDiverged, match="NaN"):
        run(tmp_path, checkpoints=4, poison_at=2 * STEPS + 1)
    state = json.loads((tmp_path / checkpoints.STATE_FILE).read_text())
    assert state["checkpoints_done"] == 2  # the diverged interval was not checkpointed
    history = pd.read_csv(tmp_path / checkpoints.HISTORY_FILE)
    assert list(history["checkpoint"]) == [1, 2] and np.isfinite(history["loss"]).all()


def test_mirrored_strategy_matches_one_device(tmp_path):
    """Same seed, same batches, gradient clipping on: two replicas train the same weights as one device."""
    assert len(tf.config.list_logical_devices("CPU")) == 2, "conftest sets up two logical CPUs"
    mirrored = training.make_strategy("mirrored")
    assert mirrored.num_replicas_in_sync == 2
    one = run(tmp_path / "one", checkpoints=2)
    two = run(tmp_path / "two", checkpoints=2, strategy=mirrored)
    for a, b in zip(weights(one.model), weights(two.model), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_unknown_strategy_names_the_choices():
    with pytest.raises(ValueError, match="'default', 'mirrored'"):
        training.make_strategy("tpu")
