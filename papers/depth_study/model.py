"""The depth study's networks: He et al. 2016's CIFAR ResNets and plain nets, Huang et al. 2017's DenseNets,
and Veit et al. 2016's lesion of residual blocks at test time.

ResNet / plain net (He et al. 2016, Sec. 4.2, "CIFAR-10 and Analysis"; `CifarResNet`):

    depth = 6n + 2, n in {3, 5, 7, 9, 18, 200} -> ResNet-20, 32, 44, 56, 110, 1202
    x -> conv3x3(w) - BN - ReLU                                       the stem ("the first layer is 3x3 convolutions")
      -> 3 stages of n blocks, w / 2w / 4w filters on 32 / 16 / 8 maps  (w = 16: "{16, 32, 64} filters")
         the first block of stages 2 and 3 has stride 2               ("subsampling by convolutions with a stride of 2")
      -> global average pooling -> Dense(10) (logits)                 ("ends with a global average pooling, a 10-way
                                                                        fully-connected layer, and softmax")

A block (`BasicBlock`, Fig. 2 and eq. 1, the original post-activation unit):

    residual:  y = ReLU(F(x) + s(x)),  F(x) = BN(W2 ReLU(BN(W1 x)))   (eq. 1, with the ReLU after the addition)
    plain:     y = ReLU(F(x))                                          (the same layers, no shortcut)

s is the option-A shortcut (Sec. 3.3 and 4.2, "identity shortcuts in all cases"): the identity, or at a
downsampling block x[:, ::2, ::2, :] with the new channels zero (`OptionAShortcut`; no parameters, so a plain
net and its ResNet have the same parameter count). The zero channels are appended *after* the input's, as in
fb.resnet.torch's `shortcutType A` (`nn.Concat` of the input and a zeroed copy) that He et al. link as the CIFAR
reimplementation (akamaster pads half the new channels on each side; the two differ by a permutation of
channels, which the next convolution absorbs). A stride-2 3x3 convolution pads one pixel on every side (Caffe
/ Torch "pad 1"), so its windows are centred on the even pixels that x[::2] keeps; Keras' "same" would pad
only bottom/right and put the two branches half a pixel apart.

Training details the model fixes (Sec. 3.4 and 4.2): He init (`he_normal`) for every kernel, BN after every
convolution and so no conv bias, no dropout, weight decay 1e-4 on conv and dense kernels (see `_l2`), BN
momentum 0.9 and epsilon 1e-5 (the Torch / Caffe values the peers used; Keras' defaults are 0.99 / 1e-3).

DenseNet (Huang et al. 2017, Sec. 3 and 4; `DenseNet`): a first conv3x3 (16 channels; 2k for DenseNet-BC),
three dense blocks on 32 / 16 / 8 maps joined by transitions, then BN - ReLU - global average pool - Dense.

    dense layer   x_l = H_l([x_0, x_1, .., x_{l-1}])   (eq. 2), H_l = BN - ReLU - conv3x3(k)
    bottleneck    H_l = BN - ReLU - conv1x1(4k) - BN - ReLU - conv3x3(k)       ("DenseNet-B")
    transition    BN - ReLU - conv1x1(floor(theta m)) - avgpool 2x2, theta = 0.5 for "-C", 1 otherwise
    L = 3 (layers per block) + 4 (the first conv, two transitions, the classifier); with bottlenecks a
    layer is two convolutions, so (L - 4) / 6 layers per block.

Dropout 0.2 after every convolution but the first is the paper's setting without augmentation only.

The lesion (Veit, Wilber & Belongie 2016, Sec. 4, "Lesion study"): at test time delete residual block i, so
that it outputs its shortcut s(x) instead of ReLU(F(x) + s(x)). `lesioned(model, deleted)` builds that network
as a new model around the same layer objects (shared weights, nothing copied or changed), with BN in inference
mode. The same rule applies to the plain control: a deleted plain block outputs s(x) (the input, or at a
downsampling block the input subsampled and zero-padded), so the two networks are lesioned by the same function
and differ only in whether training used the shortcut path.
"""

import re

import keras
import numpy as np
from keras import ops

PACKAGE = "depth_study"
RESNET_DEPTHS = {20: 3, 32: 5, 44: 7, 56: 9, 110: 18, 1202: 200}  # depth -> n, the paper's Table 6
BN_MOMENTUM = 0.9
BN_EPSILON = 1e-5


