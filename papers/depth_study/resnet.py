"""He et al. 2016's CIFAR ResNets and their plain twins (Sec. 4.2, "CIFAR-10 and Analysis"; `CifarResNet`).

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

Trainable parameters on CIFAR (`resnet_param_count`, equal to akamaster's self-test; Table 6 rounds them):

    ResNet-20   269,722 (0.27M)     ResNet-56     853,018 (0.85M)
    ResNet-32   464,154 (0.46M)     ResNet-110  1,727,962 (1.7M)
    ResNet-44   658,586 (0.66M)     ResNet-1202 19,421,274 (19.4M)

Training details the model fixes (Sec. 3.4 and 4.2), shared with densenet.py (Huang et al. Sec. 4.2 follow them):
He init (`he_normal`) for every kernel, BN after every convolution and so no conv bias, no dropout, weight decay
1e-4 on conv and dense kernels (`l2_weight_decay`), BN momentum 0.9 and epsilon 1e-5 (the Torch / Caffe values the
peers used; Keras' defaults are 0.99 / 1e-3). Veit et al.'s lesion of a trained net is block_lesion.py.
"""

import functools

import keras
import numpy as np
from keras import ops

PACKAGE = "depth_study"  # the registered names saved runs are loaded by: keep it, and the class and layer names
RESNET_DEPTHS = {20: 3, 32: 5, 44: 7, 56: 9, 110: 18, 1202: 200}  # depth -> n, the paper's Table 6
BN_MOMENTUM = 0.9
BN_EPSILON = 1e-5


def l2_weight_decay(weight_decay: float):
    """The Keras regularizer equal to SGD weight decay `weight_decay` (the papers' 1e-4).

    SGD with weight decay lambda adds lambda * w to each gradient. Keras' L2(c) adds c * sum(w^2) to the loss,
    whose gradient is 2c * w; so c = lambda / 2 (L2(5e-5) for the papers' 1e-4).
    """
    return keras.regularizers.L2(weight_decay / 2) if weight_decay else None


def conv(filters: int, kernel_size: int, weight_decay: float, name: str, stride: int = 1):
    """A bias-free, He-initialised convolution (BN follows it). Stride 2 pads with `pad_for_stride` first."""
    return keras.layers.Conv2D(filters, kernel_size, strides=stride, padding="same" if stride == 1 else "valid",
                               use_bias=False, kernel_initializer="he_normal",
                               kernel_regularizer=l2_weight_decay(weight_decay), name=name)


def batch_norm(name: str):
    return keras.layers.BatchNormalization(momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name=name)


def classifier(units: int, weight_decay: float):
    return keras.layers.Dense(units, kernel_initializer="he_normal", kernel_regularizer=l2_weight_decay(weight_decay),
                              name="classifier")


def pad_for_stride(x, kernel_size: int):
    """Pads (k - 1) / 2 pixels on every side, as Caffe / Torch's `pad`, before a stride-2 'valid' convolution."""
    p = (kernel_size - 1) // 2
    return ops.pad(x, [[0, 0], [p, p], [p, p], [0, 0]])


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
        self.built = True  # stateless, as Keras' own Activation: a plain block, which never calls it, is built too

    def call(self, x):
        if self.stride > 1:
            x = x[:, :: self.stride, :: self.stride, :]
        extra = self.filters - x.shape[-1]
        if extra < 0:
            raise ValueError(f"option A cannot shrink {x.shape[-1]} channels to {self.filters}")
        return ops.pad(x, [[0, 0], [0, 0], [0, 0], [0, extra]]) if extra else x

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "stride": self.stride}


