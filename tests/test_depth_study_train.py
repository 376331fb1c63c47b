"""Depth study entry points: the smoke preset trains and tests end to end on idx fixtures, writes its rows once,
resumes after a stop, warms up as He et al.; the lesion runs on the trained nets; the tables and figures draw
fabricated rows; bad configs are one clear error."""

import json

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from test_depth_study_data import write_idx

from common import report, results, training
from common.config import ConfigError, step_boundaries
from papers.depth_study import configs, lesion, schedule, tables, train
from papers.depth_study import data as D
from papers.depth_study import model as M


def write_fixtures(directory, n_train=160, n_test=40, seed=0):
    """Fashion-MNIST-shaped idx files whose classes differ in brightness, so a few steps learn something."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for split, n in (("train", n_train), ("test", n_test)):
        images_file, labels_file = D.IDX_FILES[split]
        labels = rng.integers(0, 10, n)
        images = labels[:, None, None] * 24 + rng.integers(0, 16, (n, 28, 28))
        write_idx(directory / images_file, images, D.IDX_IMAGES_MAGIC)
        write_idx(directory / labels_file, labels, D.IDX_LABELS_MAGIC)
    return directory


def smoke_config(root, preset="smoke", **overrides):
    config = configs.get_config(preset)
    config.data_dir = str(root / "idx")
    config.results_dir = str(root / "results")
    config.valid_size = 32
    config.test_size = 0
    for key, value in overrides.items():
        config[key] = value
    return config


def read_rows(root):
    return pd.read_csv(root / "results" / "depth_study.csv")


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """ResNet-14 and plain-14 (width 4) trained by the smoke preset in <tmp>/runs/..., the default run places."""
    root = tmp_path_factory.mktemp("depth_study")
    write_fixtures(root / "idx")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        trained = {arch: train.run(smoke_config(root, arch=arch)) for arch in ("resnet14", "plain14")}
        yield root, trained


def test_smoke_trains_tests_and_writes_rows_once(study):
    root, trained = study
    result = trained["resnet14"]
    rows = read_rows(root)
    mine = rows[rows["variant"] == "ResNet-14 (w=4), flips only"]
    assert sorted(mine["metric"]) == ["params", "test_error", "train_error", "valid_error"]
    assert set(rows["experiment"]) == {"fashion_mnist_depth"} and set(rows["preset"]) == {"smoke"}
    assert set(rows["variant"]) == {"ResNet-14 (w=4), flips only", "plain-14 (w=4), flips only"}
    assert set(mine["steps"]) == {8} and set(mine["seed"]) == {1}
    values = dict(zip(mine["metric"], mine["value"], strict=True))
    for metric in ("test_error", "valid_error", "train_error"):
        assert values[metric] == pytest.approx(result["metrics"][metric], abs=0.01)
        assert 0.0 <= values[metric] <= 100.0  # percent
    workdir = root / "runs" / "depth_study" / "smoke" / "resnet14" / "seed1"
    model = keras.saving.load_model(workdir / train.MODEL_FILE)
    assert values["params"] == M.count_params(model) == M.resnet_param_count(14, 4, 10, 1)
    history = pd.read_csv(root / "results" / "histories" / "depth_study" / "fashion_mnist_smoke"
                          / "resnet-14-w-4-flips-only_seed1.csv")
    assert list(history["step"]) == [4, 8]
    assert {"error", "val_error", "loss", "val_loss", "learning_rate"} <= set(history.columns)
    assert values["valid_error"] == pytest.approx(history["val_error"].min(), abs=0.01)
    # / 10 at steps 4 and 6 of 8; the smoke preset warms up at 0.01 until the training error is below 80%
    assert result["warmup_ended_at_step"] is None or 1 <= result["warmup_ended_at_step"] <= 4
    warm = result["warmup_ended_at_step"] is None or result["warmup_ended_at_step"] == 4
    assert list(history["learning_rate"]) == pytest.approx([0.01 if warm else 0.1, 0.001])
    # The finished command again: nothing trains, nothing is written.
    assert train.run(smoke_config(root, arch="resnet14")) == json.loads(json.dumps(result))
    assert len(read_rows(root)) == len(rows) == 8


def test_lesion_end_to_end_on_the_trained_nets(study):
    root, trained = study
    results_by_net = {}
    for name, variant in (("resnet", "ResNet-14 (w=4), flips only"), ("plain", "plain-14 (w=4), flips only")):
        config = smoke_config(root, lesion_arch=f"{name}14")
        result = lesion.run(config)
        results_by_net[name] = result
        assert result["variant"] == variant
        assert result["downsampling_blocks"] == [3, 5]
        rows = read_rows(root)
        rows = rows[rows["experiment"] == "fashion_mnist_lesion"]
        net = rows[rows["variant"] == variant].set_index("metric")["value"]
        assert net["test_error (intact)"] == pytest.approx(trained[f"{name}14"]["metrics"]["test_error"], abs=0.01)
        assert [m for m in net.index if m.startswith("test_error (block")] == [
            "test_error (block 1 deleted)", "test_error (block 2 deleted)",
            "test_error (block 3 deleted, downsampling)", "test_error (block 4 deleted)",
            "test_error (block 5 deleted, downsampling)", "test_error (block 6 deleted)"]
        assert {"test_error (1 random block deleted)", "test_error std (2 random blocks deleted)"} <= set(net.index)
        assert ((net >= 0) & (net <= 100)).all()
        sets = result["random_sets"]
        assert all(len(s) == int(k) and not {2, 4} & set(s) for k, draws in sets.items() for s in draws)  # 0-based
        # A second call does nothing.
        assert lesion.run(config) == json.loads(json.dumps(result))
        assert len(read_rows(root)[lambda f: f["experiment"] == "fashion_mnist_lesion"]) == len(rows)
    # Each net's lesion runs on its own, and the ResNet and its plain twin lose the same random sets.
    assert set(read_rows(root)[lambda f: f["experiment"] == "fashion_mnist_lesion"]["variant"]) == {
        "ResNet-14 (w=4), flips only", "plain-14 (w=4), flips only"}
    assert results_by_net["resnet"]["random_sets"] == results_by_net["plain"]["random_sets"]
    # The one traced function that takes the kept blocks as an input computes model.lesioned's network.
    model = keras.saving.load_model(root / "runs" / "depth_study" / "smoke" / "resnet14" / "seed1" / train.MODEL_FILE)
    x = np.random.default_rng(0).normal(size=(4, 28, 28, 1)).astype("float32")
    logits = lesion.lesion_function(model)
    for deleted in ([], [0], [2], [1, 4, 5]):
        keep = np.ones(len(model.blocks), dtype=bool)
        keep[deleted] = False
        np.testing.assert_allclose(logits(tf.constant(x), tf.constant(keep)).numpy(),
                                   np.asarray(M.lesioned(model, deleted)(x)), rtol=1e-5, atol=1e-5)


def test_lesion_without_the_trained_run_names_the_make_target(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = configs.get_config("cpu")
    assert config.lesion_arch == "resnet56"
    with pytest.raises(FileNotFoundError, match="make runs/depth_study/cpu/resnet56/seed1/result.json"):
        lesion.run(config)
    config.lesion_arch = "plain56"  # the control is lesioned on its own
    with pytest.raises(FileNotFoundError, match="make runs/depth_study/cpu/plain56/seed1/result.json"):
        lesion.run(config)
    config.lesion_arch = "densenet40"
    with pytest.raises(ConfigError, match="deletes blocks of a ResNet or of its plain twin"):
        lesion.run(config)
    config.lesion_arch = "resnet57"
    with pytest.raises(ConfigError, match=r"6n \+ 2"):
        lesion.run(config)
    assert not (tmp_path / "runs").exists()


def test_a_stopped_run_resumes_mid_pass_and_ends_as_an_uninterrupted_one(study, tmp_path, monkeypatch):
    """Stopped after its first checkpoint (step 4 of a pass of 8 batches), the same command finishes the run with
    the weights and history of the run that was never stopped (the module's ResNet-14)."""
    root, trained = study
    config = smoke_config(root, workdir=str(tmp_path / "run"), results_dir=str(tmp_path / "results"))
    save = training.Checkpoint.on_epoch_end

    def stop_after_first(self, epoch, logs=None):
        save(self, epoch, logs)
        raise KeyboardInterrupt

    monkeypatch.setattr(training.Checkpoint, "on_epoch_end", stop_after_first)
    with pytest.raises(KeyboardInterrupt):
        train.run(config)
    monkeypatch.setattr(training.Checkpoint, "on_epoch_end", save)
    assert not (tmp_path / "results" / "depth_study.csv").exists()
    assert json.loads((tmp_path / "run" / training.STATE_FILE).read_text())["epochs_done"] == 1
    resumed = train.run(config)
    assert resumed["metrics"] == trained["resnet14"]["metrics"]
    straight = pd.read_csv(root / "runs" / "depth_study" / "smoke" / "resnet14" / "seed1" / training.HISTORY_FILE)
    again = pd.read_csv(tmp_path / "run" / training.HISTORY_FILE)
    np.testing.assert_allclose(again[["error", "loss", "val_error"]], straight[["error", "loss", "val_error"]],
                               rtol=1e-5)
    assert len(read_rows(tmp_path)) == 4


def test_densenet_smoke_trains_with_its_own_recipe(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_fixtures(tmp_path / "idx")
    config = smoke_config(tmp_path, "smoke_densenet", train_steps=4)
    assert (config.nesterov, config.normalization, config.arch) == (True, "per_channel", "densenet_bc10")
    result = train.run(config)
    rows = read_rows(tmp_path)
    assert set(rows["variant"]) == {"DenseNet-BC-10 (k=4), flips only"} and set(rows["preset"]) == {"smoke"}
    assert 0.0 <= result["metrics"]["test_error"] <= 100.0
    assert (tmp_path / "runs" / "depth_study" / "smoke" / "densenet_bc10" / "seed1" / train.RESULT_FILE).exists()


def test_nan_loss_gives_no_result_row(tmp_path):
    write_fixtures(tmp_path / "idx")
    config = smoke_config(tmp_path, arch="resnet8", learning_rate=float("inf"), train_steps=4,
                          workdir=str(tmp_path / "run"))
    with pytest.raises(training.TrainingDiverged):
        train.run(config)
    assert not (tmp_path / "results" / "depth_study.csv").exists()
    assert not (tmp_path / "run" / train.RESULT_FILE).exists()


# --- the schedule ---------------------------------------------------------------------------------------------


def test_he_et_al_step_schedule():
    boundaries = step_boundaries(64_000, (0.5, 0.75))
    assert boundaries == [32_000, 48_000]
    lrs = [schedule.step_learning_rate(s, 0.1, boundaries) for s in (0, 31_999, 32_000, 47_999, 48_000, 63_999)]
    assert lrs == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.001, 0.001])
    assert step_boundaries(configs.get_config("paper_densenet").train_steps, (0.5, 0.75)) == [
        150 * 703, 225 * 703]  # DenseNet: epochs 150 and 225 of 300