def _l2(weight_decay: float):
    """The Keras regularizer equal to SGD weight decay `weight_decay` (the papers' 1e-4).

    SGD with weight decay lambda adds lambda * w to each gradient. Keras' L2(c) adds c * sum(w^2) to the loss,
    whose gradient is 2c * w; so c = lambda / 2 (L2(5e-5) for the papers' 1e-4).
    """
    return keras.regularizers.L2(weight_decay / 2) if weight_decay else None


def _conv(filters: int, kernel_size: int, weight_decay: float, name: str, stride: int = 1):
    """A bias-free convolution (BN follows it). Stride-2 convolutions get their padding from `_pad_for_stride`."""
    return keras.layers.Conv2D(filters, kernel_size, strides=stride, padding="same" if stride == 1 else "valid",
                               use_bias=False, kernel_initializer="he_normal",
                               kernel_regularizer=_l2(weight_decay), name=name)


def _bn(name: str):
    return keras.layers.BatchNormalization(momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name=name)


def _dense(units: int, weight_decay: float, name: str = "classifier"):
    return keras.layers.Dense(units, kernel_initializer="he_normal", kernel_regularizer=_l2(weight_decay), name=name)


def _pad_for_stride(x, kernel_size: int):
    """Pads (k - 1) / 2 pixels on every side, as Caffe / Torch's `pad`, before a stride-2 'valid' convolution."""
    p = (kernel_size - 1) // 2
    return ops.pad(x, [[0, 0], [p, p], [p, p], [0, 0]])


# --- He et al. 2016: the CIFAR ResNet and its plain twin ---------------------------------------------------------


