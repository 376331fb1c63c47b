"""Depth study data: the idx reader on fixtures, the validation split, standardisation, augmentation, the
(seed, epoch)-determined pipelines, a run's splits, and the TFDS path on mock data."""

import gzip

import ml_collections
import numpy as np
import pytest
import tensorflow_datasets as tfds
from idx_fixtures import write_idx

from common import fashion_mnist
from common.config import ConfigError
from common.data import DataError
from papers.depth_study import data


def fixture_dir(tmp_path, n_train=12, n_test=5, seed=0):
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, n in (("train", n_train), ("test", n_test)):
        images_file, labels_file = fashion_mnist.IDX_FILES[split]
        images, labels = rng.integers(0, 256, (n, 28, 28)), rng.integers(0, 10, n)
        write_idx(tmp_path / images_file, images, fashion_mnist.IDX_IMAGES_MAGIC)
        write_idx(tmp_path / labels_file, labels, fashion_mnist.IDX_LABELS_MAGIC)
        arrays[split] = images, labels
    return tmp_path, arrays


def numbered_split(n=40, size=6, channels=1, seed=0):
    """Random images whose labels are their index, so a pipeline's order can be read off the labels."""
    images = np.random.default_rng(seed).integers(0, 256, (n, size, size, channels), dtype=np.uint8)
    return data.Split(images, np.arange(n, dtype=np.int32))


def collect(dataset):
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in dataset], strict=True)
    return np.concatenate(xs), np.concatenate(ys)


# --- the idx reader -----------------------------------------------------------------------------------------


def test_idx_reader_reads_the_fixture(tmp_path):
    directory, arrays = fixture_dir(tmp_path)
    splits = data.load("fashion_mnist", data_dir=directory)
    for split in ("train", "test"):
        images, labels = arrays[split]
        assert splits[split].images.shape == (len(labels), 28, 28, 1) and splits[split].images.dtype == np.uint8
        np.testing.assert_array_equal(splits[split].images[..., 0], images)
        np.testing.assert_array_equal(splits[split].labels, labels)
        assert splits[split].labels.dtype == np.int32


def test_default_idx_directory_is_the_make_target_s():
    assert fashion_mnist.IDX_DIR.as_posix() == "data/fashion_mnist/usr/share/datasets/fashion-mnist"


@pytest.mark.parametrize("damage", ["magic", "truncated", "not_gzip", "missing", "count", "label"])
def test_bad_idx_files_raise_data_error_that_says_what_to_do(tmp_path, damage):
    directory, arrays = fixture_dir(tmp_path)
    images_file, labels_file = fashion_mnist.IDX_FILES["train"]
    if damage == "magic":
        write_idx(directory / images_file, arrays["train"][0], fashion_mnist.IDX_LABELS_MAGIC + 7)
    elif damage == "truncated":
        raw = gzip.decompress((directory / images_file).read_bytes())
        (directory / images_file).write_bytes(gzip.compress(raw[:-10]))
    elif damage == "not_gzip":
        (directory / labels_file).write_bytes(b"this is not gzip")
    elif damage == "missing":
        (directory / labels_file).unlink()
    elif damage == "count":
        write_idx(directory / labels_file, arrays["train"][1][:-1], fashion_mnist.IDX_LABELS_MAGIC)
    elif damage == "label":
        write_idx(directory / labels_file, np.full(12, 10), fashion_mnist.IDX_LABELS_MAGIC)
    # make skips data/fashion_mnist while its .done stamp is there: the advice removes the folder first
    with pytest.raises(DataError, match="rm -r data/fashion_mnist && make data/fashion_mnist"):
        data.load("fashion_mnist", "idx", data_dir=directory)


def test_missing_directory_and_unknown_names(tmp_path):
    with pytest.raises(DataError, match=r"does not exist.*make data/fashion_mnist"):
        data.load_idx(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="unknown dataset"):
        data.load("mnist")
    with pytest.raises(ValueError, match=r"cifar10 has the sources \['tfds'\]"):
        data.load("cifar10", "idx")


# --- the TFDS path ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name,shape", [("fashion_mnist", (28, 28, 1)), ("cifar10", (32, 32, 3))])
def test_tfds_path_on_mock_data(name, shape):
    with tfds.testing.mock_data(num_examples=7):
        splits = data.load(name, "tfds")
    for split in ("train", "test"):
        assert splits[split].images.shape == (7, *shape) and splits[split].images.dtype == np.uint8
        assert splits[split].labels.dtype == np.int32 and splits[split].labels.max() < 10