class RecordLearningRate(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.lrs = []

    def on_train_batch_begin(self, batch, logs=None):
        self.lrs.append(float(self.model.optimizer.learning_rate.numpy()))


def lr_trace(until_error, workdir=None, steps=8, epochs=1):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(10)])
    model.compile(keras.optimizers.SGD(0.1), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=[schedule.ErrorRate()])
    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    y = np.random.default_rng(1).integers(0, 10, 64)
    lr = schedule.PaperSchedule(0.1, [6], workdir, warmup_lr=0.01, warmup_until_error=until_error)
    record = RecordLearningRate()
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(8).repeat()
    model.fit(dataset, steps_per_epoch=steps, epochs=epochs, verbose=0, shuffle=False, callbacks=[lr, record])
    return record.lrs, lr


def test_warmup_holds_001_until_the_training_error_is_below_the_threshold(tmp_path):
    lrs, callback = lr_trace(until_error=100.0, workdir=tmp_path)  # below 100%: ends after the first step
    assert lrs == pytest.approx([0.01, 0.1, 0.1, 0.1, 0.1, 0.1, 0.01, 0.01])
    assert callback.warmup_ended_at == 1
    assert json.loads((tmp_path / schedule.WARMUP_FILE).read_text()) == {"ended_at_step": 1}
    lrs, callback = lr_trace(until_error=1e-6)  # never below: warm-up until the first boundary, then the schedule
    assert lrs == pytest.approx([0.01] * 6 + [0.01, 0.01]) and callback.warmup_ended_at is None


