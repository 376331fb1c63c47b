"""Sequence to sequence: the pipeline's reversal and padding, the loss, the models' step-by-step decoding, the
schedule, saving; the smoke run is in test_seq2seq_train.py."""

from types import SimpleNamespace

import keras
import numpy as np
import pytest

from papers.seq2seq import configs, pipeline
from papers.seq2seq.attention_model import AttentionSeq2Seq
from papers.seq2seq.build import HalveEveryHalfEpoch, build_model
from papers.seq2seq.model import DeepLSTMSeq2Seq, SentenceNLL

VOCAB = pipeline.Vocabulary(list(pipeline.SPECIALS) + ["a", "b", "c", "d", "e"])


def pair(source: str, target: str):
    return SimpleNamespace(source=tuple(source.split()), target=tuple(target.split()), origin="test")


def test_reversal_keeps_the_real_tokens_and_the_mask_aligned():
    pairs = [pair("a b c", "d e"), pair("d e", "a"), pair("a b c d e", "b")]
    forward, _ = pipeline.encode_pairs(pairs, VOCAB, VOCAB, reverse=False)
    backward, _ = pipeline.encode_pairs(pairs, VOCAB, VOCAB, reverse=True)
    inputs_f, _ = pipeline.batch_arrays(forward, forward, [0, 1, 2])
    inputs_b, _ = pipeline.batch_arrays(backward, backward, [0, 1, 2])
    mask_f, mask_b = inputs_f["source"] != pipeline.PAD, inputs_b["source"] != pipeline.PAD
    np.testing.assert_array_equal(mask_f, mask_b)  # padding stays at the end, reversed or not
    for row, p in enumerate(pairs):
        real = inputs_b["source"][row][mask_b[row]]
        assert VOCAB.decode(real) == list(reversed(p.source))
        assert VOCAB.decode(inputs_f["source"][row][mask_f[row]]) == list(p.source)


def test_teacher_forcing_targets_have_bos_and_eos():
    _, targets = pipeline.encode_pairs([pair("a", "b c"), pair("a", "d")], VOCAB, VOCAB, reverse=True)
    inputs, target_out = pipeline.batch_arrays(targets, targets, [0, 1])
    b, c, d = VOCAB.encode(["b", "c", "d"])
    np.testing.assert_array_equal(inputs["target_in"], [[pipeline.BOS, b, c], [pipeline.BOS, d, pipeline.PAD]])
    np.testing.assert_array_equal(target_out, [[b, c, pipeline.EOS], [d, pipeline.EOS, pipeline.PAD]])


def test_vocabulary_keeps_the_most_frequent_words_and_maps_the_rest_to_unk():
    vocabulary = pipeline.Vocabulary.from_sentences([("x", "y", "x"), ("z", "x", "y")], size=6)
    assert vocabulary.words == [*pipeline.SPECIALS, "x", "y"]
    assert vocabulary.encode(["x", "z"]).tolist() == [4, pipeline.UNK]
    assert vocabulary.decode([4, 5, pipeline.EOS, 4]) == ["x", "y"]


def test_padded_positions_add_nothing_to_the_loss():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 4, 7)).astype("float32")
    y = np.array([[5, 6, pipeline.EOS, pipeline.PAD], [5, pipeline.EOS, pipeline.PAD, pipeline.PAD]])
    changed = logits.copy()
    changed[0, 3], changed[1, 2:] = 100.0, -50.0  # the padded positions' logits
    loss = SentenceNLL()
    assert float(loss(y, logits)) == pytest.approx(float(loss(y, changed)), rel=1e-6)
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    summed = [-sum(log_p[b, t, y[b, t]] for t in range(4) if y[b, t] != pipeline.PAD) for b in range(2)]
    assert float(loss(y, logits)) == pytest.approx(np.mean(summed), rel=1e-5)  # summed over time, mean over batch


def test_bucketed_batches_are_a_function_of_seed_and_pass_and_cover_the_pass():
    lengths = np.random.default_rng(1).integers(1, 30, size=230)
    first = pipeline.pass_batches(lengths, 8, 4, seed=3, epoch=0)
    np.testing.assert_array_equal(first, pipeline.pass_batches(lengths, 8, 4, seed=3, epoch=0))
    assert not np.array_equal(first, pipeline.pass_batches(lengths, 8, 4, seed=3, epoch=1))
    assert len(first) == pipeline.steps_per_epoch(230, 8, 4)
    assert len(set(first.reshape(-1).tolist())) == first.size  # no pair twice in a pass
    spread = [np.ptp(lengths[b]) for b in first]
    assert np.mean(spread) < np.ptp(lengths) / 3  # sorted within chunks: similar lengths in a batch


def test_halving_schedule_follows_sec_3_4():
    schedule = HalveEveryHalfEpoch(0.7, decay_after=5.0, steps_per_epoch=100)
    lr = lambda step: float(schedule(step))  # noqa: E731
    assert lr(0) == pytest.approx(0.7) and lr(499) == pytest.approx(0.7)
    assert lr(500) == pytest.approx(0.35) and lr(549) == pytest.approx(0.35) and lr(550) == pytest.approx(0.175)
    assert lr(749) == pytest.approx(0.7 / 32)  # the last half epoch of 7.5


TINY_MODELS = [lambda: DeepLSTMSeq2Seq(9, 11, num_layers=2, units=6, embedding_dim=5),
               lambda: AttentionSeq2Seq(9, 11, units=6, embedding_dim=5, attention_units=4)]