# --- validation split and preprocessing ---------------------------------------------------------------------


def test_validation_split_is_disjoint_complete_and_deterministic():
    split = numbered_split(100)
    train, valid = data.split_validation(split, 10, seed=3)
    assert len(train) == 90 and len(valid) == 10
    assert set(train.labels).isdisjoint(valid.labels)
    assert set(train.labels) | set(valid.labels) == set(range(100))
    assert np.all(np.diff(train.labels) > 0) and np.all(np.diff(valid.labels) > 0)  # original order kept
    np.testing.assert_array_equal(split.images[valid.labels], valid.images)  # images stay with their labels
    again_train, again_valid = data.split_validation(split, 10, seed=3)
    np.testing.assert_array_equal(again_valid.labels, valid.labels)
    np.testing.assert_array_equal(again_train.images, train.images)
    assert not np.array_equal(data.split_validation(split, 10, seed=4)[1].labels, valid.labels)
    with pytest.raises(ValueError, match="n_valid"):
        data.split_validation(split, 100, seed=0)
    assert data.VALIDATION_SIZE == {"cifar10": 5_000, "fashion_mnist": 5_000}  # 45k / 5k and 55k / 5k


def test_per_pixel_mean_subtraction():
    split = numbered_split(50, channels=3)
    standardize = data.Standardize.fit("per_pixel_mean", split.images)
    assert standardize.mean.shape == (6, 6, 3)  # a mean image, not a mean per channel
    np.testing.assert_allclose(standardize.mean, split.images.mean(axis=0) / 255, rtol=1e-6)
    x = standardize(split.images).numpy()
    np.testing.assert_allclose(x, split.images / 255 - split.images.mean(axis=0) / 255, atol=1e-6)
    np.testing.assert_allclose(x.mean(axis=0), 0, atol=1e-6)  # every pixel has mean zero over the training set


def test_per_channel_mean_and_std():
    split = numbered_split(50, channels=3)
    split.images[..., 2] //= 4  # a channel with another mean and spread
    x = data.Standardize.fit("per_channel", split.images)(split.images).numpy()
    np.testing.assert_allclose(x.mean(axis=(0, 1, 2)), 0, atol=1e-5)
    np.testing.assert_allclose(x.std(axis=(0, 1, 2)), 1, rtol=1e-5)
    with pytest.raises(ValueError, match="per_pixel_mean"):
        data.Standardize.fit("zca", split.images)


def test_a_runs_data_holds_out_the_validation_split_and_fits_on_the_training_part(tmp_path):
    directory, arrays = fixture_dir(tmp_path, n_train=12, n_test=5)
    config = ml_collections.ConfigDict(dict(dataset="fashion_mnist", source="idx", data_dir=str(directory),
                                            valid_size=4, split_seed=0, test_size=3, batch_size=2,
                                            normalization="per_pixel_mean"))
    prepared = data.prepare_data(config)
    assert (len(prepared.train), len(prepared.valid), len(prepared.test)) == (8, 4, 3) and prepared.input_shape == (
        28, 28, 1)
    np.testing.assert_array_equal(prepared.test.labels, arrays["test"][1][:3])  # the first test images
    np.testing.assert_allclose(prepared.standardize.mean, prepared.train.images.mean(axis=0) / 255, rtol=1e-5)
    config.valid_size = 12
    with pytest.raises(ConfigError, match="valid_size=12 must be below the 12 training images"):
        data.prepare_data(config)
    config.valid_size, config.batch_size = 4, 9
    with pytest.raises(ConfigError, match="batch_size=9 is larger than the 8 training images"):
        data.prepare_data(config)


# --- augmentation -------------------------------------------------------------------------------------------


def test_augmentation_is_a_padded_crop_or_its_mirror_and_deterministic():
    x = np.random.default_rng(0).normal(size=(16, 8, 8, 2)).astype("float32")
    out = data.augment_batch(x, [1, 2]).numpy()
    assert out.shape == x.shape
    np.testing.assert_array_equal(out, data.augment_batch(x, [1, 2]).numpy())
    assert not np.array_equal(out, data.augment_batch(x, [1, 3]).numpy())
    padded = np.pad(x, [(0, 0), (4, 4), (4, 4), (0, 0)])
    seen = set()
    for i in range(len(x)):
        matches = [(dy, dx, f) for dy in range(9) for dx in range(9) for f in (False, True)
                   if np.array_equal(out[i], (lambda c: c[:, ::-1] if f else c)(padded[i, dy:dy + 8, dx:dx + 8]))]
        assert matches, f"image {i} is no pad-4 crop of its input or of its mirror"
        seen.add(matches[0][2])
    assert seen == {False, True}  # both flipped and unflipped images occur in 16 draws
    np.testing.assert_array_equal(data.augment_batch(x, [1, 2], pad=0, flip=False).numpy(), x)


