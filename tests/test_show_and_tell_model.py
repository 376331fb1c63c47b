"""NIC (show_and_tell/model.py): the image enters once, at t = -1, and its output is not scored; the searches' step
equals teacher forcing; padded words add nothing to the loss; saving."""

import keras
import numpy as np
import pytest

from common.vocabulary import BOS, EOS, PAD
from papers.show_and_tell import encoder
from papers.show_and_tell.model import CaptionNLL, ShowAndTell


def inputs(rng, batch=3, length=5, vocab=12, features=7):
    caption_in = rng.integers(4, vocab, size=(batch, length)).astype("int32")
    caption_in[:, 0] = BOS
    return {"features": rng.normal(size=(batch, features)).astype("float32"), "caption_in": caption_in}


@pytest.mark.parametrize("feed_image", ["once", "every_step"])
def test_decode_step_by_step_equals_teacher_forcing(feed_image):
    rng = np.random.default_rng(0)
    model = ShowAndTell(12, units=6, embedding_dim=5, feed_image=feed_image)
    batch = inputs(rng)
    logits = keras.ops.convert_to_numpy(model(batch))
    assert logits.shape == (3, 5, 12)  # one prediction per word read: none after the image
    memory, state = model.encode(batch["features"])
    previous = np.full(3, -1, dtype=np.int32)
    for t in range(5):
        step, state = model.decode_step(memory, state, previous)
        np.testing.assert_allclose(keras.ops.convert_to_numpy(step), logits[:, t], rtol=1e-5, atol=1e-5)
        previous = batch["caption_in"][:, min(t + 1, 4)]


def test_the_image_enters_once_through_the_state():
    """Fed once, the image sets the state the words start from and nothing else: the words' LSTM run from encode's
    state gives the logits of `call`, and another image changes them."""
    rng = np.random.default_rng(1)
    model = ShowAndTell(12, units=6, embedding_dim=5)
    batch = inputs(rng)
    _, (h, c) = model.encode(batch["features"])
    outputs, _, _ = model.lstm(model.word_embedding(batch["caption_in"]), initial_state=[h, c])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model.softmax(outputs)),
                               keras.ops.convert_to_numpy(model(batch)), rtol=1e-5, atol=1e-6)
    other = {**batch, "features": batch["features"][::-1].copy()}
    assert not np.allclose(keras.ops.convert_to_numpy(model(other)), keras.ops.convert_to_numpy(model(batch)))


def test_padded_words_add_nothing_to_the_loss():
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(2, 4, 9)).astype("float32")
    y = np.array([[5, 6, EOS, PAD], [5, EOS, PAD, PAD]])
    changed = logits.copy()
    changed[0, 3], changed[1, 2:] = 50.0, -20.0
    assert float(CaptionNLL()(y, logits)) == pytest.approx(float(CaptionNLL()(y, changed)), rel=1e-6)


def test_the_loss_is_the_mean_over_the_batch_words():
    """im2txt's units (lr 2.0 and clip 5 are set for them): eq. 13's sums of both captions over their 5 words."""
    rng = np.random.default_rng(4)
    logits = rng.normal(size=(2, 4, 9)).astype("float32")
    y = np.array([[5, 6, EOS, PAD], [5, EOS, PAD, PAD]])
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    words = [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1)]
    expected = -sum(log_p[b, t, y[b, t]] for b, t in words) / len(words)
    assert float(CaptionNLL()(y, logits)) == pytest.approx(expected, rel=1e-5)


def test_saves_and_loads(tmp_path):
    rng = np.random.default_rng(3)
    model = ShowAndTell(12, units=6, embedding_dim=5, feed_image="every_step")
    batch = inputs(rng)
    model(batch)
    model.save(tmp_path / "nic.keras")
    loaded = keras.saving.load_model(tmp_path / "nic.keras")
    assert loaded.feed_image == "every_step"
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(batch)), keras.ops.convert_to_numpy(model(batch)),
                               rtol=1e-6)


