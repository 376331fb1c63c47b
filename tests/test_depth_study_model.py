"""Depth study models: the papers' parameter counts, option-A shortcuts, weight decay, the lesion, and saving
(resnet.py, densenet.py, block_lesion.py, model.py)."""

import os
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

from papers.depth_study import block_lesion
from papers.depth_study.block_lesion import lesion_logits
from papers.depth_study.densenet import DenseLayer, DenseNet
from papers.depth_study.model import build_model, count_params
from papers.depth_study.resnet import BasicBlock, CifarResNet, OptionAShortcut, resnet, resnet_param_count

# akamaster/pytorch_resnet_cifar10 resnet.py's self-test (trainable parameters: BN gamma and beta included,
# moving statistics not), on CIFAR's 32x32x3; He et al. 2016 Table 6 rounds them to 0.27M .. 19.4M.
RESNET_PARAMS = {20: 269_722, 32: 464_154, 44: 658_586, 56: 853_018, 110: 1_727_962, 1202: 19_421_274}
PAPER_RESNET_MILLIONS = {20: 0.27, 32: 0.46, 44: 0.66, 56: 0.85, 110: 1.7, 1202: 19.4}


def randomize_bn(model, seed=0):
    """Gives every BN layer non-trivial gamma, beta and moving statistics, so inference mode is visible."""
    rng = np.random.default_rng(seed)
    for w in model.weights:
        shape = tuple(w.shape)
        if w.name == "moving_mean" or w.name == "beta":
            w.assign(rng.normal(0, 0.3, shape).astype("float32"))
        elif w.name == "moving_variance" or w.name == "gamma":
            w.assign(rng.uniform(0.5, 1.5, shape).astype("float32"))


def tiny_resnet(residual=True, depth=14, seed=0):
    keras.utils.set_random_seed(seed)
    model = build_model(f"{'resnet' if residual else 'plain'}{depth}", input_shape=(8, 8, 3), width=4)
    randomize_bn(model, seed)
    return model


def images(n=3, size=8, channels=3, seed=1):
    return np.random.default_rng(seed).normal(size=(n, size, size, channels)).astype("float32")


def snapshot(model):
    return [np.array(w.numpy()) for w in model.weights]


# --- parameter counts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [20, 32, 44, 56, 110])
def test_resnet_and_plain_parameter_counts_match_the_paper(depth):
    resnet = build_model(f"resnet{depth}")
    plain = build_model(f"plain{depth}")
    assert count_params(resnet) == RESNET_PARAMS[depth]
    assert count_params(plain) == RESNET_PARAMS[depth]  # option A adds no parameter
    assert resnet_param_count(depth) == RESNET_PARAMS[depth]
    assert round(RESNET_PARAMS[depth] / 1e6, 2 if depth < 110 else 1) == PAPER_RESNET_MILLIONS[depth]
    convs = [w for w in resnet.trainable_weights if len(w.shape) == 4]
    assert len(convs) + 1 == depth  # 6n + 2 weighted layers: the convolutions and the dense layer


def test_resnet1202_parameter_count_from_the_layer_shapes():
    assert resnet_param_count(1202) == RESNET_PARAMS[1202]


@pytest.mark.parametrize("depth,width,channels,classes", [(8, 4, 1, 3), (14, 8, 3, 10), (26, 6, 2, 100)])
def test_the_shape_count_equals_the_built_count(depth, width, channels, classes):
    """`resnet_param_count` is what test_resnet1202 trusts: it must agree with built models of other shapes."""
    for name in ("resnet", "plain"):
        model = build_model(f"{name}{depth}", input_shape=(8, 8, channels), width=width, num_classes=classes)
        assert count_params(model) == resnet_param_count(depth, width, classes, channels)


@pytest.mark.skipif(not os.environ.get("DEPTH_STUDY_BUILD_1202"),
                    reason="tracing ResNet-1202's 600 blocks to build them is slow on a CPU; the count is asserted"
                           " from the layer shapes above; set DEPTH_STUDY_BUILD_1202=1 to build it")
def test_resnet1202_built_parameter_count():
    assert count_params(build_model("resnet1202")) == RESNET_PARAMS[1202]