def test_warmup_state_survives_a_resume_but_not_an_unsaved_epoch(tmp_path):
    (tmp_path / schedule.WARMUP_FILE).write_text(json.dumps({"ended_at_step": 5}))
    callback = schedule.PaperSchedule(0.1, [100], tmp_path, warmup_lr=0.01)
    callback.set_model(keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)]))
    callback.model.compile(keras.optimizers.SGD(0.1), "mse")
    callback.model.optimizer.build(callback.model.trainable_variables)
    callback.model.optimizer.iterations.assign(6)  # resumed after the warm-up ended: no second warm-up
    callback.on_train_begin()
    assert not callback.warming and callback.learning_rate(6) == pytest.approx(0.1)
    callback.model.optimizer.iterations.assign(4)  # the epoch that ended it was never checkpointed: warm up again
    callback.on_train_begin()
    assert callback.warming and callback.learning_rate(4) == pytest.approx(0.01)


def test_error_metric_is_percent():
    metric = schedule.ErrorRate()
    metric.update_state(np.array([0, 1, 2, 3]), np.eye(4)[[0, 1, 0, 0]])
    assert float(metric.result()) == pytest.approx(50.0)


# --- configs ---------------------------------------------------------------------------------------------------


def test_presets_hold_the_papers_recipes():
    for name in configs.PRESETS:
        configs.validate(configs.get_config(name))
    he = configs.get_config("paper")
    assert (he.batch_size, he.train_steps, tuple(he.lr_boundaries), he.learning_rate, he.momentum) == (
        128, 64_000, (0.5, 0.75), 0.1, 0.9)
    assert (he.nesterov, he.weight_decay, he.normalization, he.width, he.valid_size) == (
        False, 1e-4, "per_pixel_mean", 16, 5_000)
    assert (he.warmup_lr, he.warmup_until_train_error, he.warmup_min_depth) == (0.01, 80.0, 110)
    assert (he.augment, he.crop_padding) == (True, 4)
    he.arch = "resnet110"
    assert train.uses_warmup(he) and not train.uses_warmup(configs.get_config("paper"))
    huang = configs.get_config("paper_densenet")
    assert (huang.batch_size, huang.train_steps, huang.nesterov, huang.normalization, huang.dropout_rate) == (
        64, 300 * 703, True, "per_channel", 0.0)
    assert not train.uses_warmup(huang)
    cpu, cpu_dn = configs.get_config("cpu"), configs.get_config("cpu_densenet")
    assert (cpu.dataset, cpu.source, cpu.width, cpu.train_steps) == ("fashion_mnist", "idx", 8, 6_000)
    assert (cpu_dn.growth_rate, cpu_dn.batch_size, cpu_dn.train_steps) == (6, 64, 12_000)
    assert cpu.augment and cpu.crop_padding == cpu_dn.crop_padding == 0  # flips only (CPU_SIZING)
    assert cpu.train_steps // cpu.steps_per_checkpoint >= 20  # points per degradation curve


