"""Show and Tell's `paper` path: MS-COCO through TFDS `coco_captions`, InceptionV3's features cached once, on
`tfds.testing.mock_data` (random pictures of random sizes with 5-49 random captions each, every split the same
examples: mock_data's way) and random InceptionV3 weights (inception_weights="none"): nothing is downloaded."""

import pandas as pd
import pytest
import tensorflow_datasets as tfds

from common import lifecycle
from common.config import ConfigError
from common.data import DataError
from papers.show_and_tell import baselines, configs, data, inception, train


def tiny_paper_config(tmp_path, name: str):
    config = configs.get_config("paper")
    config.data_dir = str(tmp_path / "tfds")
    config.workdir, config.results_dir = str(tmp_path / name), str(tmp_path / "results")
    config.sizes = (0, 3, 3)  # the whole (mocked) train + restval; val and test capped at 3 images
    config.inception_weights = "none"
    config.min_word_count = 1
    config.units = config.embedding_dim = 8
    config.batch_size = config.eval_batch_size = 8
    config.max_epochs = 1.0
    config.beam_sizes = (1, 2)
    config.max_caption_length = 6
    config.meteor = False
    config.verbose = 0
    return config


def test_paper_preset_captions_mock_coco_on_cached_inception_features(tmp_path, monkeypatch):
    config = tiny_paper_config(tmp_path, "nic")
    with tfds.testing.mock_data(num_examples=5):
        captions = data.load_captions("coco", tuple(config.sizes), config.seed, config.data_dir)
        assert [len(s.references) for s in captions[:3]] == [5, 3, 3]
        assert all(len(refs) == 5 for s in captions[:3] for refs in s.references)  # the first 5 of 5-49
        assert captions.train.images is None and captions.train.tfds_split == "train+restval"
        lifecycle.execute(train.EXPERIMENT, config)
        cache = tmp_path / "tfds" / "show_and_tell_features"
        assert sorted(p.name for p in cache.iterdir()) == ["test-3-none.npy", "train+restval-5-none.npy",
                                                           "val-3-none.npy"]  # no temporary left behind

        def no_encoder(weights):
            raise AssertionError("the cached features were not reused")

        monkeypatch.setattr(inception, "encoder", no_encoder)  # a second run must read the cache
        features = train.image_features(config, captions)
        assert {k: v.shape for k, v in features.items()} == {"train": (5, 2048), "valid": (3, 2048),
                                                              "test": (3, 2048)}
        lifecycle.execute(baselines.EXPERIMENT, tiny_paper_config(tmp_path, "baselines"))
        config.encoder = "none"  # the blind model reads no picture
        assert train.image_features(config, captions)["test"].shape == (3, 1)
    table = pd.read_csv(tmp_path / "results" / "show_and_tell.csv", dtype=str, keep_default_na=False)
    assert set(table.experiment) == {"coco"} and not table.metric.str.startswith("tuple_").any()
    nic = table[table.method == "nic"]
    for metric in ("bleu_4", "cider"):
        assert set(nic[nic.metric == metric].beam_size) == {"1", "2"}
    assert {"random", "nearest_neighbour", "human"} <= set(table.method)
    assert not (tmp_path / "results" / "scenes").exists()  # no caption grid: the pictures stay on disk


def test_missing_coco_data_or_weights_say_what_to_do(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr(tfds, "load", offline)
    with pytest.raises(DataError, match=r"coco_captions.*--config.data_dir"):
        data.load_captions("coco", (0, 0, 0), 1, str(tmp_path))
    with pytest.raises(DataError, match="--config.inception_weights=/path/to/inception_v3"):
        inception.encoder(str(tmp_path / "missing.h5"))
    config = configs.get_config("paper")
    config.inception_weights = "inception.keras"
    with pytest.raises(ConfigError, match="inception_weights"):
        configs.validate(config)
