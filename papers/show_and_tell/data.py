"""Show and Tell's data: images with 5 reference captions each, in train / valid / test splits.

* `cpu` ("scenes"): scenes.py's captioning task on Fashion-MNIST (`make data/fashion_mnist`, offline). Train scenes
  are drawn from the first 55,000 training pictures, valid scenes from the last 5,000 (the depth study's split),
  test scenes from the 10,000 test pictures, so no picture is in two splits; every scene and its references are a
  function of (split, seed).
* `smoke` ("generated"): the same grammar on random blobs as pictures, a few dozen scenes, made in memory.
* `paper` ("coco"): MS-COCO 2014 through TFDS `coco_captions`, whose splits are Karpathy and Li's (2015): train
  (82,783 images), restval (30,504), val (5,000), test (5,000). As im2txt, we train on train + restval, select on val
  and test on test. The references are each image's first 5 captions (COCO has 5-7; 5 is what every image has). The
  images stay on disk: a coco Split holds no pictures but its TFDS split, and inception.py reads the images once for
  their cached features. `sizes` nonzero keeps only a split's first images (a quick partial run).

Captions are lower-cased words with punctuation split off (`words`). The vocabulary keeps the words
seen at least `min_word_count` times in the training references (im2txt: 4; the paper's COCO vocabulary: 5).
"""

import re
from typing import NamedTuple

import numpy as np

from common import fashion_mnist
from common.data import DataError, load_tfds
from papers.show_and_tell import scenes

VALID_SHARE = 12  # the last 1/12 of the training pictures (5,000 of 60,000) make the valid scenes
SPLIT_SEEDS = {"train": 0, "valid": 1, "test": 2}
COCO_SPLITS = {"train": "train+restval", "valid": "val", "test": "test"}  # im2txt's use of the Karpathy splits
REFERENCES = 5


class Split(NamedTuple):
    images: np.ndarray | None  # uint8 (N, 64, 64); None for coco (kept on disk)
    references: list[list[str]]  # 5 per image
    scenes: list[scenes.Scene] | None  # what each image shows (the tuples' truth); None for coco
    tfds_split: str = ""  # coco: the TFDS split the images are read from (inception.py)


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


def item_pools(dataset: str, seed: int, data_dir: str = "") -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{split: (pictures uint8 (N, 28, 28), labels)}: the pictures each split's scenes are drawn from (and the
    encoder's pre-training items): Fashion-MNIST's, or blobs for "generated"."""
    if dataset == "generated":
        return {name: blob_pictures(400, 1000 * seed + SPLIT_SEEDS[name]) for name in SPLIT_SEEDS}
    if dataset != "scenes":
        raise ValueError(f"unknown dataset {dataset!r}: choose scenes, generated or coco")
    arrays = fashion_mnist.load_arrays(data_dir or None)
    (train_x, train_y), (test_x, test_y) = arrays["train"], arrays["test"]
    cut = len(train_x) - len(train_x) // VALID_SHARE
    return {"train": (train_x[:cut], train_y[:cut]), "valid": (train_x[cut:], train_y[cut:]), "test": (test_x, test_y)}


def load_captions(dataset: str, sizes: tuple[int, int, int], seed: int, data_dir: str = "") -> Captions:
    """The scenes of each split, (train, valid, test) sizes in scenes, from that split's pictures; or COCO's images,
    sizes 0 for a whole split."""
    if dataset == "coco":
        splits = {name: coco_split(COCO_SPLITS[name], size, data_dir) for name, size in zip(COCO_SPLITS, sizes,
                                                                                             strict=True)}
        counts = " / ".join(f"{len(split.references):,}" for split in splits.values())
        return Captions(**splits, description=f"MS-COCO 2014 (TFDS coco_captions), {REFERENCES} references each: "
                                              f"{counts} images (Karpathy train+restval / val / test)")
    pools = item_pools(dataset, seed, data_dir)
    splits = {name: make_split(*pools[name], size, 1000 * seed + SPLIT_SEEDS[name])
              for name, size in zip(SPLIT_SEEDS, sizes, strict=True)}
    return Captions(**splits, description=f"{'Fashion-MNIST' if dataset == 'scenes' else 'generated blob'} scenes "
                                          f"of 2-4 items, 5 references each: {sizes[0]:,} / {sizes[1]:,} / "
                                          f"{sizes[2]:,} scenes (train / valid / test)")


def coco_split(tfds_split: str, count: int, data_dir: str = "") -> Split:
    """The first `count` (0: all) images' references; only the captions are decoded, not the pictures."""
    import tensorflow_datasets as tfds

    only_text = tfds.decode.PartialDecoding({"captions": {"text": True}})
    dataset = load_tfds("coco_captions", tfds_split, data_dir or None, decoders=only_text)
    texts = (dataset.take(count) if count else dataset).map(lambda ex: ex["captions"]["text"][:REFERENCES])
    references = [[t.decode() for t in captions] for captions in texts.as_numpy_iterator()]
    short = sum(len(refs) < REFERENCES for refs in references)
    if not references or short:
        raise DataError(f"coco_captions {tfds_split}: {len(references)} images, {short} with fewer than {REFERENCES} "
                        f"captions, which COCO never has: rebuild the data (tfds build coco_captions)")
    return Split(None, references, None, tfds_split)


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


def words(caption: str) -> list[str]:
    """Lower-cased words and punctuation marks, each a token ("a coat, a bag" -> a coat , a bag)."""
    return re.findall(r"[a-z0-9'-]+|[^\sa-z0-9'-]", caption.lower())
