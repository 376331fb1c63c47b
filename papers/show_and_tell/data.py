"""Show and Tell's data: images with 5 reference captions each, in train / valid / test splits.

* `cpu` ("scenes"): scenes.py's captioning task on Fashion-MNIST (`make data/fashion_mnist`, offline). Train scenes
  are drawn from the first 55,000 training pictures, valid scenes from the last 5,000 (the depth study's split),
  test scenes from the 10,000 test pictures, so no picture is in two splits; every scene and its references are a
  function of (split, seed).
* `smoke` ("generated"): the same grammar on random blobs as pictures, a few dozen scenes, made in memory.

Captions are lower-cased words split on spaces (the grammar writes no punctuation). The vocabulary keeps the words
seen at least `min_word_count` times in the training references (im2txt: 4; the paper's COCO vocabulary: 5).
"""

from typing import NamedTuple

import numpy as np

from common import fashion_mnist
from papers.show_and_tell import scenes

VALID_SHARE = 12  # the last 1/12 of the training pictures (5,000 of 60,000) make the valid scenes
SPLIT_SEEDS = {"train": 0, "valid": 1, "test": 2}


class Split(NamedTuple):
    images: np.ndarray  # uint8 (N, 64, 64)
    references: list[list[str]]  # 5 per image
    scenes: list[scenes.Scene]  # what each image shows (the tuples' truth)


class Captions(NamedTuple):
    train: Split
    valid: Split
    test: Split
    description: str


def make_split(pictures: np.ndarray, labels: np.ndarray, count: int, seed: int) -> Split:
    drawn = scenes.make_scenes(labels, count, seed)
    images = np.stack([scenes.render(scene, pictures) for scene in drawn])
    refs = [scenes.references(scene, seed=seed * 1_000_003 + i) for i, scene in enumerate(drawn)]
    return Split(images, refs, drawn)


def scene_captions(sizes: tuple[int, int, int], seed: int, data_dir: str = "") -> Captions:
    """The `cpu` task: (train, valid, test) sizes in scenes, from Fashion-MNIST's pictures."""
    arrays = fashion_mnist.load_arrays(data_dir or None)
    (train_x, train_y), (test_x, test_y) = arrays["train"], arrays["test"]
    cut = len(train_x) - len(train_x) // VALID_SHARE
    pools = {"train": (train_x[:cut], train_y[:cut]), "valid": (train_x[cut:], train_y[cut:]), "test": (test_x, test_y)}
    splits = {name: make_split(*pools[name], size, 1000 * seed + SPLIT_SEEDS[name])
              for name, size in zip(("train", "valid", "test"), sizes, strict=True)}
    return Captions(**splits, description=f"Fashion-MNIST scenes of 2-4 items, 5 references each: "
                                          f"{sizes[0]:,} / {sizes[1]:,} / {sizes[2]:,} scenes (train / valid / test)")


def blob_pictures(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random 28 x 28 blobs, one shape per class (smoke): (pictures uint8, labels)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, len(scenes.NOUNS), size=count)
    rows, cols = np.mgrid[:28, :28]
    pictures = np.zeros((count, 28, 28), dtype=np.uint8)
    for i, label in enumerate(labels):
        radius = 4 + label
        pictures[i] = 255 * ((rows - 14) ** 2 + (cols - 14) ** 2 < radius**2)
    return pictures, labels


def generated_captions(sizes: tuple[int, int, int], seed: int) -> Captions:
    splits = {}
    for name, size in zip(("train", "valid", "test"), sizes, strict=True):
        pictures, labels = blob_pictures(4 * size + 4, 1000 * seed + SPLIT_SEEDS[name])
        splits[name] = make_split(pictures, labels, size, 1000 * seed + SPLIT_SEEDS[name])
    return Captions(**splits, description=f"generated blob scenes: {sizes[0]} / {sizes[1]} / {sizes[2]}")


def load_captions(dataset: str, sizes: tuple[int, int, int], seed: int, data_dir: str = "") -> Captions:
    if dataset == "scenes":
        return scene_captions(sizes, seed, data_dir)
    if dataset == "generated":
        return generated_captions(sizes, seed)
    raise ValueError(f"unknown dataset {dataset!r}: choose scenes or generated")


def words(caption: str) -> list[str]:
    return caption.lower().split()
