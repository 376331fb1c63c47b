"""Pointer Networks' models: shapes, masks, the loss, saving, a tiny overfit (search: test_..._decoding.py)."""

import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf

from common.attention import NEG_INF, ContentAttention
from papers.pointer_networks import constraints, geometry, metrics
from papers.pointer_networks.baseline_models import AttentionLSTM, Seq2SeqLSTM, previous_class
from papers.pointer_networks.model import (
    PointerNet,
    SequenceNLL,
    centred,
    encode_points,
    sequence_nll,
    with_eos,
)

UNITS = 16
MODELS = {
    "lstm": lambda **kw: Seq2SeqLSTM(n_max=8, units=UNITS, **kw),
    "attention": lambda **kw: AttentionLSTM(n_max=8, units=UNITS, **kw),
    "attention_no_feeding": lambda **kw: AttentionLSTM(n_max=8, units=UNITS, input_feeding=False, **kw),
    "ptrnet": lambda **kw: PointerNet(units=UNITS, **kw),
}


def make_model(name, seed=0, **kwargs):
    keras.utils.set_random_seed(seed)
    model = MODELS[name](**kwargs)
    model.build()
    return model


def hull_batch(n_instances, n_points, seed, eos):
    points = geometry.random_points(n_instances, n_points, seed)
    return points, with_eos(geometry.convex_hull_targets(points), eos)


def n_out(model, n_points):
    return model.eos_index(n_points) + 1


# --- the models -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(MODELS))
def test_output_shapes(name):
    model = make_model(name)
    points, targets = hull_batch(3, 6, seed=0, eos=model.eos_index(6))
    logits = model({"points": points, "targets": targets})
    expected_classes = 7 if name == "ptrnet" else 9  # n + 1 for the pointer, n_max + 1 for the dictionaries
    assert tuple(logits.shape) == (3, targets.shape[1], expected_classes)


def test_pointer_output_grows_with_n_but_the_dictionary_is_fixed():
    ptr = make_model("ptrnet")
    ptr(dict(zip(["points", "targets"], hull_batch(2, 5, 0, eos=5), strict=True)))  # first called at n = 5
    logits = ptr(dict(zip(["points", "targets"], hull_batch(2, 10, 1, eos=10), strict=True)))
    assert logits.shape[-1] == 11
    lstm = make_model("lstm")
    assert lstm(dict(zip(["points", "targets"], hull_batch(2, 5, 0, eos=8), strict=True))).shape[-1] == 9
    with pytest.raises(ValueError, match="n_max=8"):
        lstm(dict(zip(["points", "targets"], hull_batch(2, 10, 1, eos=8), strict=True)))


@pytest.mark.parametrize("name", sorted(MODELS))
def test_teacher_forcing_equals_step_by_step_decoding(name):
    """`call` (all steps at once) and `decode_step` (what the search uses) compute the same logits."""
    model = make_model(name)
    points, targets = hull_batch(4, 7, seed=1, eos=model.eos_index(7))
    lengths = np.array([7, 5, 6, 7], dtype=np.int32)
    targets = np.where(targets >= lengths[:, None], -1, targets)  # any classes will do; keep them real
    logits = np.asarray(model({"points": points, "targets": targets, "lengths": lengths}))
    memory, state = model.encode(points, lengths)
    previous = np.full(4, -1)
    for step in range(targets.shape[1]):
        step_logits, state = model.decode_step(memory, state, previous)
        np.testing.assert_allclose(np.asarray(step_logits), logits[:, step], atol=1e-5)
        previous = targets[:, step]


def test_decoder_inputs_follow_the_paper():
    """Ptr-Net reads the embedded point it pointed to (the start vector first); the baselines, the class."""
    ptr = make_model("ptrnet")
    points = geometry.random_points(2, 5, seed=2)
    memory, _ = ptr.encode(points)
    previous = keras.ops.convert_to_tensor(np.array([[-1, 3, 0], [-1, 4, 5]], dtype=np.int32))
    x = np.asarray(ptr.decoder_inputs(memory, previous))
    embedded = np.asarray(ptr.embed(centred(points)))  # the points moved to [-1, 1]^2 (2 P - 1), then embedded
    start = np.asarray(ptr.start)
    np.testing.assert_allclose(x[:, 0], [start, start], atol=1e-6)
    np.testing.assert_allclose(x[0, 1:], embedded[0, [3, 0]], atol=1e-6)
    np.testing.assert_allclose(x[1, 1], embedded[1, 4], atol=1e-6)
    lstm = make_model("lstm")
    x = np.asarray(lstm.class_embedding(previous_class(previous, lstm.n_max)))
    table = np.asarray(lstm.class_embedding.embeddings)
    np.testing.assert_allclose(x, table[[[9, 3, 0], [9, 4, 5]]], atol=1e-6)  # row n_max + 1 is the start


