"""Gal & Ghahramani 2016: the masks are held over time (variational) or redrawn every step (Zaremba), word dropout
drops word types, the cell is Keras' LSTM without masks, MC dropout averages probabilities, a smoke run ends."""

import json

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from common import lifecycle
from common.config import ConfigError
from common.data import DataError
from papers.variational_dropout import configs, data, evaluate, train
from papers.variational_dropout.masks import keep_mask, word_type_mask
from papers.variational_dropout.model import WordLM, build_word_lm, parameter_count
from papers.variational_dropout.variational_lstm import VariationalLSTM


def smoke_config(tmp_path, spec="smoke", **overrides):
    config = configs.get_config(spec)
    config.workdir = str(tmp_path / "run")
    config.results_dir = str(tmp_path / "results")
    for key, value in overrides.items():
        config[key] = value
    return config


def numpy_lstm(x, kernel, recurrent, bias, input_mask, recurrent_mask):
    """The step-by-step reference: every step masks its own input and state, then one affine map per gate."""
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    batch, time, _ = x.shape
    units = recurrent.shape[0]
    h, c, outputs = np.zeros((batch, units)), np.zeros((batch, units)), []
    for t in range(time):
        z = np.concatenate([(x[:, t] * input_mask[g % len(input_mask)]) @ kernel[:, g * units:(g + 1) * units]
                            + (h * recurrent_mask[g % len(recurrent_mask)]) @ recurrent[:, g * units:(g + 1) * units]
                            for g in range(4)], axis=-1) + bias
        i, f, g, o = np.split(z, 4, axis=-1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        outputs.append(h)
    return np.stack(outputs, axis=1)


# --- the cell --------------------------------------------------------------------------------------------------

def test_without_masks_the_cell_is_keras_lstm_given_the_same_weights():
    x = np.random.default_rng(0).normal(size=(3, 7, 5)).astype("float32")
    ours = VariationalLSTM(4, init_scale=0.3)
    zeros = np.zeros((3, 4), "float32")
    outputs, h, c = ours(x, (zeros, zeros))
    keras_lstm = keras.layers.LSTM(4, return_sequences=True, return_state=True)
    keras_lstm.build(x.shape)
    for theirs, mine in zip(keras_lstm.cell.weights, (ours.kernel, ours.recurrent_kernel, ours.bias), strict=True):
        theirs.assign(mine)
    expected, expected_h, expected_c = keras_lstm(x)
    np.testing.assert_allclose(outputs, expected, atol=1e-6)
    np.testing.assert_allclose(h, expected_h, atol=1e-6)
    np.testing.assert_allclose(c, expected_c, atol=1e-6)


@pytest.mark.parametrize("gates", [4, 1])
def test_hoisted_input_projection_equals_the_step_by_step_masked_lstm(gates):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 6, 5)).astype("float32")
    layer = VariationalLSTM(4, init_scale=0.4)
    layer.build(x.shape)
    input_mask = (rng.random((gates, 3, 5)) > 0.4).astype("float32") / 0.6
    recurrent_mask = (rng.random((gates, 3, 4)) > 0.3).astype("float32") / 0.7
    zeros = np.zeros((3, 4), "float32")
    outputs, _, _ = layer(x, (zeros, zeros), input_mask=input_mask, recurrent_mask=recurrent_mask)
    expected = numpy_lstm(x, layer.kernel.numpy(), layer.recurrent_kernel.numpy(), layer.bias.numpy(), input_mask,
                          recurrent_mask)
    np.testing.assert_allclose(outputs, expected, atol=1e-5)


def test_a_variational_input_mask_is_constant_over_time_and_differs_between_sequences():
    """A unit dropped from a sequence's input is dropped at every step: its gradient is 0 at all steps, the same
    units for every step, other units for another sequence (tied masks, so one mask covers all gates)."""
    model = WordLM(30, 16, 1, "variational", tied=True, p_input=0.5, seed=3)
    model.build((4, 9))
    masks = model.sample_masks(4)
    x = tf.constant(np.random.default_rng(2).normal(size=(4, 9, 16)).astype("float32"))
    zeros = model.zero_states(4)[0]
    with tf.GradientTape() as tape:
        tape.watch(x)
        outputs, _, _ = model.lstms[0](x, zeros, input_mask=masks["input"][0])
        total = tf.reduce_sum(outputs)
    dropped = tape.gradient(total, x).numpy() == 0  # (batch, time, units)
    assert dropped.any() and not dropped.all()
    assert (dropped == dropped[:, :1]).all()  # every step drops the units of step 0
    np.testing.assert_array_equal(dropped[:, 0], masks["input"][0].numpy()[0] == 0)
    assert len({row.tobytes() for row in dropped[:, 0]}) > 1  # the sequences of a batch differ