def test_standardized_features_use_the_training_moments_and_travel_with_the_saved_model(tmp_path):
    """The cpu captioner reads raw trunk features centred and scaled by the TRAINING split's mean and std (valid and
    test alike), and the saved model keeps those moments: it captions raw features after loading."""
    rng = np.random.default_rng(5)
    train = rng.normal(4.0, 3.0, (500, 7)).astype("float32")
    mean, variance = encoder.moments(train)
    np.testing.assert_allclose(mean, train.mean(0), rtol=1e-6)
    np.testing.assert_allclose(variance, train.var(0), rtol=1e-5)
    standardized = ShowAndTell(12, units=6, embedding_dim=5, feature_moments=(mean, variance))
    plain = ShowAndTell(12, units=6, embedding_dim=5)
    batch = inputs(rng)
    standardized(batch), plain(batch)
    plain.set_weights(standardized.get_weights())
    scaled = {**batch, "features": (batch["features"] - mean) / np.sqrt(variance)}
    np.testing.assert_allclose(keras.ops.convert_to_numpy(standardized(batch)),
                               keras.ops.convert_to_numpy(plain(scaled)), rtol=1e-5, atol=1e-5)
    standardized.save(tmp_path / "nic.keras")
    loaded = keras.saving.load_model(tmp_path / "nic.keras")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(batch)),
                               keras.ops.convert_to_numpy(standardized(batch)), rtol=1e-6)


def test_presets_and_their_errors():
    from papers.show_and_tell import configs

    for preset in ("smoke", "cpu", "paper"):
        for model in configs.MODELS:
            if (preset, model) != ("paper", "scratch"):
                configs.validate(configs.get_config(f"{preset},{model}"))
    with pytest.raises(configs.ConfigError, match="scratch"):
        configs.validate(configs.get_config("paper,scratch"))
    assert configs.get_config("cpu,every_step").feed_image == "every_step"
    with pytest.raises(configs.ConfigError, match="unknown model"):
        configs.get_config("cpu,sideways")
    config = configs.get_config("cpu")
    config.sizes = (10, 0, 5)
    with pytest.raises(configs.ConfigError, match="sizes"):
        configs.validate(config)


def test_every_reference_is_an_example_with_bos_and_eos():
    from common.vocabulary import Vocabulary
    from papers.show_and_tell import pipeline

    refs = [["a bag", "two bags and a coat"], ["a coat"]]
    vocabulary = Vocabulary.from_sentences([r.split() for image in refs for r in image])
    images, caption_in, caption_out = pipeline.caption_arrays(refs, vocabulary)
    assert images.tolist() == [0, 0, 1]
    bag, coat = vocabulary.encode(["bag", "coat"])
    a = vocabulary.encode(["a"])[0]
    assert caption_in[0].tolist() == [BOS, a, bag, PAD, PAD, PAD]
    assert caption_out[0].tolist() == [a, bag, EOS, PAD, PAD, PAD]
    assert caption_out[2].tolist()[:3] == [a, coat, EOS]
    features = np.arange(2 * 3, dtype="float32").reshape(2, 3)
    batch, target = next(iter(pipeline.training_batches(features, refs, vocabulary, 3, 0, 0, 1)))
    rows = {int(np.flatnonzero(np.all(caption_in == row, axis=1))[0]) for row in batch["caption_in"].numpy()}
    assert rows == {0, 1, 2}
    for row, feature in zip(batch["caption_in"].numpy(), batch["features"].numpy(), strict=True):
        example = int(np.flatnonzero(np.all(caption_in == row, axis=1))[0])
        np.testing.assert_array_equal(feature, features[images[example]])  # each caption with its own image