@keras.saving.register_keras_serializable(package=PACKAGE)
class OptionAShortcut(keras.layers.Layer):
    """He et al. 2016's option A (Sec. 3.3): s(x) = x, or x[:, ::s, ::s, :] with zero channels appended.

    "The shortcut still performs identity mapping, with extra zero entries padded for increasing dimensions
    ... when the shortcuts go across feature maps of two sizes, they are performed with a stride of 2."
    The zeros come after the input's channels (module docstring). No parameters.
    """

    def __init__(self, filters: int, stride: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.stride = filters, stride

    def call(self, x):
        if self.stride > 1:
            x = x[:, :: self.stride, :: self.stride, :]
        extra = self.filters - x.shape[-1]
        if extra < 0:
            raise ValueError(f"option A cannot shrink {x.shape[-1]} channels to {self.filters}")
        return ops.pad(x, [[0, 0], [0, 0], [0, 0], [0, extra]]) if extra else x

    def compute_output_shape(self, input_shape):
        batch, h, w, _ = input_shape
        s = self.stride
        return (batch, None if h is None else -(-h // s), None if w is None else -(-w // s), self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "stride": self.stride}


@keras.saving.register_keras_serializable(package=PACKAGE)
class BasicBlock(keras.layers.Layer):
    """He et al. 2016's two-layer building block (Fig. 2, eq. 1), post-activation:

        residual=True:  y = ReLU(F(x) + s(x)),  F(x) = BN(conv3x3(ReLU(BN(conv3x3_stride(x)))))
        residual=False: y = ReLU(F(x))          (the plain network of Sec. 4.2: same layers, no shortcut)

    `downsamples` is True for the first block of stages 2 and 3 (stride 2, channels doubled). `shortcut` is the
    block's s(x) for both kinds: the lesion (`lesioned`) replaces a deleted block's output by it.
    """

    def __init__(self, filters: int, stride: int = 1, residual: bool = True, weight_decay: float = 1e-4, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.stride, self.residual, self.weight_decay = filters, stride, residual, weight_decay
        self.conv1 = _conv(filters, 3, weight_decay, "conv1", stride=stride)
        self.bn1 = _bn("bn1")
        self.conv2 = _conv(filters, 3, weight_decay, "conv2")
        self.bn2 = _bn("bn2")
        self.shortcut = OptionAShortcut(filters, stride, name="shortcut")

    @property
    def downsamples(self) -> bool:
        return self.stride != 1

    def build(self, input_shape):
        h, w = input_shape[1:3]
        padded = (input_shape[0], None if h is None else h + 2, None if w is None else w + 2, input_shape[-1])
        self.conv1.build(padded if self.downsamples else input_shape)
        out_shape = self.conv1.compute_output_shape(padded if self.downsamples else input_shape)
        self.bn1.build(out_shape)
        self.conv2.build(out_shape)
        self.bn2.build(out_shape)
        self.shortcut.build(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        return self.shortcut.compute_output_shape(input_shape)

    def residual_branch(self, x, training=None):
        """F(x) = BN(W2 ReLU(BN(W1 x))), before the addition and the final ReLU."""
        h = self.conv1(_pad_for_stride(x, 3) if self.downsamples else x)
        h = ops.relu(self.bn1(h, training=training))
        return self.bn2(self.conv2(h), training=training)

    def call(self, x, training=None):
        out = self.residual_branch(x, training=training)
        if self.residual:
            out = out + self.shortcut(x)
        return ops.relu(out)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "stride": self.stride, "residual": self.residual,
                "weight_decay": self.weight_decay}


def resnet_blocks_per_stage(depth: int) -> int:
    """n of depth = 6n + 2; a ValueError that lists the valid depths otherwise."""
    if not isinstance(depth, int | np.integer) or depth < 8 or (depth - 2) % 6:
        raise ValueError(f"a CIFAR ResNet has depth 6n + 2 (n >= 1): 8, 14, 20, 26, 32, ...; the paper's are "
                         f"{sorted(RESNET_DEPTHS)}; got {depth!r}")
    return (depth - 2) // 6


@keras.saving.register_keras_serializable(package=PACKAGE)
class CifarResNet(keras.Model):
    """He et al. 2016's CIFAR network (Sec. 4.2): 6n + 2 weighted layers, residual (ResNet) or plain.

    Args: depth (6n + 2), num_classes, residual (False: the plain net of Fig. 6 with the same layers), width
    (the first stage's filters, 16 in the paper; stages have width, 2 width, 4 width), weight_decay (SGD weight
    decay, 1e-4 in the paper; applied as an equal L2 loss on every conv and dense kernel, see `_l2`).
    Outputs logits. `blocks` lists the 3n blocks in order; `blocks[i].downsamples` marks the two stride-2 ones.
    """

    def __init__(self, depth: int = 20, num_classes: int = 10, residual: bool = True, width: int = 16,
                 weight_decay: float = 1e-4, **kwargs):
        n = resnet_blocks_per_stage(depth)
        kwargs.setdefault("name", f"{'resnet' if residual else 'plain'}{depth}")
        super().__init__(**kwargs)
        self.depth, self.num_classes, self.residual = depth, num_classes, residual
        self.width, self.weight_decay = width, weight_decay
        self.stem_conv = _conv(width, 3, weight_decay, "stem_conv")
        self.stem_bn = _bn("stem_bn")
        self.blocks = []
        for stage, filters in enumerate((width, 2 * width, 4 * width)):
            for j in range(n):
                stride = 2 if stage > 0 and j == 0 else 1
                self.blocks.append(BasicBlock(filters, stride, residual, weight_decay,
                                              name=f"stage{stage + 1}_block{j + 1}"))
        self.pool = keras.layers.GlobalAveragePooling2D(name="pool")
        self.classifier = _dense(num_classes, weight_decay)

    def build(self, input_shape):
        self.stem_conv.build(input_shape)
        shape = self.stem_conv.compute_output_shape(input_shape)
        self.stem_bn.build(shape)
        for block in self.blocks:
            block.build(shape)
            shape = block.compute_output_shape(shape)
        self.classifier.build((shape[0], shape[-1]))
        self.built = True

    def stem(self, x, training=None):
        return ops.relu(self.stem_bn(self.stem_conv(x), training=training))

    def head(self, x):
        return self.classifier(self.pool(x))

    def call(self, x, training=None):
        x = self.stem(x, training=training)
        for block in self.blocks:
            x = block(x, training=training)
        return self.head(x)

    def get_config(self):
        return {**super().get_config(), "depth": self.depth, "num_classes": self.num_classes,
                "residual": self.residual, "width": self.width, "weight_decay": self.weight_decay}


def resnet_param_count(depth: int, width: int = 16, num_classes: int = 10, in_channels: int = 3) -> int:
    """The trainable parameters of `CifarResNet(depth, width=width)`, counted from the layer shapes (no build).

    Kernels 3x3 without bias, BN gamma and beta per channel (its moving statistics are not parameters), the
    dense layer with bias; option A adds nothing, so plain and residual nets have the same count.
    """
    n = resnet_blocks_per_stage(depth)
    count = 9 * in_channels * width + 2 * width  # stem conv + BN
    c_in = width
    for filters in (width, 2 * width, 4 * width):
        for _ in range(n):
            count += 9 * c_in * filters + 9 * filters * filters + 4 * filters  # two convs, two BNs
            c_in = filters
    return count + c_in * num_classes + num_classes


# --- Huang et al. 2017: DenseNet ----------------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package=PACKAGE)
class DenseLayer(keras.layers.Layer):
    """One H_l of eq. 2, returning [x, H_l(x)] (its input and k new feature maps, concatenated).

    H_l = BN - ReLU - conv3x3(k) (Sec. 3, "Composite function"), or with `bottleneck` BN - ReLU - conv1x1(4k) -
    BN - ReLU - conv3x3(k) ("Bottleneck layers"); dropout after each convolution when dropout_rate > 0.
    """

    def __init__(self, growth_rate: int, bottleneck: bool = False, dropout_rate: float = 0.0,
                 weight_decay: float = 1e-4, **kwargs):
        super().__init__(**kwargs)
        self.growth_rate, self.bottleneck = growth_rate, bottleneck
        self.dropout_rate, self.weight_decay = dropout_rate, weight_decay
        if bottleneck:
            self.bn0 = _bn("bn0")
            self.conv0 = _conv(4 * growth_rate, 1, weight_decay, "conv0")
            self.drop0 = keras.layers.Dropout(dropout_rate, name="drop0")
        self.bn = _bn("bn")
        self.conv = _conv(growth_rate, 3, weight_decay, "conv")
        self.drop = keras.layers.Dropout(dropout_rate, name="drop")

    def build(self, input_shape):
        shape = input_shape
        if self.bottleneck:
            self.bn0.build(shape)
            self.conv0.build(shape)
            shape = self.conv0.compute_output_shape(shape)
        self.bn.build(shape)
        self.conv.build(shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + self.growth_rate)

    def call(self, x, training=None):
        h = x
        if self.bottleneck:
            h = self.conv0(ops.relu(self.bn0(h, training=training)))
            h = self.drop0(h, training=training) if self.dropout_rate else h
        h = self.conv(ops.relu(self.bn(h, training=training)))
        h = self.drop(h, training=training) if self.dropout_rate else h
        return ops.concatenate([x, h], axis=-1)

    def get_config(self):
        return {**super().get_config(), "growth_rate": self.growth_rate, "bottleneck": self.bottleneck,
                "dropout_rate": self.dropout_rate, "weight_decay": self.weight_decay}


@keras.saving.register_keras_serializable(package=PACKAGE)
class Transition(keras.layers.Layer):
    """A transition layer (Sec. 3, "Pooling layers"): BN - ReLU - conv1x1(filters) - [dropout] - avgpool 2x2."""

    def __init__(self, filters: int, dropout_rate: float = 0.0, weight_decay: float = 1e-4, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.dropout_rate, self.weight_decay = filters, dropout_rate, weight_decay
        self.bn = _bn("bn")
        self.conv = _conv(filters, 1, weight_decay, "conv")
        self.drop = keras.layers.Dropout(dropout_rate, name="drop")
        self.pool = keras.layers.AveragePooling2D(2, name="pool")

    def build(self, input_shape):
        self.bn.build(input_shape)
        self.conv.build(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *(None if d is None else d // 2 for d in input_shape[1:3]), self.filters)

    def call(self, x, training=None):
        h = self.conv(ops.relu(self.bn(x, training=training)))
        h = self.drop(h, training=training) if self.dropout_rate else h
        return self.pool(h)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "dropout_rate": self.dropout_rate,
                "weight_decay": self.weight_decay}


def densenet_layers_per_block(depth: int, bottleneck: bool) -> int:
    """(L - 4) / 3, or (L - 4) / 6 with bottlenecks; a ValueError that says which depths are valid otherwise."""
    step = 6 if bottleneck else 3
    if not isinstance(depth, int | np.integer) or depth < 4 + step or (depth - 4) % step:
        kind = "DenseNet-BC (bottleneck) has depth 6m + 4: 10, 16, .., 100, .., 190, 250" if bottleneck else \
            "DenseNet has depth 3m + 4: 7, 10, .., 40, .., 100"
        raise ValueError(f"{kind}; got {depth!r}")
    return (depth - 4) // step


@keras.saving.register_keras_serializable(package=PACKAGE)
class DenseNet(keras.Model):
    """Huang et al. 2017's CIFAR DenseNet (Sec. 3-4): 3 dense blocks of `densenet_layers_per_block` layers.

    Args: depth L, growth_rate k, bottleneck and compression theta (DenseNet-BC: True and 0.5), num_classes,
    dropout_rate (0.2 in the paper without augmentation, else 0), weight_decay (SGD weight decay 1e-4, as an
    equal L2 loss, see `_l2`), stem_channels (the first convolution's output: 16, or 2k for DenseNet-BC).
    Outputs logits.
    """

    def __init__(self, depth: int = 40, growth_rate: int = 12, bottleneck: bool = False, compression: float = 1.0,
                 num_classes: int = 10, dropout_rate: float = 0.0, weight_decay: float = 1e-4,
                 stem_channels: int | None = None, **kwargs):
        layers_per_block = densenet_layers_per_block(depth, bottleneck)
        if not 0.0 < compression <= 1.0:
            raise ValueError(f"compression (theta) must be in (0, 1], got {compression}")
        bc = bottleneck and compression < 1
        kwargs.setdefault("name", f"densenet{'_bc' if bc else ''}{depth}_k{growth_rate}")
        super().__init__(**kwargs)
        self.depth, self.growth_rate, self.bottleneck, self.compression = depth, growth_rate, bottleneck, compression
        self.num_classes, self.dropout_rate, self.weight_decay = num_classes, dropout_rate, weight_decay
        self.stem_channels = stem_channels or (2 * growth_rate if bottleneck else 16)
        self.stem_conv = _conv(self.stem_channels, 3, weight_decay, "stem_conv")
        self.layers_per_block = layers_per_block
        self.dense_layers, self.transitions = [], []  # dense_layers: the 3 blocks' layers, one flat list
        channels = self.stem_channels
        for b in range(3):
            self.dense_layers += [DenseLayer(growth_rate, bottleneck, dropout_rate, weight_decay,
                                             name=f"block{b + 1}_layer{i + 1}") for i in range(layers_per_block)]
            channels += layers_per_block * growth_rate
            if b < 2:
                channels = int(np.floor(compression * channels))
                self.transitions.append(Transition(channels, dropout_rate, weight_decay, name=f"transition{b + 1}"))
        self.final_bn = _bn("final_bn")
        self.pool = keras.layers.GlobalAveragePooling2D(name="pool")
        self.classifier = _dense(num_classes, weight_decay)

    def build(self, input_shape):
        self.stem_conv.build(input_shape)
        shape = self.stem_conv.compute_output_shape(input_shape)
        for b in range(3):
            for layer in self.dense_layers[b * self.layers_per_block:(b + 1) * self.layers_per_block]:
                layer.build(shape)
                shape = layer.compute_output_shape(shape)
            if b < len(self.transitions):
                self.transitions[b].build(shape)
                shape = self.transitions[b].compute_output_shape(shape)
        self.final_bn.build(shape)
        self.classifier.build((shape[0], shape[-1]))
        self.built = True

    def call(self, x, training=None):
        x = self.stem_conv(x)
        for b in range(3):
            for layer in self.dense_layers[b * self.layers_per_block:(b + 1) * self.layers_per_block]:
                x = layer(x, training=training)
            if b < len(self.transitions):
                x = self.transitions[b](x, training=training)
        x = ops.relu(self.final_bn(x, training=training))
        return self.classifier(self.pool(x))

    def get_config(self):
        return {**super().get_config(), "depth": self.depth, "growth_rate": self.growth_rate,
                "bottleneck": self.bottleneck, "compression": self.compression, "num_classes": self.num_classes,
                "dropout_rate": self.dropout_rate, "weight_decay": self.weight_decay,
                "stem_channels": self.stem_channels}


# --- Veit et al. 2016: the lesion ---------------------------------------------------------------------------------


class LesionedResNet(keras.Model):
    """`base` with the blocks in `deleted` replaced by their shortcut s(x) (Veit et al. 2016, Sec. 4).

    Built around `base`'s own layer objects: the weights are shared, none is copied, and since every layer runs
    in inference mode (BN on its moving statistics, whatever `training` says) none changes. An evaluation-time
    view: save `base`, not this. Make one per lesion set (each traces its own function).
    """

    def __init__(self, base: CifarResNet, deleted=(), **kwargs):
        deleted = frozenset(int(i) for i in deleted)
        bad = sorted(i for i in deleted if not 0 <= i < len(base.blocks))
        if bad:
            raise ValueError(f"{base.name} has blocks 0 .. {len(base.blocks) - 1}; cannot delete {bad}")
        if not base.built:
            raise ValueError(f"build {base.name} (call it or load its weights) before lesioning it")
        kwargs.setdefault("name", f"{base.name}_lesioned")
        super().__init__(**kwargs)
        self.base, self.deleted = base, deleted

    def call(self, x, training=None):
        base = self.base
        x = base.stem(x, training=False)
        for i, block in enumerate(base.blocks):
            x = block.shortcut(x) if i in self.deleted else block(x, training=False)
        return base.head(x)


def lesioned(model: CifarResNet, deleted, compiled: bool = True) -> LesionedResNet:
    """The network `model` with blocks `deleted` (indices into `model.blocks`) deleted at test time.

    Veit et al. 2016, Sec. 4: a deleted residual block y = ReLU(F(x) + s(x)) becomes y = s(x): F is dropped and,
    since x >= 0 (it is a ReLU output) and s only subsamples and pads with zeros, ReLU(s(x)) = s(x). Downsampling
    blocks can be deleted too (s subsamples and pads; Veit et al. mark them). A deleted block of the plain network
    (the control, Veit's VGG) outputs the same s(x): its two conv layers are gone and the input passes through,
    at a downsampling block subsampled and zero-padded to the new shape. With `compiled`, the returned model is
    compiled with the cross-entropy on logits and accuracy, so `evaluate` works at once.
    """
    view = LesionedResNet(model, deleted)
    if compiled:
        view.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return view


# --- factories ----------------------------------------------------------------------------------------------------

ARCHS = "resnet<6n+2>, plain<6n+2>, densenet<3m+4>[_k<k>], densenet_bc<6m+4>[_k<k>]"
_ARCH = re.compile(r"(?P<kind>resnet|plain|densenet_bc|densenet)(?P<depth>\d+)(?:_k(?P<k>\d+))?")


def resnet(depth: int, **kwargs) -> CifarResNet:
    return CifarResNet(depth, residual=True, **kwargs)


def plain(depth: int, **kwargs) -> CifarResNet:
    return CifarResNet(depth, residual=False, **kwargs)


def densenet(depth: int = 40, growth_rate: int = 12, **kwargs) -> DenseNet:
    return DenseNet(depth, growth_rate, bottleneck=False, compression=1.0, **kwargs)


def densenet_bc(depth: int = 100, growth_rate: int = 12, **kwargs) -> DenseNet:
    return DenseNet(depth, growth_rate, bottleneck=True, compression=0.5, **kwargs)


def build_model(arch: str, input_shape=(32, 32, 3), **kwargs) -> keras.Model:
    """A built model from its name: "resnet20" .. "resnet1202", "plain56", "densenet40", "densenet_bc100",
    "densenet100_k24"; kwargs go to the class (num_classes, width, weight_decay, dropout_rate, ...)."""
    match = _ARCH.fullmatch(arch)
    if match is None:
        raise ValueError(f"unknown architecture {arch!r}; names are {ARCHS}, e.g. resnet20, plain56, densenet40, "
                         f"densenet_bc100")
    kind, depth = match["kind"], int(match["depth"])
    if match["k"] is not None:
        if not kind.startswith("densenet"):
            raise ValueError(f"{arch!r}: only DenseNets have a growth rate _k<k>")
        kwargs["growth_rate"] = int(match["k"])
    model = {"resnet": resnet, "plain": plain, "densenet": densenet, "densenet_bc": densenet_bc}[kind](depth, **kwargs)
    model.build((None, *input_shape))
    return model


def count_params(model: keras.Model, trainable_only: bool = True) -> int:
    """Parameters as the papers count them: the trainable weights (BN's gamma and beta, not its moving
    statistics). With trainable_only=False, every weight (Keras' `count_params`)."""
    weights = model.trainable_weights if trainable_only else model.weights
    return int(sum(np.prod(w.shape) for w in weights))