def test_untied_masks_differ_between_gates_and_tied_masks_are_one():
    untied = WordLM(30, 8, 2, "variational", p_input=0.5, p_recurrent=0.5, seed=0)
    tied = WordLM(30, 8, 2, "variational", tied=True, p_input=0.5, p_recurrent=0.5, seed=0)
    for model in (untied, tied):
        model.build((4, 5))
    masks = untied.sample_masks(4)
    assert masks["input"][0].shape == (4, 4, 8) and masks["recurrent"][1].shape == (4, 4, 8)
    per_gate = masks["recurrent"][0].numpy()
    assert not all(np.array_equal(per_gate[0], per_gate[g]) for g in range(1, 4))
    assert tied.sample_masks(4)["input"][0].shape == (1, 4, 8)


def test_zaremba_dropout_draws_a_new_mask_at_every_step():
    model = WordLM(30, 16, 2, "zaremba", p_input=0.5, p_output=0.5, seed=1)
    dropped = model._step_dropout(tf.ones((4, 9, 16)), 0.5, training=True).numpy() == 0
    assert len({dropped[0, t].tobytes() for t in range(9)}) == 9
    np.testing.assert_array_equal(model._step_dropout(tf.ones((2, 3, 4)), 0.5, training=False), 1.0)


def test_word_dropout_drops_every_occurrence_of_a_dropped_word_type():
    ids = tf.constant([[3, 5, 3, 7, 3, 5], [3, 3, 1, 1, 2, 3]])
    type_mask = keep_mask((2, 10), 0.5, keras.random.SeedGenerator(4))
    factor = word_type_mask(ids, type_mask).numpy()[..., 0]
    for row in range(2):
        for word in set(ids[row].numpy()):
            at = ids[row].numpy() == word
            assert len(set(factor[row, at])) == 1  # one draw per word type and sequence
            assert factor[row, at][0] == type_mask.numpy()[row, word]
    assert set(np.unique(type_mask)) <= {0.0, 2.0}


def test_the_model_uses_masks_only_in_training_or_when_given():
    model = WordLM(30, 8, 2, "variational", p_embed=0.3, p_input=0.5, p_recurrent=0.3, p_output=0.5, seed=0)
    ids = np.random.default_rng(0).integers(0, 30, (4, 6))
    np.testing.assert_array_equal(model(ids), model(ids))  # the standard dropout approximation
    assert not np.allclose(model(ids, training=True), model(ids, training=True))
    masks = model.sample_masks(4, word_dropout=False)
    assert masks["embed"] is None
    np.testing.assert_allclose(model(ids, masks=masks), model(ids, masks=masks), atol=1e-6)


def test_parameter_count():
    model = WordLM(100, 12, 2)
    model.build((2, 3))
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == parameter_count(100, 12, 2)
    assert parameter_count(10_000, 650, 2) == 19_775_200  # Zaremba's medium on PTB


# --- evaluation --------------------------------------------------------------------------------------------------

def test_mc_dropout_averages_probabilities_not_log_probabilities():
    log_p = np.log(np.array([[0.9, 0.5], [0.1, 0.5]]))  # two samples, two words
    assert evaluate.mc_perplexity(log_p) == pytest.approx(np.exp(-np.mean(np.log([0.5, 0.5]))))  # 2.0
    assert evaluate.mc_perplexity(log_p) != pytest.approx(np.exp(-log_p.mean()))  # 2.36: the log average


def test_mc_samples_hold_their_masks_over_the_stream_and_reproduce(tmp_path):
    config = smoke_config(tmp_path)
    model = build_word_lm(config, 20, 10)
    ids = np.random.default_rng(0).integers(0, 20, 201)
    log_p = evaluate.mc_log_probabilities(model, ids, samples=3, streams=2, chunk=30, group=2, seed=5)
    assert log_p.shape == (3, 200)
    np.testing.assert_array_equal(log_p, evaluate.mc_log_probabilities(model, ids, 3, 2, 30, group=2, seed=5))
    # One sample's masks held over the stream: scoring it in one chunk or in many gives the same numbers.
    whole = evaluate.mc_log_probabilities(model, ids, samples=1, streams=2, chunk=200, seed=9)
    pieces = evaluate.mc_log_probabilities(model, ids, samples=1, streams=2, chunk=7, seed=9)
    np.testing.assert_allclose(whole, pieces, atol=1e-5)
    with pytest.raises(ValueError, match="MC dropout"):
        evaluate.mc_log_probabilities(build_word_lm(smoke_config(tmp_path, "smoke,zaremba"), 20, 10), ids, 2)