def test_smoke_runs_of_every_entry_point_write_their_rows_and_the_report(tmp_path):
    import pandas as pd

    from common import checkpoints, lifecycle
    from papers.show_and_tell import configs, pretrain, train

    encoder_config = configs.get_config("smoke")
    encoder_config.workdir, encoder_config.results_dir = str(tmp_path / "encoder"), str(tmp_path / "results")
    lifecycle.execute(pretrain.EXPERIMENT, encoder_config)  # the encoder's pre-training: its rows and its trunk
    table = (tmp_path / "results" / "show_and_tell.csv").read_text()
    assert "valid_accuracy" in table and "test_accuracy" in table and "item_classifier" in table
    trunk = checkpoints.load_selected(tmp_path / "encoder", "pretrain").get_layer("trunk")
    assert trunk(np.zeros((1, 64, 64, 1), "float32")).shape == (1, 16, 16, 64)
    config = configs.get_config("smoke,nic")
    config.workdir, config.results_dir = str(tmp_path / "nic"), str(tmp_path / "results")
    config.encoder_workdir = str(tmp_path / "encoder")
    lifecycle.execute(train.EXPERIMENT, config)
    table = pd.read_csv(tmp_path / "results" / "show_and_tell.csv", dtype=str, keep_default_na=False)
    nic = table[table.method == "nic"]
    assert {"bleu_4", "cider", "rouge_l", "tuple_f1", "distinct_share", "test_perplexity"} <= set(nic.metric)
    assert set(nic[nic.metric == "cider"].beam_size) == {"1", "3"}
    captions = pd.read_csv(next((tmp_path / "results" / "captions").rglob("*.tsv")), sep="\t",
                           keep_default_na=False)
    assert len(captions) == config.sizes[2] and {"beam1", "beam3"} <= set(captions)

    from papers.show_and_tell import baselines

    baseline_config = configs.get_config("smoke")
    baseline_config.workdir, baseline_config.results_dir = str(tmp_path / "baselines"), str(tmp_path / "results")
    baseline_config.encoder_workdir = str(tmp_path / "encoder")
    lifecycle.execute(baselines.EXPERIMENT, baseline_config)
    table = pd.read_csv(tmp_path / "results" / "show_and_tell.csv", dtype=str, keep_default_na=False)
    assert {"random", "nearest_neighbour", "human"} <= set(table.method)
    f1 = {m: float(table[(table.method == m) & (table.metric == "tuple_f1")].value.iloc[0])
          for m in ("human", "random")}
    assert f1["human"] > f1["random"]  # a reference of the image says more of it than a caption of another

    for model in ("scratch", "blind"):  # claim 4's and claim 5's rows, then Table 1, the claims and the grid
        config = configs.get_config(f"smoke,{model}")
        config.workdir, config.results_dir = str(tmp_path / model), str(tmp_path / "results")
        config.beam_sizes, config.sizes = (1, 20), (24, 4, 4)  # the tables' beams, on fewer scenes
        lifecycle.execute(train.EXPERIMENT, config)
    table = pd.read_csv(tmp_path / "results" / "show_and_tell.csv", dtype=str, keep_default_na=False)
    assert set(table[table.metric == "cider"].encoder) == {"pretrained", "scratch", "none", ""}

    from common import report

    text = report.build(tmp_path / "results", root=None)
    assert "| Captions | BLEU-1 | BLEU-4 |" in text and "Nearest neighbour" in text and "scratch encoder" in text
    assert "NIC (beam 20) above nearest neighbour" not in text  # the smoke NIC searched beams 1 and 3 only
    assert (tmp_path / "results" / "plots" / "show_and_tell-captions.png").exists()


def test_the_encoder_trained_from_scratch_learns_with_the_captioner_and_saves(tmp_path):
    """Claim 4's model: the canvases go through its own trunk, whose weights the caption loss moves."""
    from papers.show_and_tell import encoder

    rng = np.random.default_rng(4)
    model = ShowAndTell(12, units=6, embedding_dim=5, trunk=encoder.trunk())
    batch = {**inputs(rng, batch=2), "features": rng.integers(0, 256, size=(2, 64, 64)).astype("uint8")}
    targets = np.roll(batch["caption_in"], -1, axis=1)
    model.compile(keras.optimizers.SGD(0.5), CaptionNLL())
    model(batch)  # builds the trunk
    before = [keras.ops.convert_to_numpy(w).copy() for w in model.trunk.weights]
    assert len(before) == 8  # 4 convolutions' kernels and biases
    model.train_on_batch(batch, targets)
    after = [keras.ops.convert_to_numpy(w) for w in model.trunk.weights]
    assert all(not np.allclose(a, b) for a, b in zip(before, after, strict=True))
    model.save(tmp_path / "scratch.keras")
    loaded = keras.saving.load_model(tmp_path / "scratch.keras")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(batch)), keras.ops.convert_to_numpy(model(batch)),
                               rtol=1e-5, atol=1e-6)