@keras.saving.register_keras_serializable(package=PACKAGE)
class BasicBlock(keras.layers.Layer):
    """He et al. 2016's two-layer building block (Fig. 2, eq. 1), post-activation:

        residual=True:  y = ReLU(F(x) + s(x)),  F(x) = BN(conv3x3(ReLU(BN(conv3x3_stride(x)))))
        residual=False: y = ReLU(F(x))          (the plain network of Sec. 4.2: same layers, no shortcut)

    `downsamples` is True for the first block of stages 2 and 3 (stride 2, channels doubled). `shortcut` is the
    block's s(x) for both kinds: the lesion (block_lesion.py) replaces a deleted block's output by it.
    """

    def __init__(self, filters: int, stride: int = 1, residual: bool = True, weight_decay: float = 1e-4, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.stride, self.residual, self.weight_decay = filters, stride, residual, weight_decay
        self.conv1 = conv(filters, 3, weight_decay, "conv1", stride=stride)
        self.bn1 = batch_norm("bn1")
        self.conv2 = conv(filters, 3, weight_decay, "conv2")
        self.bn2 = batch_norm("bn2")
        self.shortcut = OptionAShortcut(filters, stride, name="shortcut")

    @property
    def downsamples(self) -> bool:
        return self.stride != 1

    def residual_branch(self, x, training=None):
        """F(x) = BN(W2 ReLU(BN(W1 x))), before the addition and the final ReLU."""
        h = self.conv1(pad_for_stride(x, 3) if self.downsamples else x)
        h = ops.relu(self.bn1(h, training=training))
        return self.bn2(self.conv2(h), training=training)

    def call(self, x, training=None):
        out = self.residual_branch(x, training=training)
        if self.residual:
            out = out + self.shortcut(x)  # F(x) + s(x), eq. 1
        return ops.relu(out)  # the second nonlinearity, after the addition (Fig. 2)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "stride": self.stride, "residual": self.residual,
                "weight_decay": self.weight_decay}


def resnet_blocks_per_stage(depth: int) -> int:
    """n of depth = 6n + 2 (Sec. 4.2: "6n layers ... 2n layers for each feature map size", plus the stem and the
    classifier); a ValueError that lists the valid depths otherwise."""
    if not isinstance(depth, int | np.integer) or depth < 8 or (depth - 2) % 6:
        raise ValueError(f"a CIFAR ResNet has depth 6n + 2 (n >= 1): 8, 14, 20, 26, 32, ...; the paper's are "
                         f"{sorted(RESNET_DEPTHS)}; got {depth!r}")
    return (depth - 2) // 6


@keras.saving.register_keras_serializable(package=PACKAGE)
class CifarResNet(keras.Model):
    """He et al. 2016's CIFAR network (Sec. 4.2): 6n + 2 weighted layers, residual (ResNet) or plain.

    Args: depth (6n + 2), num_classes, residual (False: the plain net of Fig. 6 with the same layers), width
    (the first stage's filters, 16 in the paper; stages have width, 2 width, 4 width), weight_decay (SGD weight
    decay, 1e-4 in the paper; applied as an equal L2 loss on every conv and dense kernel, see `l2_weight_decay`).
    Outputs logits. `blocks` lists the 3n blocks in order; `blocks[i].downsamples` marks the two stride-2 ones.
    Built by its first call (Keras traces `call`); model.build_model builds it for a given input shape.
    """

    def __init__(self, depth: int = 20, num_classes: int = 10, residual: bool = True, width: int = 16,
                 weight_decay: float = 1e-4, **kwargs):
        n = resnet_blocks_per_stage(depth)
        kwargs.setdefault("name", f"{'resnet' if residual else 'plain'}{depth}")
        super().__init__(**kwargs)
        self.depth, self.num_classes, self.residual = depth, num_classes, residual
        self.width, self.weight_decay = width, weight_decay
        self.stem_conv = conv(width, 3, weight_decay, "stem_conv")
        self.stem_bn = batch_norm("stem_bn")
        self.blocks = []
        for stage, filters in enumerate((width, 2 * width, 4 * width)):
            for j in range(n):
                stride = 2 if stage > 0 and j == 0 else 1  # subsampling at the first block of stages 2 and 3
                self.blocks.append(BasicBlock(filters, stride, residual, weight_decay,
                                              name=f"stage{stage + 1}_block{j + 1}"))
        self.pool = keras.layers.GlobalAveragePooling2D(name="pool")
        self.classifier = classifier(num_classes, weight_decay)

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


resnet = functools.partial(CifarResNet, residual=True)  # resnet(20) .. resnet(1202): Sec. 4.2, Table 6
plain = functools.partial(CifarResNet, residual=False)  # plain(20) .. plain(56): the same layers, Fig. 6 (left)


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
