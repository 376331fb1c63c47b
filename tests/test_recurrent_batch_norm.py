"""Cooijmans et al. 2016: statistics per time step (in training from step t alone, at test the population's, the last
step's beyond the training length), inference independent of the batch, the LSTM without BN is Keras', data, runs."""

import keras
import numpy as np
import pandas as pd
import pytest
from idx_fixtures import write_fixtures

from common import lifecycle
from common.config import ConfigError
from common.data import DataError
from papers.recurrent_batch_norm import configs, data, model, train
from papers.recurrent_batch_norm.bn_lstm import BNLSTM


def smoke_config(tmp_path, spec="smoke,pixels,bn_lstm", **overrides):
    """The smoke preset on generated idx files (tests/idx_fixtures.py) or the Bible, under tmp_path."""
    config = configs.get_config(spec)
    if config.task != "chars":
        config.data_dir = str(write_fixtures(tmp_path / "idx", n_train=400, n_test=100))
    config.workdir = str(tmp_path / "run")
    config.results_dir = str(tmp_path / "results")
    for key, value in overrides.items():
        config[key] = value
    return config


def sequences(batch=8, steps=12, features=3, seed=0):
    return np.random.default_rng(seed).normal(size=(batch, steps, features)).astype("float32")


def test_without_batch_normalization_the_cell_is_keras_lstm():
    x = sequences()
    ours = BNLSTM(5, 12, normalize=False, recurrent_init="identity")
    outputs, h, c = ours(x)
    keras_lstm = keras.layers.LSTM(5, return_sequences=True, return_state=True)
    keras_lstm.build(x.shape)
    for theirs, mine in zip(keras_lstm.cell.weights, (ours.kernel, ours.recurrent_kernel, ours.bias), strict=True):
        theirs.assign(mine)
    expected, expected_h, expected_c = keras_lstm(x)
    np.testing.assert_allclose(outputs, expected, atol=1e-6)
    np.testing.assert_allclose(c, expected_c, atol=1e-6)
    np.testing.assert_array_equal(ours.recurrent_kernel.numpy()[:, 5:10], np.eye(5))  # identity per gate
    np.testing.assert_array_equal(ours.bias.numpy()[5:10], 1.0)  # forget bias


def test_training_statistics_of_step_t_come_from_step_t_alone():
    """Changing the inputs after step t changes no output up to t (no statistic pools over time)."""
    layer = BNLSTM(6, 12, initial_noise=0.0)
    x = sequences()
    later = x.copy()
    later[:, 7:] = sequences(seed=1)[:, 7:]
    before, _, _ = layer(x, training=True)
    after, _, _ = layer(later, training=True)
    np.testing.assert_array_equal(before[:, :7], after[:, :7])
    assert not np.allclose(before[:, 7:], after[:, 7:])


def test_training_normalizes_each_step_over_the_batch_and_moves_that_steps_population_row():
    layer = BNLSTM(4, 10, momentum=0.5)
    x = sequences(batch=64, steps=6) * np.arange(1, 7)[None, :, None]  # each step its own scale
    layer(x, training=True)
    projection = np.einsum("btf,fg->tg", x, layer.kernel.numpy()) / 64  # the batch mean of W_x x per step
    rows = layer.population["x_mean"].numpy()
    np.testing.assert_allclose(rows[:6], 0.5 * projection, rtol=1e-4, atol=1e-5)  # 0.5 * 0 + 0.5 * batch mean
    np.testing.assert_array_equal(rows[6:], 0.0)  # steps the batch did not reach keep their rows
    variances = layer.population["x_variance"].numpy()[:6].mean(axis=1)
    assert (np.diff(variances) > 0).all()  # per step: larger inputs, larger variance


def test_inference_uses_the_population_per_step_and_the_last_row_beyond_the_training_length():
    layer = BNLSTM(4, 5)
    x = sequences(batch=6, steps=5)
    for _ in range(3):
        layer(x, training=True)
    long = np.concatenate([x, x], axis=1)  # 10 steps, trained on 5
    outputs, _, _ = layer(long)
    assert outputs.shape == (6, 10, 4)
    # Steps 5..9 are normalized with row 4's statistics: equal to a layer whose rows 0..4 all hold row 4.
    reference = BNLSTM(4, 10)
    reference(long[:1])
    for variable, source in zip(reference.weights, layer.weights, strict=True):
        value = source.numpy()
        if value.shape and value.shape[0] == 5:  # a population table: rows 5..9 = row 4
            value = np.concatenate([value, np.repeat(value[-1:], 5, axis=0)])
        variable.assign(value)
    np.testing.assert_allclose(outputs, reference(long)[0], atol=1e-6)
    with pytest.raises(ValueError, match="longer than max_length=5"):
        layer(long, training=True)


def test_inference_does_not_depend_on_the_other_members_of_the_batch():
    layer = BNLSTM(4, 12)
    x = sequences()
    layer(x, training=True)
    alone, _, _ = layer(x[:1])
    together, _, _ = layer(x)
    np.testing.assert_allclose(alone[0], together[0], atol=1e-6)
    layer.test_statistics = "batch"  # the ablation: now it does
    assert not np.allclose(layer(x[:2])[0][0], layer(x)[0][0])