def test_densenet_parameter_counts_match_the_paper():
    # Huang et al. 2017 Table 2 / liuzhuang13/DenseNet README: 1.0M and 0.8M. The exact counts are those of the
    # Torch model: bias-free convolutions, BN gamma and beta, the classifier with bias.
    dn40 = build_model("densenet40")
    assert count_params(dn40) == 1_019_722
    bc100 = build_model("densenet_bc100")
    assert count_params(bc100) == 769_162
    assert round(count_params(dn40) / 1e6, 1) == 1.0 and round(count_params(bc100) / 1e6, 1) == 0.8
    assert [t.filters for t in bc100.transitions] == [108, 150]  # compression 0.5: 216 -> 108, 300 -> 150
    assert bc100.stem_channels == 24 and dn40.stem_channels == 16
    assert len(bc100.dense_layers) == 48 and len(dn40.dense_layers) == 36


def test_invalid_depths_and_names_say_what_is_valid():
    with pytest.raises(ValueError, match=r"6n \+ 2.*20, 32, 44, 56, 110, 1202.*got 21"):
        CifarResNet(21)
    with pytest.raises(ValueError, match=r"3m \+ 4.*got 41"):
        DenseNet(41)
    with pytest.raises(ValueError, match=r"6m \+ 4.*got 42"):
        build_model("densenet_bc42")
    with pytest.raises(ValueError, match="unknown architecture 'resnet_20'.*resnet<6n\\+2>"):
        build_model("resnet_20")


def test_build_model_names():
    assert build_model("plain20", input_shape=(8, 8, 1), width=4).residual is False
    assert build_model("resnet20", input_shape=(8, 8, 1), width=4).residual is True
    dn = build_model("densenet10_k4", input_shape=(8, 8, 1))
    assert (dn.growth_rate, dn.bottleneck, dn.compression) == (4, False, 1.0)
    bc = build_model("densenet_bc16", input_shape=(8, 8, 1), growth_rate=4, num_classes=3)
    assert (bc.growth_rate, bc.bottleneck, bc.compression) == (4, True, 0.5)
    assert tuple(bc(images(2, 8, 1)).shape) == (2, 3)


# --- He et al.'s network ------------------------------------------------------------------------------------