def test_variant_names_match_the_papers_tables():
    def name(preset, **overrides):
        config = configs.get_config(preset)
        for key, value in overrides.items():
            config[key] = value
        return train.variant_name(config)

    assert name("paper") == "ResNet-20" and name("paper", arch="plain56") == "plain-56"
    assert name("cpu", arch="resnet56") == "ResNet-56 (w=8), flips only"
    assert name("cpu") == "ResNet-20 (w=8), flips only" and name("cpu", crop_padding=4) == "ResNet-20 (w=8)"
    assert name("paper", crop_padding=2) == "ResNet-20, pad-2 crops"
    assert name("paper", crop_padding=0, augment=False) == "ResNet-20, no augmentation"
    assert name("paper_densenet", arch="densenet_bc100") == "DenseNet-BC-100 (k=12)"
    assert name("paper_densenet", augment=False, dropout_rate=0.2) == "DenseNet-40 (k=12), no augmentation"
    assert name("cpu_densenet") == "DenseNet-40 (k=6), flips only"
    assert name("paper_densenet", arch="densenet100_k24") == "DenseNet-100 (k=24)"
    refs = pd.read_csv(train.PAPER_RESULTS)
    assert all(tables.VARIANT.match(v) for v in refs["variant"])
    assert train.paper_values()[("cifar10_depth", "ResNet-110", "test_error")] == "6.43"
    assert train.paper_values()[("cifar10_depth", "DenseNet-BC-100 (k=12)", "test_error")] == "4.51"