def test_the_scratch_trunks_features_are_standardized_whatever_their_scale():
    """W_I reads the scratch trunk's features standardized per feature (the counterpart of the frozen features'
    moments): scaling the last convolution by 1,000 leaves the captions' logits unchanged in training mode."""
    from papers.show_and_tell import encoder

    rng = np.random.default_rng(5)
    model = ShowAndTell(12, units=6, embedding_dim=5, dropout=0.0, trunk=encoder.trunk())
    batch = {**inputs(rng, batch=4), "features": rng.integers(0, 256, size=(4, 64, 64)).astype("uint8")}
    model(batch)  # builds the trunk
    last = model.trunk.layers[-2]  # the last convolution, before the pooling
    last.set_weights([w * 10.0 for w in last.get_weights()])  # features well above the normalization's epsilon
    before = keras.ops.convert_to_numpy(model(batch, training=True))
    last.set_weights([w * 1000.0 for w in last.get_weights()])
    after = keras.ops.convert_to_numpy(model(batch, training=True))
    np.testing.assert_allclose(after, before, rtol=1e-2, atol=1e-3)  # unnormalized, W_I would saturate
    with pytest.raises(ValueError, match="one or the other"):
        ShowAndTell(12, trunk=encoder.trunk(), feature_moments=(np.zeros(4), np.ones(4)))


def test_the_scratch_normalization_is_reestimated_to_the_trunks_current_moments():
    """Validation and test read the scratch trunk's features standardized by its current moments on training
    canvases, not by moving averages that lag a trunk that still moves: on the sample itself, inference then
    matches training mode (batch statistics), and the same sample gives the same statistics every time."""
    from papers.show_and_tell import encoder

    rng = np.random.default_rng(6)
    model = ShowAndTell(12, units=6, embedding_dim=5, dropout=0.0, trunk=encoder.trunk())
    batch = {**inputs(rng, batch=6), "features": rng.integers(0, 256, size=(6, 64, 64)).astype("uint8")}
    model(batch)  # builds the trunk; the moving averages start at mean 0, variance 1
    last = model.trunk.layers[-2]
    last.set_weights([w * 10.0 for w in last.get_weights()])  # the trunk moved since the averages were taken
    in_training = keras.ops.convert_to_numpy(model(batch, training=True))
    assert not np.allclose(keras.ops.convert_to_numpy(model(batch)), in_training, rtol=1e-2, atol=1e-3)
    encoder.reestimate_normalization(model, batch["features"], count=6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(batch)), in_training, rtol=1e-3, atol=1e-4)
    encoder.reestimate_normalization(model, batch["features"], count=4)
    first = keras.ops.convert_to_numpy(model.feature_normalization.moving_mean).copy()
    encoder.reestimate_normalization(model, batch["features"], count=4)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(model.feature_normalization.moving_mean), first)


def test_beam_search_on_a_tiny_nic_finds_the_most_probable_caption():
    """The paper's search over NIC's own encode / decode_step: with a beam as wide as the captions of at most 3
    words, it returns the caption that enumerating all of them finds most probable (EOS ends one early)."""
    import itertools

    from common import beam_search

    vocab, max_length = 6, 3
    keras.utils.set_random_seed(0)
    model = ShowAndTell(vocab, units=4, embedding_dim=3, init_scale=1.5)
    features = 2 * np.random.default_rng(5).normal(size=(6, 7)).astype("float32")

    cache = {}

    def after(i, prefix):
        """(log p of the next word, memory, state) after image i and the words of `prefix`, each prefix once."""
        if (i, prefix) not in cache:
            if prefix:
                _, memory, state = after(i, prefix[:-1])
            else:
                memory, state = model.encode(features[i : i + 1])
            logits, state = model.decode_step(memory, state, np.array([prefix[-1] if prefix else -1]))
            cache[(i, prefix)] = (keras.ops.convert_to_numpy(keras.ops.log_softmax(logits))[0], memory, state)
        return cache[(i, prefix)]

    def log_p(i, caption):
        return sum(float(after(i, caption[:t])[0][word]) for t, word in enumerate(caption))

    found, scores = beam_search.beam_search(model, model.encode(features), (vocab - 1) ** 2 * vocab, max_length,
                                            eos=EOS, finished="set")
    words, lengths = [w for w in range(vocab) if w != EOS], set()
    for i in range(len(features)):
        captions = [(*c, EOS) for n in range(max_length) for c in itertools.product(words, repeat=n)]
        captions += list(itertools.product(words, repeat=max_length))  # cut at max_length, no EOS
        best = max(captions, key=lambda c: log_p(i, c))
        words_of_best = [w for w in best if w != EOS]  # the search returns the words, EOS left out, padded
        assert list(found[i]) == words_of_best + [beam_search.PAD] * (max_length - len(words_of_best))
        assert scores[i] == pytest.approx(log_p(i, best), abs=1e-4)
        lengths.add(len(words_of_best))
    assert len(lengths) > 1, lengths  # the images' best captions differ in length: the test can tell them apart