@pytest.mark.parametrize("size,channels", [(32, 3), (28, 1)])
def test_resnet_shapes_and_downsampling_blocks(size, channels):
    model = build_model("resnet20", input_shape=(size, size, channels), width=4)
    assert len(model.blocks) == 9
    assert [i for i, b in enumerate(model.blocks) if b.downsamples] == [3, 6]
    x = model.stem(images(2, size, channels))
    for block in model.blocks:
        x = block(x)
    assert tuple(x.shape) == (2, -(-size // 4), -(-size // 4), 16)
    assert tuple(model(images(2, size, channels)).shape) == (2, 10)


def test_option_a_shortcut_subsamples_and_zero_pads():
    model = build_model("resnet20", input_shape=(32, 32, 3))
    x = np.abs(images(2, 32, 16, seed=2))
    for i in (3, 6):  # the two downsampling blocks: 16 -> 32 channels on 32 -> 16, then 32 -> 64 on 16 -> 8
        block = model.blocks[i]
        assert block.shortcut.weights == [] and block.downsamples
        y = np.asarray(block.shortcut(x))
        h, c = x.shape[1], x.shape[-1]
        assert y.shape == (2, h // 2, h // 2, 2 * c)
        np.testing.assert_array_equal(y[..., :c], x[:, ::2, ::2, :])
        assert np.all(y[..., c:] == 0)  # the new channels are exactly zero (appended after the input's)
        assert tuple(block(x).shape) == y.shape
        x = np.asarray(block(x))
    assert sum(len(b.shortcut.weights) for b in model.blocks) == 0


def test_stride_two_convolution_is_centred_on_the_pixels_the_shortcut_keeps():
    """With centre-tap kernels and identity BNs the residual branch copies its input: it must sample
    x[::2, ::2] like the shortcut (Torch's pad 1), not x[1::2, 1::2] as Keras' 'same' padding would."""
    block = BasicBlock(4, stride=2)
    block(np.zeros((1, 8, 8, 2), "float32"))  # built by tracing its call
    for conv, c_in in ((block.conv1, 2), (block.conv2, 4)):
        kernel = np.zeros((3, 3, c_in, 4), dtype="float32")
        kernel[1, 1, np.arange(c_in), np.arange(c_in)] = 1.0
        conv.kernel.assign(kernel)
    x = np.abs(images(1, 8, 2))
    y = np.asarray(block.residual_branch(x, training=False))
    assert y.shape == (1, 4, 4, 4)
    np.testing.assert_allclose(y[..., :2], x[:, ::2, ::2, :], rtol=1e-4)
    np.testing.assert_allclose(np.asarray(block.shortcut(x))[..., :2], x[:, ::2, ::2, :])


def test_weight_decay_equals_sgd_weight_decay_1e4_on_kernels_only():
    model = build_model("resnet20", input_shape=(8, 8, 3), width=4)
    kernels = [w for w in model.trainable_weights if w.name == "kernel"]
    assert len(model.losses) == len(kernels) == 20  # 19 convolutions and the dense layer; no BN, no bias
    with tf.GradientTape() as tape:
        penalty = tf.add_n(model.losses)
    grads = tape.gradient(penalty, [w.value for w in model.trainable_weights])
    for w, g in zip(model.trainable_weights, grads, strict=True):
        if w.name == "kernel":  # d/dw of the L2 term = 1e-4 * w: SGD's weight decay 1e-4
            np.testing.assert_allclose(g.numpy(), 1e-4 * w.numpy(), rtol=1e-5, atol=1e-12)
        else:
            assert g is None
    assert count_params(build_model("resnet20", input_shape=(8, 8, 3), width=4, weight_decay=0.0)) > 0
    assert build_model("resnet20", input_shape=(8, 8, 3), width=4, weight_decay=0.0).losses == []


def test_batchnorm_uses_the_torch_momentum_and_epsilon():
    model = build_model("resnet20", input_shape=(8, 8, 3), width=4)
    assert (model.stem_bn.momentum, model.stem_bn.epsilon) == (0.9, 1e-5)


def test_plain_net_has_no_shortcut_path():
    """A plain block is ReLU(F(x)): with F's last BN zeroed it outputs zero, a residual block outputs ReLU(x)."""
    x = np.abs(images(2, 8, 4))
    for residual in (True, False):
        block = BasicBlock(4, residual=residual)
        block(np.zeros_like(x))
        block.bn2.gamma.assign(np.zeros(4, "float32"))
        block.bn2.beta.assign(np.zeros(4, "float32"))
        expected = x if residual else np.zeros_like(x)
        np.testing.assert_allclose(np.asarray(block(x, training=False)), expected, atol=1e-6)


# --- the lesion (Veit et al. 2016) --------------------------------------------------------------------------


def reference_forward(model, x, deleted=()):
    """The network written out by hand from its layers, with deleted blocks outputting option A's s(x)."""
    def bn(layer, h):
        return (h - layer.moving_mean.numpy()) / np.sqrt(layer.moving_variance.numpy() + layer.epsilon) \
            * layer.gamma.numpy() + layer.beta.numpy()

    def option_a(h, block):
        if block.downsamples:
            h = h[:, ::2, ::2, :]
        return np.concatenate([h, np.zeros((*h.shape[:-1], block.filters - h.shape[-1]), h.dtype)], axis=-1)

    relu = lambda h: np.maximum(h, 0)  # noqa: E731
    h = relu(bn(model.stem_bn, np.asarray(model.stem_conv(x))))
    for i, block in enumerate(model.blocks):
        if i in deleted:
            h = option_a(h, block)
            continue
        padded = np.pad(h, [(0, 0), (1, 1), (1, 1), (0, 0)]) if block.downsamples else h
        f = bn(block.bn2, np.asarray(block.conv2(relu(bn(block.bn1, np.asarray(block.conv1(padded)))))))
        h = relu(f + option_a(h, block)) if model.residual else relu(f)
    return np.asarray(model.classifier(h.mean(axis=(1, 2))))


def keep_all_but(model, deleted=()):
    keep = np.ones(len(model.blocks), dtype=bool)
    keep[list(deleted)] = False
    return keep


def with_blocks_as_shortcuts(model, deleted):
    """`model`'s own layers (shared weights) as a keras.Sequential whose blocks in `deleted` are option-A shortcuts
    s(x) of their shape: the network Veit et al. evaluate, written as a model of its own rather than by `where`."""
    return keras.Sequential([model.stem_conv, model.stem_bn, keras.layers.ReLU(),
                             *(OptionAShortcut(b.filters, b.stride, name=f"{b.name}_deleted") if i in deleted else b
                               for i, b in enumerate(model.blocks)),
                             model.pool, model.classifier])


@pytest.mark.parametrize("residual", [True, False])
def test_keeping_every_block_is_the_intact_network_in_inference_mode(residual):
    model = tiny_resnet(residual)
    x = images()
    out = np.asarray(lesion_logits(model, x, keep_all_but(model)))
    np.testing.assert_array_equal(out, np.asarray(model(x, training=False)))
    np.testing.assert_allclose(out, reference_forward(model, x), rtol=1e-4, atol=1e-5)
    assert not np.allclose(np.asarray(model(x, training=True)), out, atol=1e-3)  # BN's statistics are visible


@pytest.mark.parametrize("residual", [True, False])
def test_deleting_blocks_equals_the_network_whose_blocks_are_their_shortcut(residual):
    """Every block, downsampling ones included (2 and 4), of the ResNet and of the plain control, and a set of
    three: the lesion computes the network with those blocks replaced by s(x), the output changes, and no weight
    of the model moves (not even BN's moving statistics)."""
    model = tiny_resnet(residual)
    x = images(4)
    intact = np.asarray(model(x, training=False))
    before = snapshot(model)
    assert [b.downsamples for b in model.blocks] == [False, False, True, False, True, False]
    for deleted in ([0], [1], [2], [3], [4], [5], [1, 2, 5]):
        out = np.asarray(lesion_logits(model, x, keep_all_but(model, deleted)))
        assert out.shape == (4, 10)
        np.testing.assert_allclose(out, np.asarray(with_blocks_as_shortcuts(model, deleted)(x, training=False)),
                                   rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(out, reference_forward(model, x, set(deleted)), rtol=1e-4, atol=1e-5)
        assert not np.allclose(out, intact, atol=1e-4)
    for a, b in zip(before, snapshot(model), strict=True):
        np.testing.assert_array_equal(a, b)


def test_deleting_a_residual_block_equals_zeroing_its_branch():
    """Veit et al.'s lesion keeps only the shortcut: the same as a copy of the network whose block i has
    F(x) = 0 (last BN's gamma and beta zeroed), since ReLU(s(x)) = s(x) for the non-negative x."""
    model = tiny_resnet(True)
    x = images()
    copy = CifarResNet.from_config(model.get_config())
    copy(x)
    for i in (1, 2, 5):
        copy.set_weights(model.get_weights())
        copy.blocks[i].bn2.gamma.assign(np.zeros(copy.blocks[i].filters, "float32"))
        copy.blocks[i].bn2.beta.assign(np.zeros(copy.blocks[i].filters, "float32"))
        np.testing.assert_allclose(np.asarray(lesion_logits(model, x, keep_all_but(model, [i]))),
                                   np.asarray(copy(x, training=False)), rtol=1e-5, atol=1e-6)


def test_deleting_every_block_leaves_the_stem_and_the_head():
    model = tiny_resnet(False)
    x = images()
    out = np.asarray(lesion_logits(model, x, keep_all_but(model, range(6))))
    np.testing.assert_allclose(out, reference_forward(model, x, set(range(6))), rtol=1e-4, atol=1e-5)


def test_one_compiled_trace_serves_every_lesion_set(monkeypatch):
    """The run evaluates hundreds of sets: `keep` is an input of the view's predict step, not Python structure, so
    the network is traced once (Python runs `lesion_logits` only while tracing) and each set is still its own."""
    model = tiny_resnet(True)
    x = images(4)
    traced = []
    eager = block_lesion.lesion_logits
    monkeypatch.setattr(block_lesion, "lesion_logits", lambda *args: traced.append(1) or eager(*args))
    view = block_lesion.LesionView(model)
    assert {id(w) for w in view.weights} == {id(w) for w in model.weights}  # the model's own weights
    outputs = []
    for deleted in ([], [0], [2], [1, 3, 4], list(range(6))):
        keep = keep_all_but(model, deleted)
        outputs.append(view.predict_on_batch((x, keep)))
        np.testing.assert_allclose(outputs[-1], np.asarray(eager(model, x, keep)), rtol=1e-5, atol=1e-6)
    assert len(traced) == 1
    assert not np.allclose(outputs[1], outputs[2], atol=1e-4)
    model.classifier.bias.assign(model.classifier.bias.numpy() + 1.0)  # shared, not copied
    np.testing.assert_allclose(view.predict_on_batch((x, keep_all_but(model, [2]))), outputs[2] + 1.0, atol=1e-5)


def test_lesion_refuses_a_wrong_keep_or_an_unbuilt_model():
    model = tiny_resnet(True)
    with pytest.raises(ValueError, match=r"one entry per block of resnet14: shape \(6,\), got \(5,\)"):
        lesion_logits(model, images(), np.ones(5, bool))
    with pytest.raises(ValueError, match="build resnet14"):
        block_lesion.LesionView(resnet(14, width=4))


# --- DenseNet -----------------------------------------------------------------------------------------------


def test_densenet_dropout_only_in_training_and_only_when_asked():
    x = images(2, 8, 3)
    keras.utils.set_random_seed(0)
    with_dropout = build_model("densenet_bc16_k4", input_shape=(8, 8, 3), dropout_rate=0.2)
    a, b = (np.asarray(with_dropout(x, training=True)) for _ in range(2))
    assert not np.allclose(a, b)
    np.testing.assert_array_equal(np.asarray(with_dropout(x, training=False)), np.asarray(with_dropout(x)))
    keras.utils.set_random_seed(0)
    without = build_model("densenet_bc16_k4", input_shape=(8, 8, 3))
    # without dropout, training mode differs from inference only through BN's batch statistics: deterministic
    np.testing.assert_array_equal(np.asarray(without(x, training=True)), np.asarray(without(x, training=True)))


def test_dense_layer_concatenates_k_new_maps_to_its_input():
    layer = DenseLayer(growth_rate=5, bottleneck=True)
    x = images(2, 8, 7)
    y = np.asarray(layer(x))
    assert y.shape == (2, 8, 8, 12)
    np.testing.assert_array_equal(y[..., :7], x)
    assert layer.conv0.kernel.shape == (1, 1, 7, 20) and layer.conv.kernel.shape == (3, 3, 20, 5)


# --- saving ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("arch", ["resnet14", "plain14", "densenet_bc16_k4", "densenet10_k4"])
def test_keras_file_round_trip(arch, tmp_path):
    keras.utils.set_random_seed(0)
    kwargs = {"width": 4} if arch.startswith(("resnet", "plain")) else {"dropout_rate": 0.2}
    model = build_model(arch, input_shape=(8, 8, 3), **kwargs)
    randomize_bn(model)
    x = images()
    path = tmp_path / f"{arch}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is type(model) and loaded.get_config() == model.get_config()
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    if arch.startswith(("resnet", "plain")):
        assert [b.downsamples for b in loaded.blocks] == [b.downsamples for b in model.blocks]
        keep = keep_all_but(model, [2])
        np.testing.assert_array_equal(np.asarray(lesion_logits(loaded, x, keep)),
                                      np.asarray(lesion_logits(model, x, keep)))


def summary_text(model):
    lines = []
    model.summary(print_fn=lambda line, **_: lines.append(line))
    return "\n".join(lines)


@pytest.mark.parametrize("arch,trainable", [("plain20", 269_722), ("densenet40", 1_019_722)])
def test_built_by_tracing_call_without_warnings_and_summarised(arch, trainable, tmp_path):
    """The models have no hand-written build: build_model (and loading) trace `call` once and must leave no layer
    unbuilt, a plain block's unused shortcut included (Keras warns about unbuilt state otherwise)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        model = build_model(arch)
        model.save(tmp_path / "m.keras")
        loaded = keras.saving.load_model(tmp_path / "m.keras")
    for m in (model, loaded):
        assert f"Trainable params: {trainable:,}" in summary_text(m)
        assert count_params(m) == trainable and m.count_params() == count_params(m, trainable_only=False)
