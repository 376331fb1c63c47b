"""The depth study's schedule: He et al.'s steps, the warm-up (committed with the checkpoint), the error metric."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from common import checkpoints, training
from common.config import step_boundaries
from papers.depth_study import configs, schedule


def test_he_et_al_step_schedule():
    boundaries = step_boundaries(64_000, (0.5, 0.75))
    assert boundaries == [32_000, 48_000]
    lrs = [schedule.step_learning_rate(s, 0.1, boundaries) for s in (0, 31_999, 32_000, 47_999, 48_000, 63_999)]
    assert lrs == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.001, 0.001])
    assert step_boundaries(configs.get_config("paper,densenet40").train_steps, (0.5, 0.75)) == [
        150 * 703, 225 * 703]  # DenseNet: epochs 150 and 225 of 300


class RecordLearningRate(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.lrs = []

    def on_train_batch_begin(self, batch, logs=None):
        self.lrs.append(float(self.model.optimizer.learning_rate.numpy()))


def tiny_classifier():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(10)])
    model.compile(keras.optimizers.SGD(0.1), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=[schedule.ErrorRate()])
    return model


def tiny_batches():
    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    y = np.random.default_rng(1).integers(0, 10, 64)
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(8).repeat()


def lr_trace(until_error, steps=8):
    model = tiny_classifier()
    lr = schedule.PaperSchedule(0.1, [6], warmup_lr=0.01, warmup_until_error=until_error)
    record = RecordLearningRate()
    model.fit(tiny_batches(), steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False, callbacks=[lr, record])
    return record.lrs, lr


def test_warmup_holds_001_until_the_training_error_is_below_the_threshold():
    lrs, callback = lr_trace(until_error=100.0)  # below 100%: ends after the first step
    assert lrs == pytest.approx([0.01, 0.1, 0.1, 0.1, 0.1, 0.1, 0.01, 0.01])
    assert callback.warmup_ended_at == 1 and callback.get_state() == {"warmup_ended_at_step": 1}
    lrs, callback = lr_trace(until_error=1e-6)  # never below: warm-up until the first boundary, then the schedule
    assert lrs == pytest.approx([0.01] * 6 + [0.01, 0.01]) and callback.warmup_ended_at is None


@pytest.mark.parametrize("until_error,resumed_lrs", [(100.0, [0.1] * 4), (1e-6, [0.01] * 4)])
def test_warmup_state_is_committed_with_the_checkpoint_and_restored_on_resume(tmp_path, until_error, resumed_lrs):
    """A run resumed after the checkpoint in which the warm-up ended does not warm up again (He et al. warm up
    once); one resumed before it ended goes on warming up. The state lives in state.json, no file beside it."""
    def fit(checkpoints_total):
        lr = schedule.PaperSchedule(0.1, [100], warmup_lr=0.01, warmup_until_error=until_error)
        record = RecordLearningRate()
        training.fit(tiny_classifier, lambda k: tiny_batches().skip(4 * k), tmp_path, checkpoints_total, 4,
                     callbacks=[lr, record], verbose=0)
        return lr, record.lrs

    first, _ = fit(1)
    state = json.loads((tmp_path / checkpoints.STATE_FILE).read_text())
    assert state["callbacks"]["PaperSchedule"] == first.get_state()
    resumed, lrs = fit(2)  # a new process: a new callback, its state from state.json
    assert resumed.warmup_ended_at == first.warmup_ended_at and lrs == pytest.approx(resumed_lrs)
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["history.csv", "state.json"]


def test_error_metric_is_percent():
    metric = schedule.ErrorRate()
    metric.update_state(np.array([0, 1, 2, 3]), np.eye(4)[[0, 1, 0, 0]])
    assert float(metric.result()) == pytest.approx(50.0)