@pytest.mark.parametrize("preset,overrides,message", [
    ("cpu", dict(arch="resnet21"), r"6n \+ 2"),
    ("cpu", dict(arch="densenet40"), "configs.py:cpu_densenet"),
    ("paper_densenet", dict(arch="resnet20"), "configs.py:paper$"),
    ("cpu", dict(arch="vgg16"), "not a network of this study"),
    ("cpu", dict(dataset="cifar10"), "source='idx' cannot load cifar10"),
    ("cpu", dict(normalization="zca"), "normalization='zca'.*'per_pixel_mean', 'per_channel'"),
    ("cpu", dict(train_steps=6_050), "multiple of config.steps_per_checkpoint=200"),
    ("cpu", dict(lr_boundaries=(0.75, 0.5)), "increasing fractions"),
    ("cpu", dict(dropout_rate=0.2), "DenseNet setting"),
    ("cpu_densenet", dict(arch="densenet40_k12", growth_rate=6), "contradicts"),
    ("cpu", dict(batch_size=0), "batch_size=0 must be > 0"),
    ("cpu", dict(crop_padding=-1), "crop_padding=-1 must be >= 0"),
])
def test_bad_configs_are_one_clear_error(preset, overrides, message):
    config = configs.get_config(preset)
    for key, value in overrides.items():
        config[key] = value
    with pytest.raises(ConfigError, match=message):
        configs.validate(config)


@pytest.mark.parametrize("crop_padding", [0, 1])
def test_the_configs_crop_padding_reaches_the_training_batches(crop_padding):
    """Each training image is a crop of its image padded by config.crop_padding pixels, or of its mirror."""
    rng = np.random.default_rng(0)
    split = D.Split(rng.integers(0, 256, (16, 6, 6, 1), dtype=np.uint8), np.arange(16, dtype=np.int32))
    prepared = train.Prepared(split, split, split, D.Standardize.fit("per_pixel_mean", split.images))
    config = configs.get_config("smoke")
    config.batch_size, config.steps_per_checkpoint, config.crop_padding = 16, 1, crop_padding
    images, labels = next(iter(train.training_data(prepared, config, keras_epoch=0)))
    p = crop_padding
    padded = np.pad(np.asarray(prepared.standardize(split.images))[labels.numpy()],
                    [(0, 0), (p, p), (p, p), (0, 0)])
    for image, source in zip(images.numpy(), padded, strict=True):
        assert any(np.allclose(image, crop[:, ::-1] if flip else crop, atol=1e-6)
                   for dy in range(2 * p + 1) for dx in range(2 * p + 1) for flip in (False, True)
                   for crop in [source[dy:dy + 6, dx:dx + 6]])


def test_a_bad_config_stops_the_run_before_it_writes_anything(tmp_path):
    config = configs.get_config("cpu")
    config.arch, config.workdir, config.results_dir = "densenet40", str(tmp_path / "run"), str(tmp_path / "results")
    with pytest.raises(ConfigError, match="^config.arch='densenet40' is a DenseNet"):
        train.run(config)  # the command line prints this one line (common.cli) and exits with status 1
    assert not any(tmp_path.iterdir())
    with pytest.raises(KeyError):
        configs.get_config("cpu")["archh"] = "resnet20"  # unknown keys are refused (locked config)


# --- tables and figures -------------------------------------------------------------------------------------------