def test_shared_statistics_average_the_steps():
    layer = BNLSTM(4, 6)
    x = sequences(steps=6) * np.arange(1, 7)[None, :, None]
    layer(x, training=True)
    layer.test_statistics = "shared"
    rows = layer._population_rows(6)
    np.testing.assert_allclose(rows["x_mean"][0], layer.population["x_mean"].numpy().mean(axis=0), atol=1e-6)
    np.testing.assert_allclose(rows["x_mean"][0], rows["x_mean"][5])


def test_trained_model_saves_and_loads_as_keras_file(tmp_path):
    config = configs.get_config("smoke,pixels,bn_lstm")
    net = model.build(config, 49)
    x = np.random.default_rng(0).random((16, 49, 1)).astype("float32")
    net.fit(x, np.arange(16) % 10, epochs=1, verbose=0)
    net.save(tmp_path / "net.keras")
    loaded = keras.saving.load_model(tmp_path / "net.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), net.predict(x, verbose=0), atol=1e-6)


# --- data ------------------------------------------------------------------------------------------------------------

def test_pixel_sequences_and_the_permutation():
    order = data.permutation(196, seed=0)
    assert sorted(order) == list(range(196))  # every pixel exactly once
    np.testing.assert_array_equal(order, data.permutation(196, seed=0))
    images = np.arange(2 * 28 * 28).reshape(2, 28, 28) % 256
    pooled = data.pool(images.astype(float), 14)
    assert pooled.shape == (2, 14, 14) and pooled[0, 0, 0] == images[0, :2, :2].mean()
    seq = data.pixel_sequences(images.astype(np.uint8), np.array([3, 4]), 14, order)
    assert seq.inputs.shape == (2, 196, 1) and seq.inputs.max() <= 1.0
    np.testing.assert_allclose(seq.inputs[0, :, 0], (pooled[0] / 255.0).reshape(-1)[order], rtol=1e-6)


def test_char_sequences_do_not_overlap_and_targets_are_the_next_characters():
    ids = np.arange(25, dtype=np.int32)
    seq = data.char_sequences(ids, 6)
    assert seq.inputs.shape == (4, 6)
    np.testing.assert_array_equal(seq.inputs[1], np.arange(6, 12))
    np.testing.assert_array_equal(seq.targets[1], np.arange(7, 13))


def test_missing_data_and_bad_configs_say_what_to_do(tmp_path):
    with pytest.raises(DataError, match="make data/fashion_mnist"):
        data.pixel_splits(smoke_config(tmp_path, data_dir=str(tmp_path / "nowhere")))
    with pytest.raises(DataError, match="make data/ptb"):
        data.char_texts(smoke_config(tmp_path, "paper,chars,lstm", data_dir=str(tmp_path)))
    with pytest.raises(ConfigError, match="unknown task or model"):
        configs.get_config("cpu,sudoku")
    bad = configs.get_config("cpu,chars,lstm")
    bad.dataset = "fashion_mnist"
    with pytest.raises(ConfigError, match="does not hold the task"):
        configs.validate(bad)
    for spec in ("paper", "paper,chars,bn_lstm", "cpu,pixels_permuted,lstm", "smoke,chars,lstm"):
        configs.validate(configs.get_config(spec))


# --- runs end to end ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("spec", ["smoke,pixels_permuted,bn_lstm", "smoke,chars,bn_lstm"])
def test_smoke_run_writes_the_paper_rows_and_the_ablation(tmp_path, spec):
    lifecycle.execute(train.EXPERIMENT, smoke_config(tmp_path, spec))
    table = pd.read_csv(tmp_path / "results" / "recurrent_batch_norm.csv", dtype=str)
    assert set(table["statistics"]) == {"per_step", "shared", "batch"}
    assert set(table["metric"]) >= {"valid_accuracy", "test_accuracy"} or set(table["metric"]) >= {"test_bpc"}
    if spec.endswith("chars,bn_lstm"):
        assert set(table["test_length"]) == {"20", "60"}


def test_reestimated_population_is_the_average_of_the_training_batches_statistics(tmp_path):
    from papers.recurrent_batch_norm import evaluate

    config = configs.get_config("smoke,pixels,bn_lstm")
    net = model.build(config, 49)
    x = np.random.default_rng(0).random((32, 49, 1)).astype("float32")
    net.fit(x, np.arange(32) % 10, epochs=1, batch_size=16, verbose=0)  # moves the population by a moving average
    layer = net.get_layer("lstm")
    evaluate.reestimate_population(net, data.Sequences(x, np.zeros(32, np.int32)), batch_size=32, batches=1)
    expected = layer.step_statistics(x)  # one batch of all 32: the average is that batch's statistics
    for name, value in expected.items():
        np.testing.assert_allclose(layer.population[name].numpy(), value, rtol=1e-4, atol=1e-6)
    before = layer.population["h_mean"].numpy().copy()
    layer.step_statistics(x[:8])  # reading statistics leaves the population as it is
    np.testing.assert_array_equal(layer.population["h_mean"].numpy(), before)