# --- data and configs --------------------------------------------------------------------------------------------

def test_bible_words_and_vocabulary():
    assert data.bible_words("In the beginning, 3,000 men\u2019s sons: God's!") == [
        "in", "the", "beginning", "N", "men's", "sons", "god's"]
    vocab = data.Vocabulary.from_training_words(["b", "a", "a", "c", "c", "c", data.EOS], size=3)
    assert vocab.words == ["a", "c", data.UNK] and list(vocab.encode(["c", "b", "zz"])) == [1, 2, 2]


def test_missing_ptb_says_how_to_get_it(tmp_path):
    with pytest.raises(DataError, match="make data/ptb"):
        data.ptb_corpus(str(tmp_path))
    for name in data.PTB_FILES.values():
        (tmp_path / name).write_text("a b <unk>\nb a\n")
    assert data.ptb_corpus(str(tmp_path)).train == ["a", "b", "<unk>", data.EOS, "b", "a", data.EOS]


def test_configs_name_the_papers_models_and_refuse_bad_rates():
    assert configs.get_config("paper").units == 1500 and configs.get_config("paper,zaremba").p_input == 0.65
    none = configs.get_config("cpu,none")
    assert (none.dropout, none.p_embed, none.p_input, none.p_recurrent, none.p_output) == ("none", 0, 0, 0, 0)
    assert configs.get_config("cpu,variational_tied").tied
    for spec in ("cpu", "cpu,zaremba", "cpu,variational_no_embed", "paper", "smoke"):
        configs.validate(configs.get_config(spec))
    with pytest.raises(ConfigError, match="unknown model"):
        configs.get_config("cpu,dropconnect")
    bad = configs.get_config("cpu,zaremba")
    bad.p_recurrent = 0.2
    with pytest.raises(ConfigError, match="no embedding or recurrent mask"):
        configs.validate(bad)
    bad = configs.get_config("cpu")
    bad.p_input = 1.0
    with pytest.raises(ConfigError, match=r"p_input=1.0 must be in \[0, 1\)"):
        configs.validate(bad)


# --- a run end to end --------------------------------------------------------------------------------------------

def test_smoke_run_writes_standard_and_mc_rows_and_refuses_a_changed_vocabulary(tmp_path):
    config = smoke_config(tmp_path)
    lifecycle.execute(train.EXPERIMENT, config)
    table = pd.read_csv(tmp_path / "results" / "variational_dropout.csv")
    assert set(table.estimator) == {"standard", "mc"} and set(table.mc_samples.dropna()) == {2, 4}
    assert (table.value > 1).all() and (table.value < 24).all()  # better than a uniform guess over 23 words + unk
    result = json.loads((tmp_path / "run" / "result.json").read_text())
    assert result["recorded"]
    model = keras.saving.load_model(next((tmp_path / "run" / "checkpoints").glob("*.keras")))
    assert isinstance(model, WordLM) and model.dropout == "variational"

    vocab = tmp_path / "run" / "vocab.json"
    vocab.write_text(json.dumps({"words": ["x", data.UNK]}))
    with pytest.raises(DataError, match="does not match the vocabulary"):
        train.vocabulary(config, data.smoke_corpus(), tmp_path / "run")