# --- pipelines ----------------------------------------------------------------------------------------------


def test_train_dataset_is_a_function_of_seed_and_epoch():
    split = numbered_split(40)
    x1, y1 = collect(data.train_dataset(split, 8, seed=1, epoch=2, augment=True))
    x2, y2 = collect(data.train_dataset(split, 8, seed=1, epoch=2, augment=True))
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    assert sorted(y1) == list(range(40))  # one epoch is a permutation of the split
    _, y_next = collect(data.train_dataset(split, 8, seed=1, epoch=3, augment=True))
    _, y_other = collect(data.train_dataset(split, 8, seed=2, epoch=2, augment=True))
    assert not np.array_equal(y1, y_next) and not np.array_equal(y1, y_other)
    x_plain, y_plain = collect(data.train_dataset(split, 8, seed=1, epoch=2, augment=False))
    np.testing.assert_array_equal(y_plain, y1)  # augmentation does not change the order
    np.testing.assert_allclose(x_plain, split.images[y_plain] / 255, atol=1e-7)
    assert not np.allclose(x_plain, x1)


def test_train_dataset_drops_the_last_partial_batch_unless_asked():
    split = numbered_split(21)
    assert [len(y) for _, y in data.train_dataset(split, 8, 0, 0, False)] == [8, 8]
    assert [len(y) for _, y in data.train_dataset(split, 8, 0, 0, False, drop_remainder=False)] == [8, 8, 5]
    assert data.steps_per_epoch(21, 8) == 2


def test_train_batches_resume_at_an_epoch_sees_the_same_batches():
    split = numbered_split(24, channels=3)
    standardize = data.Standardize.fit("per_channel", split.images)
    steps = data.steps_per_epoch(len(split), 8)
    from_start = list(data.train_batches(split, 8, seed=5, first_epoch=0, augment=True,
                                      standardize=standardize).take(3 * steps))
    resumed = list(data.train_batches(split, 8, seed=5, first_epoch=1, augment=True,
                                   standardize=standardize).take(2 * steps))
    for (xa, ya), (xb, yb) in zip(from_start[steps:], resumed, strict=True):
        np.testing.assert_array_equal(xa.numpy(), xb.numpy())
        np.testing.assert_array_equal(ya.numpy(), yb.numpy())
    epoch1 = collect(data.train_dataset(split, 8, seed=5, epoch=1, augment=True, standardize=standardize))
    np.testing.assert_array_equal(np.concatenate([x for x, _ in resumed[:steps]]), epoch1[0])


def test_training_data_from_a_checkpoint_continues_the_stream_mid_epoch():
    """A resumed run starts at checkpoint k, step k x steps_per_checkpoint, wherever that falls in an epoch."""
    split = numbered_split(40)
    prepared = data.Prepared(split, split, split, data.Standardize.fit("per_channel", split.images))
    config = ml_collections.ConfigDict(dict(batch_size=8, steps_per_checkpoint=3, seed=2, augment=True,
                                            crop_padding=4))
    straight = list(data.training_data(prepared, config, 0).take(12))  # 5 batches per epoch
    for checkpoint in (1, 2):  # step 3 (epoch 0, batch 3) and step 6 (epoch 1, batch 1)
        resumed = list(data.training_data(prepared, config, checkpoint).take(12 - 3 * checkpoint))
        for (xa, ya), (xb, yb) in zip(straight[3 * checkpoint :], resumed, strict=True):
            np.testing.assert_array_equal(xa.numpy(), xb.numpy())
            np.testing.assert_array_equal(ya.numpy(), yb.numpy())


def test_eval_dataset_is_the_original_view_in_order():
    split = numbered_split(21, channels=3)
    standardize = data.Standardize.fit("per_pixel_mean", split.images)
    x, y = collect(data.eval_dataset(split, 8, standardize))
    np.testing.assert_array_equal(y, np.arange(21))
    np.testing.assert_allclose(x, standardize(split.images).numpy(), atol=1e-7)
