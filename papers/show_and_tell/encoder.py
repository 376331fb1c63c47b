"""The `cpu` preset's image encoder: a small CNN trained to classify single Fashion-MNIST items (our stand-in for
the paper's ImageNet pre-training), then frozen and applied to the 64 x 64 scenes (the paper kept its CNN fixed).

    trunk:  [conv 3x3 32, ReLU] x 2, max-pool 2, [conv 3x3 64, ReLU] x 2, max-pool 2   (fully convolutional)
    head (pre-training only): global average pool, dense 10
    scene features: the trunk's (16, 16, 64) map of a canvas averaged over each of its four quadrants, (4 x 64)

The paper's encoder ends in Inception's pooled vector, which keeps no layout; our captions say "left of" and
"above", so the features keep the 2 x 2 grid the items stand in (README "Deviations"). Features are computed once
per image and cached by the training script, as im2txt's frozen-CNN setting allows.
"""

import keras
import numpy as np
from keras import ops

QUADRANTS = 2  # the scenes' grid: features are averaged over each of its cells


def trunk(name: str = "trunk") -> keras.Sequential:
    conv = lambda filters: keras.layers.Conv2D(filters, 3, padding="same", activation="relu")  # noqa: E731
    return keras.Sequential([conv(32), conv(32), keras.layers.MaxPooling2D(2),
                             conv(64), conv(64), keras.layers.MaxPooling2D(2)], name=name)


def item_classifier(learning_rate: float = 1e-3) -> keras.Model:
    """trunk + head on single 28 x 28 items, pixels in [0, 1]; compiled with Adam and cross-entropy."""
    model = keras.Sequential([keras.Input((28, 28, 1)), trunk(), keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(10)], name="item_classifier")
    model.compile(keras.optimizers.Adam(learning_rate),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return model


def quadrant_features(feature_map):
    """(B, H, W, C) -> (B, 4 C): the map averaged over each cell of a 2 x 2 grid, cells in reading order."""
    batch, height, width, channels = ops.shape(feature_map)
    cells = ops.reshape(feature_map, (batch, QUADRANTS, height // QUADRANTS, QUADRANTS, width // QUADRANTS, channels))
    return ops.reshape(ops.mean(cells, axis=(2, 4)), (batch, QUADRANTS * QUADRANTS * channels))


def moments(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The training split's (N, F) features -> (mean, variance) per feature: NIC's `feature_moments`.
    The `cpu` captioner standardizes its input (config.standardize_features): the trunk's ReLU averages (mean 3.9,
    std 2.9) drive the LSTM's gates far harder at the image step than the words do, and NIC learned to read them
    slowly (NOTES.md "Recipes compared on validation")."""
    return features.mean(axis=0), features.var(axis=0)


def scene_features(cnn_trunk: keras.Model, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """float32 (N, 4 C) features of uint8 (N, 64, 64) canvases under a (frozen) trunk."""
    out = []
    for start in range(0, len(images), batch_size):
        x = images[start : start + batch_size, :, :, None].astype("float32") / 255.0
        out.append(ops.convert_to_numpy(quadrant_features(cnn_trunk(x, training=False))))
    return np.concatenate(out).astype(np.float32)


def reestimate_normalization(captioner, images: np.ndarray, count: int) -> None:
    """Sets the scratch captioner's feature normalization to its trunk's current moments on `count` training
    canvases (a fixed sample), before every validation; the checkpoint keeps them, so the test reads the ones its
    selection saw. The moving averages lag a trunk that lr 2.0 still moves, and put validation perplexity off by up
    to 1.8 (NOTES.md "The normalization's moving averages lag"). The BN-LSTM's population statistics are
    re-estimated the same way (recurrent_batch_norm/evaluate.py)."""
    sample = images[np.sort(np.random.default_rng(0).permutation(len(images))[:count])]
    features = scene_features(captioner.trunk, sample)
    captioner.feature_normalization.moving_mean.assign(features.mean(axis=0))
    captioner.feature_normalization.moving_variance.assign(features.var(axis=0))