def test_table1_sets_each_row_beside_the_papers_row_of_the_same_dropout_and_estimator():
    from common import report
    from papers.variational_dropout import rows, tables

    config = configs.get_config("cpu")

    def summary_row(spec, estimator, k, metric, value):
        fields = {**rows.model_fields(configs.get_config(spec)), **rows.estimator_fields(estimator, k)}
        return dict(experiment="bible", preset="cpu", variant=rows.variant(fields), **fields, metric=metric,
                    mean=value, std=float("nan"), n=1, steps="")

    summary = pd.DataFrame([summary_row("cpu,zaremba", "standard", 0, "test_perplexity", 90.0),
                            summary_row("cpu,variational", "mc", 10, "test_perplexity", 80.0),
                            summary_row("cpu,variational", "standard", 0, "test_perplexity", 81.0),
                            summary_row("cpu,variational_no_embed", "standard", 0, "test_perplexity", 85.0),
                            summary_row("cpu,none", "standard", 0, "test_perplexity", 120.0)])
    table = tables.table1(summary, report.read_references("variational_dropout"))
    lines = [line for line in table.splitlines() if line.startswith("| ") and "Model" not in line]
    rates = f"{config.p_embed:g}/{config.p_input:g}/{config.p_recurrent:g}/{config.p_output:g}"
    assert [line.split(" | ")[0] for line in lines] == [
        "| No dropout", f"| Zaremba et al. (p {config.p_input:g})", f"| Variational (untied weights, p {rates})",
        f"| Variational (untied weights, p {rates}, MC K = 10)",
        f"| Variational (untied weights, p 0/{config.p_input:g}/{config.p_recurrent:g}/{config.p_output:g}, no word "
        "dropout)"]
    assert lines[1].endswith("| 86.2 | 82.7 | 82.2 | 78.4 |")  # Zaremba's medium and large rows
    assert lines[2].endswith("| 81.9 | 79.7 | 77.9 | 75.2 |") and lines[3].endswith("|  | 78.6 |  | 73.4 |")
    assert lines[4].endswith("|  |  |  |  |") and lines[0].endswith("|  |  |  |  |")


def test_paired_comparisons_read_each_runs_test_words_and_pick_the_rates_of_best_validation(tmp_path):
    from common.report import read_results
    from common.results import append_rows
    from papers.variational_dropout import rows, tables

    rng = np.random.default_rng(0)
    base = rng.uniform(1, 5, 2000)  # -log p of 2,000 test words
    table_rows = []

    def run(spec, seed, shift, valid, **rates):
        config = configs.get_config(spec)
        for key, value in rates.items():
            config[key] = value
        fields = rows.model_fields(config)
        history = f"histories/variational_dropout/cpu/{rows.model_name(fields)}-{valid}/seed{seed}.csv"
        words = tmp_path / history.replace("histories/", "test_words/").replace(".csv", ".npz")
        words.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(words, standard=-(base + shift).astype(np.float32))
        for metric, value in (("valid_perplexity", valid), ("test_perplexity", np.exp((base + shift).mean()))):
            table_rows.append({**fields, **rows.estimator_fields("standard"), "experiment": "bible", "preset": "cpu",
                               "variant": rows.variant(fields), "metric": metric, "value": f"{value:.2f}",
                               "seed": seed, "history": history, "date": f"2026-12-0{seed}T00:00:00Z"})

    for seed in (1, 2):
        run("cpu,zaremba", seed, 0.10, 100)
        run("cpu,zaremba", seed, 0.50, 120, p_input=0.5, p_output=0.5)  # worse on validation: not chosen
        run("cpu,variational", seed, 0.05 * seed, 90)
    append_rows("variational_dropout", table_rows, str(tmp_path), rows.FIELDS)
    frame = read_results(tmp_path / "variational_dropout.csv", rows.FIELDS)
    text = tables.paired_comparisons(frame, tmp_path)
    lines = [line for line in text.splitlines() if line.startswith("| Variational")]
    assert len(lines) == 2 and all("| Zaremba et al. (p 0.35) |" in line for line in lines)
    assert lines[0].endswith("| -0.0500 ± 0.0000 (4) |") and lines[1].endswith("| +0.0000 ± 0.0000 (4) |")
    mean, error, blocks = tables.paired_difference(np.zeros(1000), rng.normal(0, 1, 1000), block=100)
    assert blocks == 10 and error > 0 and abs(mean) < 4 * error + 0.2


def test_keras_recurrent_dropout_is_gals_untied_scheme_in_the_pinned_keras():
    """Keras 3.15's LSTM with recurrent_dropout draws a mask per gate and holds it over a call's steps (its Keras 2
    and 3.0 behaviour differed: keras#19993, #20663); the bench's comparison relies on it. Keras is pinned."""
    assert keras.__version__ == "3.15.1"
    cell = keras.layers.LSTMCell(5, dropout=0.5, recurrent_dropout=0.5, seed=0)
    h = keras.ops.ones((3, 5))
    masks = cell.get_recurrent_dropout_mask(h)
    assert cell.dropout_mask_count == 4 and len(masks) == 4 and masks[0].shape == (3, 5)
    assert cell.get_recurrent_dropout_mask(h) is masks  # the same masks for every step until the call ends
    assert not all(np.array_equal(masks[0], m) for m in masks[1:])  # one per gate
    cell.reset_recurrent_dropout_mask()
    assert cell.get_recurrent_dropout_mask(h) is not masks  # redrawn for the next call