def fabricated(results_dir):
    """Rows and histories as two seeds of the cpu study and one lesion would leave them."""
    rows = []

    def add(experiment, variant, metric, value, seed=1, preset="cpu", steps=""):
        rows.append(dict(paper="depth_study", experiment=experiment, variant=variant, preset=preset, metric=metric,
                         value=value, seed=seed, steps=steps, date=f"2026-01-0{seed}"))

    for seed in (1, 2):
        for kind in ("resnet", "plain"):
            for depth in (20, 56):
                variant = f"{'ResNet' if kind == 'resnet' else 'plain'}-{depth} (w=8)"
                error = 6.0 + seed / 10 + (depth / 10 if kind == "plain" else -depth / 100)
                for metric, value in (("test_error", error), ("valid_error", error), ("train_error", error - 2),
                                      ("params", 1000 * depth)):
                    add("fashion_mnist_depth", variant, metric, value, seed, steps=3000 * seed)  # two budgets
                steps = np.arange(1, 31) * 100
                train_error = 50 / np.sqrt(steps / 100) + (depth / 10 if kind == "plain" else 0)
                history = pd.DataFrame({"epoch": range(1, 31), "step": steps, "error": train_error,
                                        "val_error": train_error + 1})
                folder = results_dir / "histories" / "depth_study" / "fashion_mnist_cpu"
                folder.mkdir(parents=True, exist_ok=True)
                history.to_csv(folder / f"{kind}-{depth}-w-8_seed{seed}.csv", index=False)
        add("fashion_mnist_depth", "DenseNet-40 (k=6)", "test_error", 5.0 + seed, seed, steps=6000)
    add("fashion_mnist_depth", "ResNet-20 (w=8), flips only", "test_error", 7.5, steps=6000)  # another recipe
    history.to_csv(folder / "resnet-20-w-8-flips-only_seed1.csv", index=False)
    for variant, base in (("ResNet-20 (w=8)", 7.0), ("plain-20 (w=8)", 9.0)):
        add("fashion_mnist_lesion", variant, "test_error (intact)", base)
        for block in range(1, 10):
            down = block in (4, 7)
            metric = f"test_error (block {block} deleted{', downsampling' if down else ''})"
            value = base + (20 if down else 1) if variant.startswith("ResNet") else 85
            add("fashion_mnist_lesion", variant, metric, value)
        for k in (1, 2):
            what = f"{k} random block{'s' if k > 1 else ''} deleted"
            add("fashion_mnist_lesion", variant, f"test_error ({what})", base + 2 * k)
            add("fashion_mnist_lesion", variant, f"test_error std ({what})", 0.5 * k)
    add("cifar10_depth", "ResNet-110", "test_error", 6.6, preset="paper")
    frame = pd.DataFrame(rows).reindex(columns=results.FIELDS)
    frame.to_csv(results_dir / "depth_study.csv", index=False)


def test_tables_and_figures_on_fabricated_rows(tmp_path):
    fabricated(tmp_path)
    text = report.build(tmp_path, root=None)
    lines = text.splitlines()
    row = next(line for line in lines if line.startswith("| ResNet-20 (w=8) |"))
    assert row == ("| ResNet-20 (w=8) | 20.0k | 3000, 6000 | 5.95 ± 0.07 (2) | 5.95 ± 0.07 (2) | 3.95 ± 0.07 (2) "
                   "| 8.75 (w=16) | ≤ 8 |")
    order = [line.split(" | ")[0][2:] for line in lines if line.startswith(("| ResNet", "| plain", "| DenseNet"))]
    assert order[:6] == ["ResNet-20 (w=8)", "ResNet-56 (w=8)", "plain-20 (w=8)", "plain-56 (w=8)",
                         "ResNet-20 (w=8), flips only", "DenseNet-40 (k=6)"]  # another recipe after the paper's
    assert "| DenseNet-40 (k=6) |  | 6000 | 6.50 ± 0.71 (2) |  |  | 5.24 (k=12) |  |" in lines
    assert "| ResNet-110 |  |  | 6.60 |  |  | 6.43 |  |" in lines
    assert "| ResNet-20 (w=8), flips only |  | 6000 | 7.50 |  |  | 8.75 (w=16, pad-4 crops) | ≤ 8 |" in lines
    assert "| ResNet-20 (w=8) | 7.00 | 8.00 (8.00 - 8.00) | block 4: 27.00, block 7: 27.00 |" in lines
    assert "| 2 | 11.00 ± 1.00 | 13.00 ± 1.00 |" in lines
    plots = sorted(p.name for p in (tmp_path / "plots").iterdir())
    assert plots == ["depth_study_fashion_mnist_cpu_degradation.png",
                     "depth_study_fashion_mnist_cpu_flips-only_degradation.png",
                     "depth_study_fashion_mnist_lesion_cpu.png"]  # a degradation figure per augmentation recipe
    assert all((tmp_path / "plots" / p).stat().st_size > 10_000 for p in plots)
    assert tables.FIGURES and set(tables.LAYOUTS) >= {"fashion_mnist_depth", "cifar10_depth", "fashion_mnist_lesion"}