def test_every_parameter_starts_uniform_in_the_papers_range():
    for name in MODELS:
        model = make_model(name)
        assert model.trainable_weights
        for weight in model.trainable_weights:
            values = np.asarray(weight)
            assert np.abs(values).max() <= 0.08, weight.path
            assert np.abs(values).max() > 0.04, weight.path  # not zeros, not a narrower range


@pytest.mark.parametrize("name", ["ptrnet", "attention"])
def test_padded_points_change_nothing(name):
    """An instance padded with junk points and given its length has the outputs of the unpadded instance."""
    model = make_model(name, init_scale=0.5)  # logits of order 1, so that a difference shows
    points, targets = hull_batch(3, 5, seed=2, eos=model.eos_index(5))
    junk = np.random.default_rng(0).random((3, 3, 2)).astype(np.float32)
    padded = np.concatenate([points, junk], axis=1)
    padded_targets = np.where(targets == model.eos_index(5), model.eos_index(8), targets)
    plain = np.asarray(model({"points": points, "targets": targets}))
    masked = np.asarray(model({"points": padded, "targets": padded_targets, "lengths": np.full(3, 5)}))
    if name == "ptrnet":  # the pointer's classes move: 0..4 are the points, then padding, then EOS
        masked = np.concatenate([masked[..., :5], masked[..., -1:]], axis=-1)
    np.testing.assert_allclose(masked, plain, atol=1e-5)
    unmasked = np.asarray(model({"points": padded, "targets": padded_targets}))
    assert np.abs(unmasked[..., :5] - plain[..., :5]).max() > 1e-2


def test_attention_weights_sum_to_one_and_ignore_padding():
    model = make_model("attention")
    points = geometry.random_points(4, 8, seed=3)
    lengths = np.array([8, 3, 5, 1])
    memory, _ = model.encode(points, lengths)
    d = keras.random.normal((4, 6, UNITS), seed=1)
    weights, context = (np.asarray(x) for x in model.attend(memory, d))
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, atol=1e-6)
    padding = np.arange(8)[None, None, :] >= lengths[:, None, None]
    assert (weights[np.broadcast_to(padding, weights.shape)] == 0).all()
    assert (weights[~np.broadcast_to(padding, weights.shape)] > 0).all()
    assert context.shape == (4, 6, UNITS)

    ptr = make_model("ptrnet")
    targets = np.zeros((4, 5), dtype=np.int32)
    probs = np.asarray(keras.ops.softmax(ptr({"points": points, "targets": targets, "lengths": lengths})))
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0, atol=1e-6)
    pad9 = np.concatenate([padding[:, :, :], np.zeros((4, 1, 1), bool)], axis=-1)  # EOS (last) is never padding
    assert (probs[np.broadcast_to(pad9, probs.shape)] == 0).all()
    assert (probs[..., -1] > 0).all()


def test_gradients_reach_every_weight():
    for name in MODELS:
        model = make_model(name)
        points, targets = hull_batch(4, 6, seed=4, eos=model.eos_index(6))
        with tf.GradientTape() as tape:
            loss = keras.ops.mean(sequence_nll(targets, model({"points": points, "targets": targets})))
        grads = tape.gradient(loss, model.trainable_weights)
        for weight, grad in zip(model.trainable_weights, grads, strict=True):
            assert grad is not None and np.abs(tf.convert_to_tensor(grad).numpy()).max() > 0, (name, weight.path)


# --- the loss -------------------------------------------------------------------------------------------

def test_with_eos_appends_eos_and_flattens_triangles():
    hull = np.array([[0, 2, 1, -1], [3, 1, 0, 2]], dtype=np.int32)
    np.testing.assert_array_equal(with_eos(hull, 4), [[0, 2, 1, 4, -1], [3, 1, 0, 2, 4]])
    triangles = np.array([[[0, 1, 2], [1, 3, 2], [-1, -1, -1]]], dtype=np.int32)
    np.testing.assert_array_equal(with_eos(triangles, 4), [[0, 1, 2, 1, 3, 2, 4, -1, -1, -1]])


def test_masked_loss_ignores_padded_steps():
    rng = np.random.default_rng(0)
    targets = np.array([[1, 0, 3, -1, -1], [2, 3, 1, 0, 4]], dtype=np.int32)
    logits = rng.normal(size=(2, 5, 5)).astype(np.float32)
    loss = np.asarray(sequence_nll(targets, logits))
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    expected = [-sum(log_p[b, t, targets[b, t]] for t in range(5) if targets[b, t] >= 0) for b in range(2)]
    np.testing.assert_allclose(loss, expected, rtol=1e-5)

    changed = logits.copy()
    changed[0, 3:] = rng.normal(size=(2, 5)) * 10  # only padded steps
    np.testing.assert_allclose(np.asarray(sequence_nll(targets, changed)), loss, rtol=1e-6)
    changed[0, 2] += 5.0 * np.eye(5)[0]  # a real step
    assert not np.isclose(np.asarray(sequence_nll(targets, changed))[0], loss[0])
    # the Keras loss: the batch mean, and y_true arrives as floats
    keras_loss = SequenceNLL()(targets.astype(np.float32), logits)
    np.testing.assert_allclose(float(keras_loss), loss.mean(), rtol=1e-5)