def _inputs(rng, batch=3, source_length=5, target_length=4, vocab=9):
    source = rng.integers(4, vocab, size=(batch, source_length)).astype("int32")
    source[0, 3:] = pipeline.PAD  # a shorter sentence
    target_in = rng.integers(4, vocab, size=(batch, target_length)).astype("int32")
    target_in[:, 0] = pipeline.BOS
    return {"source": source, "target_in": target_in}


@pytest.mark.parametrize("make", TINY_MODELS, ids=["deep_lstm", "attention"])
def test_decode_step_by_step_equals_teacher_forcing(make):
    """The searches' path (encode, then decode_step from -1) computes the same logits as training's `call`."""
    rng = np.random.default_rng(0)
    model = make()
    inputs = _inputs(rng)
    logits = keras.ops.convert_to_numpy(model(inputs))
    memory, state = model.encode(inputs["source"])
    previous = np.full(3, -1, dtype=np.int32)
    for t in range(inputs["target_in"].shape[1]):
        step_logits, state = model.decode_step(memory, state, previous)
        np.testing.assert_allclose(keras.ops.convert_to_numpy(step_logits), logits[:, t], rtol=1e-5, atol=1e-5)
        previous = inputs["target_in"][:, t + 1] if t + 1 < inputs["target_in"].shape[1] else previous


@pytest.mark.parametrize("make", TINY_MODELS, ids=["deep_lstm", "attention"])
def test_padding_after_the_source_changes_nothing(make):
    """The encoder's mask: a sentence's logits are the same alone and padded in a batch of longer ones."""
    rng = np.random.default_rng(2)
    model = make()
    inputs = _inputs(rng)
    alone = {"source": inputs["source"][:1, :3], "target_in": inputs["target_in"][:1]}
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(alone)),
                               keras.ops.convert_to_numpy(model(inputs))[:1], rtol=1e-5, atol=1e-5)


def test_deep_lstm_parameter_count_and_init():
    """Separate encoder and decoder stacks: 2 x 4 x 4 (units (embedding or units) + units^2 + units) plus the
    embeddings and the softmax (the paper's 384M at 160k/80k words and 1,000 units)."""
    config = configs.get_config("paper")
    units, layers = config.units, config.num_layers
    lstm = lambda inputs: 4 * (inputs * units + units * units + units)  # noqa: E731
    expected = (160_000 + 80_000) * 1000 + 2 * (lstm(1000) + (layers - 1) * lstm(units)) + 80_000 * (units + 1)
    assert expected == pytest.approx(384e6, rel=0.01)  # Sec. 3.4: "384M parameters"
    small = DeepLSTMSeq2Seq(50, 60, num_layers=3, units=8, embedding_dim=7)
    small(_inputs(np.random.default_rng(0), vocab=50))
    lstm = lambda inputs: 4 * (inputs * 8 + 8 * 8 + 8)  # noqa: E731
    assert small.count_params() == 50 * 7 + 60 * 7 + 2 * (lstm(7) + 2 * lstm(8)) + 60 * 9
    assert max(float(np.abs(w).max()) for w in small.get_weights()) <= 0.08


def test_a_compiled_model_saves_and_loads(tmp_path):
    config = configs.get_config("smoke,attention")
    for name in ("reversed", "attention"):
        config = configs.get_config(f"smoke,{name}")
        model = build_model(config, 20, 30, steps_per_epoch=10)
        inputs = _inputs(np.random.default_rng(0), vocab=20)
        model(inputs)
        model.save(tmp_path / f"{name}.keras")
        loaded = keras.saving.load_model(tmp_path / f"{name}.keras")
        np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(inputs)),
                                   keras.ops.convert_to_numpy(model(inputs)), rtol=1e-6)


def test_config_errors_name_the_key():
    with pytest.raises(configs.ConfigError, match="unknown model"):
        configs.get_config("cpu,sideways")
    config = configs.get_config("cpu")
    config.beam_sizes = (0,)
    with pytest.raises(configs.ConfigError, match="beam_sizes"):
        configs.validate(config)


@pytest.mark.parametrize("spec", ["smoke,reversed", "smoke,attention"])
def test_the_loss_reaches_every_encoder_weight(spec):
    """The decoder reads the encoder (its final states, or its annotations through attention): every encoder
    weight gets a gradient from the target words' loss."""
    import tensorflow as tf

    model = build_model(configs.get_config(spec), 20, 30, steps_per_epoch=10)
    inputs = _inputs(np.random.default_rng(0), vocab=20)
    target_out = np.roll(inputs["target_in"], -1, axis=1)
    with tf.GradientTape() as tape:
        loss = model.loss(target_out, model(inputs))
    encoder = [w for w in model.trainable_weights if "encoder" in w.path or "source_embedding" in w.path]
    assert encoder
    for weight, grad in zip(encoder, tape.gradient(loss, encoder), strict=True):
        assert grad is not None and float(tf.reduce_max(tf.abs(tf.convert_to_tensor(grad)))) > 0, weight.path


def test_vocabulary_keeps_words_seen_often_enough():
    vocabulary = pipeline.Vocabulary.from_sentences([("x", "y", "x"), ("z", "x", "y")], min_count=2)
    assert vocabulary.words == [*pipeline.SPECIALS, "x", "y"]
