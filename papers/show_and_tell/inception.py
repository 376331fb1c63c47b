"""The `paper` preset's encoder: InceptionV3 (Szegedy et al. 2016; im2txt's CNN, the successor of the batch-normalised
GoogLeNet of the paper's Sec. 3.1) with ImageNet weights, frozen, its average-pooled 2048-d features of every image
computed once and cached.

    CNN(I) = avg_pool(InceptionV3_notop(preprocess(crop_299(resize_346(I)))))

The paper kept the CNN fixed (fine-tuning it "had a negative impact"; im2txt's first 1M steps too), so one feature
per image serves every epoch. The image is resized to 346 x 346 and its central 299 x 299 kept, im2txt's evaluation
preprocessing (image_processing.py; its random training crops would need the CNN in the loop), then scaled to
[-1, 1] (inception_v3.preprocess_input).

weights: "imagenet" (keras.applications downloads the no-top .h5 from storage.googleapis.com once, into
~/.keras/models), a local .h5 file (no download), or "none" (random weights: tests only, no download). The cache is
<data_dir or TFDS' default>/show_and_tell_features/<TFDS split>-<images>-<weights>.npy, written atomically, so a
killed run never leaves half a file. Rows follow TFDS' file order (shuffle_files=False), the order data.py reads
the references in.
"""

import os
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from common.data import DataError, load_tfds
from common.files import atomic_write

RESIZE, CROP = 346, 299
WEIGHTS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
WEIGHTS_HELP = (f"on a machine with internet download https://storage.googleapis.com/tensorflow/keras-applications/"
                f"inception_v3/{WEIGHTS_FILE} and pass --config.inception_weights=/path/to/{WEIGHTS_FILE}")


def encoder(weights: str) -> keras.Model:
    """InceptionV3 without its classifier, average-pooled: (B, 299, 299, 3) in [-1, 1] -> (B, 2048)."""
    if weights not in ("imagenet", "none") and not Path(weights).is_file():
        raise DataError(f"the InceptionV3 weights file {weights} does not exist: {WEIGHTS_HELP}.")
    try:
        return keras.applications.InceptionV3(include_top=False, pooling="avg", input_shape=(CROP, CROP, 3),
                                              weights=None if weights == "none" else weights)
    except Exception as err:  # a failed download (offline) or an unreadable .h5 file
        raise DataError(f"the InceptionV3 weights {weights!r} could not be loaded ({err}): {WEIGHTS_HELP}.") from err


def preprocess(image: tf.Tensor) -> tf.Tensor:
    start = (RESIZE - CROP) // 2
    resized = tf.image.resize(image, (RESIZE, RESIZE))[start : start + CROP, start : start + CROP]
    return keras.applications.inception_v3.preprocess_input(resized)


def cache_path(tfds_split: str, count: int, weights: str, data_dir: str = "") -> Path:
    root = Path(data_dir or os.environ.get("TFDS_DATA_DIR", "~/tensorflow_datasets")).expanduser()
    tag = weights if weights in ("imagenet", "none") else Path(weights).stem
    return root / "show_and_tell_features" / f"{tfds_split}-{count}-{tag}.npy"


def cached_features(splits: dict[str, tuple[str, int]], weights: str, data_dir: str = "",
                    batch_size: int = 64) -> dict[str, np.ndarray]:
    """{name: (count, 2048) float32} of the first `count` images of each {name: (TFDS coco_captions split, count)},
    read from the cache where it is there; the encoder is built only if a split is not."""
    import tensorflow_datasets as tfds

    model, out = None, {}
    for name, (tfds_split, count) in splits.items():
        path = cache_path(tfds_split, count, weights, data_dir)
        if not path.exists():
            model = encoder(weights) if model is None else model
            only_image = tfds.decode.PartialDecoding({"image": True})
            images = load_tfds("coco_captions", tfds_split, data_dir or None, decoders=only_image).take(count)
            images = images.map(lambda ex: preprocess(ex["image"]), num_parallel_calls=tf.data.AUTOTUNE)
            print(f"InceptionV3 features of {count:,} {tfds_split} images (once) -> {path}", flush=True)
            features = model.predict(images.batch(batch_size).prefetch(2), verbose=0).astype(np.float32)
            if len(features) != count:
                raise DataError(f"coco_captions {tfds_split} gave {len(features)} images, its references {count}: "
                                f"the prepared data changed between two reads; rebuild it (tfds build coco_captions)")
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, lambda tmp, features=features: np.save(tmp, features))
        out[name] = np.load(path)
    return out