# --- saving ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(MODELS))
def test_config_round_trip_and_keras_file(name, tmp_path):
    model = make_model(name, seed=1)
    points, targets = hull_batch(3, 6, seed=5, eos=model.eos_index(6))
    inputs = {"points": points, "targets": targets}
    expected = np.asarray(model(inputs))

    config = model.get_config()
    for key in ("units", "embedding_dim", "init_scale", "n_max", "input_feeding"):
        assert config.get(key, getattr(model, key, None)) == getattr(model, key, None), key
    clone = type(model).from_config(config)
    clone.build()
    assert clone.get_config() == config
    clone.set_weights(model.get_weights())
    np.testing.assert_array_equal(np.asarray(clone(inputs)), expected)

    model.compile(keras.optimizers.Adam(1e-3), SequenceNLL())
    model.optimizer.build(model.trainable_variables)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(np.asarray(loaded(inputs)), expected)
    assert isinstance(loaded.loss, SequenceNLL)
    # the file names the model, not its layers: moving ContentAttention to common/ left old files loadable
    assert "ContentAttention" not in zipfile.ZipFile(path).read("config.json").decode()


def test_content_attention_is_eq_3_built_on_first_use_and_keeps_its_old_name():
    """common/attention.py's layer, built by the model (Ptr-Net) or on first use (seq2seq's Bahdanau model, whose
    encoder, decoder and attention sizes differ); the name it was registered under here still resolves."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    e, d = rng.normal(size=(2, 5, 6)).astype(np.float32), rng.normal(size=(2, 3, 7)).astype(np.float32)
    mask = np.array([[True] * 5, [True] * 3 + [False] * 2])
    layer = ContentAttention(4)
    u = np.asarray(layer(layer.project(e), d, mask))
    assert [(w.name, tuple(w.shape)) for w in layer.weights] == [("W1", (6, 4)), ("W2", (7, 4)), ("v", (4,))]
    w1, w2, v = (np.asarray(w) for w in layer.weights)
    expected = (np.tanh((e @ w1)[:, None] + (d @ w2)[:, :, None]) * v).sum(axis=-1)  # v^T tanh(W1 e_j + W2 d_i)
    np.testing.assert_allclose(u[0], expected[0], atol=1e-5)
    np.testing.assert_allclose(u[1, :, :3], expected[1, :, :3], atol=1e-5)
    assert (u[1, :, 3:] == NEG_INF).all()
    saved = keras.saving.serialize_keras_object(layer)
    assert saved["registered_name"] == "common>ContentAttention"
    old = keras.saving.deserialize_keras_object({**saved, "registered_name": "pointer_networks>ContentAttention"})
    assert type(old) is ContentAttention and [tuple(w.shape) for w in old.weights] == [(6, 4), (7, 4), (4,)]


# --- learning -------------------------------------------------------------------------------------------

def test_pointer_net_overfits_a_few_convex_hulls():
    """Gradients flow through the pointer: 8 fixed hulls are learned exactly in 200 Adam steps."""
    keras.utils.set_random_seed(0)
    points = geometry.random_points(8, 6, seed=3)
    hulls = geometry.convex_hull_targets(points)
    targets = with_eos(hulls, 6)
    model = PointerNet(units=32)
    model.build()
    model.compile(keras.optimizers.Adam(1e-2, clipnorm=2.0), SequenceNLL())
    before, _ = constraints.search(model, points, constraints.TaskConstraint(6))
    repeats = 200
    model.fit({"points": np.tile(points, (repeats, 1, 1)), "targets": np.tile(targets, (repeats, 1))},
              np.tile(targets, (repeats, 1)), batch_size=8, epochs=1, shuffle=False, verbose=0)
    after, _ = constraints.search(model, points, constraints.TaskConstraint(6))
    assert metrics.sequence_accuracy(before, hulls) < 0.5
    assert metrics.sequence_accuracy(after, hulls) == 1.0


def test_points_enter_the_embedding_centred():
    """The unit square is moved to [-1, 1]^2 (model docstring): its centre embeds to the bias, its corners to +-W."""
    assert np.allclose(centred(np.array([[0.0, 0.0], [0.5, 0.5], [1.0, 1.0]])), [[-1, -1], [0, 0], [1, 1]])
    model = make_model("lstm")
    points = np.array([[[0.5, 0.5], [1.0, 0.5], [0.0, 0.5]]], dtype=np.float32)
    x, *_ = encode_points(model.embed, model.encoder, points)
    kernel, bias = (np.asarray(w) for w in model.embed.weights)
    np.testing.assert_allclose(np.asarray(x)[0], [bias, bias + kernel[0], bias - kernel[0]], atol=1e-6)
