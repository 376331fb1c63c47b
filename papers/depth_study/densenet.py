"""Huang et al. 2017's CIFAR DenseNets (Sec. 3 and 4; `DenseNet`).

    x -> conv3x3 (16 channels; 2k for DenseNet-BC)
      -> 3 dense blocks on 32 / 16 / 8 maps, joined by 2 transitions
      -> BN - ReLU - global average pooling - Dense(10) (logits)

    dense layer   x_l = H_l([x_0, x_1, .., x_{l-1}])   (eq. 2), H_l = BN - ReLU - conv3x3(k)
    bottleneck    H_l = BN - ReLU - conv1x1(4k) - BN - ReLU - conv3x3(k)       ("DenseNet-B")
    transition    BN - ReLU - conv1x1(floor(theta m)) - avgpool 2x2, theta = 0.5 for "-C", 1 otherwise

L = 3 (layers per block) + 4 (the first conv, two transitions, the classifier); with bottlenecks a layer is two
convolutions, so (L - 4) / 6 layers per block (`densenet_layers_per_block`). Dropout 0.2 after every convolution
but the first is the paper's setting without augmentation only. The rest of the recipe is He et al.'s
(Sec. 4.2: He init, weight decay 1e-4, BN with Torch's momentum and epsilon; the layers come from resnet.py).

Trainable parameters on CIFAR-10 (the Torch model's: bias-free convolutions, BN gamma and beta, the classifier
with bias; Table 2 and liuzhuang13/DenseNet's README round them):

    DenseNet     (L = 40,  k = 12)  1,019,722 (1.0M)
    DenseNet-BC  (L = 100, k = 12)    769,162 (0.8M)
"""

import functools

import keras
import numpy as np
from keras import ops

from papers.depth_study.resnet import PACKAGE, batch_norm, classifier, conv


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
            self.bn0 = batch_norm("bn0")
            self.conv0 = conv(4 * growth_rate, 1, weight_decay, "conv0")  # 4k maps ("DenseNet-B")
            self.drop0 = keras.layers.Dropout(dropout_rate, name="drop0")
        self.bn = batch_norm("bn")
        self.conv = conv(growth_rate, 3, weight_decay, "conv")
        self.drop = keras.layers.Dropout(dropout_rate, name="drop")

    def call(self, x, training=None):
        h = x
        if self.bottleneck:
            h = self.conv0(ops.relu(self.bn0(h, training=training)))
            h = self.drop0(h, training=training) if self.dropout_rate else h
        h = self.conv(ops.relu(self.bn(h, training=training)))
        h = self.drop(h, training=training) if self.dropout_rate else h
        return ops.concatenate([x, h], axis=-1)  # the next layer sees [x_0, .., x_l] (eq. 2)

    def get_config(self):
        return {**super().get_config(), "growth_rate": self.growth_rate, "bottleneck": self.bottleneck,
                "dropout_rate": self.dropout_rate, "weight_decay": self.weight_decay}


@keras.saving.register_keras_serializable(package=PACKAGE)
class Transition(keras.layers.Layer):
    """A transition layer (Sec. 3, "Pooling layers"): BN - ReLU - conv1x1(filters) - [dropout] - avgpool 2x2."""

    def __init__(self, filters: int, dropout_rate: float = 0.0, weight_decay: float = 1e-4, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.dropout_rate, self.weight_decay = filters, dropout_rate, weight_decay
        self.bn = batch_norm("bn")
        self.conv = conv(filters, 1, weight_decay, "conv")
        self.drop = keras.layers.Dropout(dropout_rate, name="drop")
        self.pool = keras.layers.AveragePooling2D(2, name="pool")

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
    equal L2 loss, see resnet.l2_weight_decay), stem_channels (the first convolution's output: 16, or 2k for
    DenseNet-BC). Outputs logits. Built by its first call (Keras traces `call`), as model.build_model does.
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
        self.stem_conv = conv(self.stem_channels, 3, weight_decay, "stem_conv")
        self.layers_per_block = layers_per_block
        self.dense_layers, self.transitions = [], []  # dense_layers: the 3 blocks' layers, one flat list
        channels = self.stem_channels
        for b in range(3):
            self.dense_layers += [DenseLayer(growth_rate, bottleneck, dropout_rate, weight_decay,
                                             name=f"block{b + 1}_layer{i + 1}") for i in range(layers_per_block)]
            channels += layers_per_block * growth_rate  # each layer adds k maps: the growth rate (Sec. 3)
            if b < 2:
                channels = int(np.floor(compression * channels))  # floor(theta m) (Sec. 3, "Compression")
                self.transitions.append(Transition(channels, dropout_rate, weight_decay, name=f"transition{b + 1}"))
        self.final_bn = batch_norm("final_bn")
        self.pool = keras.layers.GlobalAveragePooling2D(name="pool")
        self.classifier = classifier(num_classes, weight_decay)

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


densenet = functools.partial(DenseNet, bottleneck=False, compression=1.0)  # densenet(40, 12): Table 2's first rows
densenet_bc = functools.partial(DenseNet, bottleneck=True, compression=0.5)  # densenet_bc(100, 12): DenseNet-BC
