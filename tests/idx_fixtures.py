"""Fashion-MNIST-shaped idx fixtures for the tests of the papers that read it (common/fashion_mnist.py)."""

import gzip

import numpy as np

from common import fashion_mnist


def write_idx(path, array, magic):
    array = np.asarray(array, dtype=np.uint8)
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.tobytes())


def write_fixtures(directory, n_train=160, n_test=40, seed=0):
    """Idx files whose classes differ in brightness, so a few steps learn something."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for split, n in (("train", n_train), ("test", n_test)):
        images_file, labels_file = fashion_mnist.IDX_FILES[split]
        labels = rng.integers(0, 10, n)
        images = labels[:, None, None] * 24 + rng.integers(0, 16, (n, 28, 28))
        write_idx(directory / images_file, images, fashion_mnist.IDX_IMAGES_MAGIC)
        write_idx(directory / labels_file, labels, fashion_mnist.IDX_LABELS_MAGIC)
    return directory
