"""Depth study entry points: the smoke preset trains and tests end to end on idx fixtures and writes its rows, warms
up as He et al. (the warm-up's end committed with the checkpoint), picks the recipe by the architecture; the lesion
runs on the trained nets; the tables and figures draw fabricated rows; bad configs are one clear error. The run
lifecycle (resume, a NaN loss, a finished run, a changed config) is tested once, in tests/test_lifecycle.py."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from absl import flags
from idx_fixtures import write_fixtures
from ml_collections import config_flags

from common import checkpoints, lifecycle, report, results
from common.config import ConfigError
from papers.depth_study import configs, data, lesion, rows, tables, train
from papers.depth_study.block_lesion import lesion_logits
from papers.depth_study.model import count_params
from papers.depth_study.resnet import resnet_param_count

ROOT = Path(__file__).resolve().parents[1]


def smoke_config(root, spec="smoke", **overrides):
    config = configs.get_config(spec)
    config.data_dir = str(root / "idx")
    config.results_dir = str(root / "results")
    config.valid_size = 32
    config.test_size = 0
    for key, value in overrides.items():
        config[key] = value
    return config


def read_rows(root):
    return pd.read_csv(root / "results" / "depth_study.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """ResNet-14 and plain-14 (width 4) trained by the smoke preset in <tmp>/runs/..., the default run places."""
    root = tmp_path_factory.mktemp("depth_study")
    write_fixtures(root / "idx")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        trained = {arch: lifecycle.execute(train.EXPERIMENT, smoke_config(root, f"smoke,{arch}"))
                   for arch in ("resnet14", "plain14")}
        yield root, trained


def test_smoke_trains_tests_and_writes_rows(study):
    root, trained = study
    result = trained["resnet14"]
    frame = read_rows(root)
    mine = frame[frame["net"] == "ResNet"]
    assert sorted(mine["metric"]) == ["params", "test_error", "train_error", "valid_error"]
    assert set(frame["experiment"]) == {"fashion_mnist_depth"} and set(frame["preset"]) == {"smoke"}
    assert set(frame["variant"]) == {"ResNet-14 (w=4), flips only", "plain-14 (w=4), flips only"}
    assert {f: set(mine[f]) for f in ("depth", "width", "growth_rate", "augmentation", "lesion")} == {
        "depth": {"14"}, "width": {"4"}, "growth_rate": {""}, "augmentation": {"flips"}, "lesion": {""}}
    assert set(mine["steps"]) == {"8"} and set(mine["seed"]) == {"1"} and set(mine["epochs"]) == {"1.00"}  # 8 x 16
    values = {m: float(v) for m, v in zip(mine["metric"], mine["value"], strict=True)}
    for metric in ("test_error", "valid_error", "train_error"):
        assert values[metric] == pytest.approx(result["metrics"][metric], abs=0.01)
        assert 0.0 <= values[metric] <= 100.0  # percent
    model = checkpoints.load_selected(root / "runs" / "depth_study" / "smoke" / "resnet14" / "seed1", "train it")
    assert values["params"] == count_params(model) == resnet_param_count(14, 4, 10, 1)
    assert set(mine["history"]) == {"histories/depth_study/smoke/resnet14/seed1.csv"}
    history = pd.read_csv(root / "results" / mine["history"].iloc[0])
    assert list(history["step"]) == [4, 8]
    assert {"error", "val_error", "loss", "val_loss", "learning_rate"} <= set(history.columns)
    assert values["valid_error"] == pytest.approx(history["val_error"].min(), abs=0.01)
    # / 10 at steps 4 and 6 of 8; the smoke preset warms up at 0.01 until the training error is below 80%
    ended = result["warmup_ended_at_step"]
    assert ended is None or 1 <= ended <= 4
    assert list(history["learning_rate"]) == pytest.approx([0.01 if ended in (None, 4) else 0.1, 0.001])
    assert len(frame) == 8


def test_lesion_end_to_end_on_the_trained_nets(study):
    root, trained = study
    results_by_net = {}
    for name, variant in (("resnet", "ResNet-14 (w=4), flips only"), ("plain", "plain-14 (w=4), flips only")):
        result = lifecycle.execute(lesion.EXPERIMENT, smoke_config(root, lesion_arch=f"{name}14"))
        results_by_net[name] = result
        assert result["variant"] == variant and result["downsampling_blocks"] == [3, 5]
        found = read_rows(root)
        found = found[(found["experiment"] == "fashion_mnist_lesion") & (found["variant"] == variant)]
        assert set(found["steps"]) == {"8"} and set(found["depth"]) == {"14"}  # the trained net's
        intact = found.loc[found["lesion"] == "intact", "value"]
        assert float(intact.item()) == pytest.approx(trained[f"{name}14"]["metrics"]["test_error"], abs=0.01)
        single = found[found["lesion"] == "one block"]
        assert list(single["deleted"]) == ["1", "2", "3", "4", "5", "6"]
        assert list(single["downsampling"]) == ["False", "False", "True", "False", "True", "False"]
        random = found[found["lesion"] == "random blocks"]
        assert sorted(zip(random["deleted"], random["metric"], strict=True)) == [
            ("1", "test_error"), ("1", "test_error_std"), ("2", "test_error"), ("2", "test_error_std")]
        assert all(0.0 <= float(v) <= 100.0 for v in found["value"])
        sets = result["random_sets"]
        assert all(len(s) == int(k) and not {2, 4} & set(s) for k, draws in sets.items() for s in draws)  # 0-based
    # Each net's lesion runs on its own, and the ResNet and its plain twin lose the same random sets.
    assert results_by_net["resnet"]["random_sets"] == results_by_net["plain"]["random_sets"]
    # The one compiled function, the kept blocks an input, computes block_lesion's network for every set.
    model = checkpoints.load_selected(root / "runs" / "depth_study" / "smoke" / "resnet14" / "seed1", "train it")
    x = np.random.default_rng(0).normal(size=(4, 28, 28, 1)).astype("float32")
    logits = lesion.lesion_function(model)
    for deleted in ([], [0], [2], [1, 4, 5]):
        keep = np.ones(len(model.blocks), dtype=bool)
        keep[deleted] = False
        np.testing.assert_allclose(logits(x, keep), np.asarray(lesion_logits(model, x, keep)), rtol=1e-5, atol=1e-5)


def test_lesion_without_the_trained_run_names_the_make_target(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = configs.get_config("cpu")
    config.results_dir = str(tmp_path / "results")
    assert config.lesion_arch == "resnet56"
    with pytest.raises(checkpoints.RunStateError, match="make runs/depth_study/cpu/resnet56/seed1/result.json"):
        lifecycle.execute(lesion.EXPERIMENT, config)
    config.lesion_arch = "plain56"  # the control is lesioned on its own
    with pytest.raises(checkpoints.RunStateError, match="make runs/depth_study/cpu/plain56/seed1/result.json"):
        lifecycle.execute(lesion.EXPERIMENT, config)
    config.lesion_arch = "densenet40"
    with pytest.raises(ConfigError, match="deletes blocks of a ResNet or of its plain twin"):
        lifecycle.execute(lesion.EXPERIMENT, config)
    config.lesion_arch = "resnet57"
    with pytest.raises(ConfigError, match=r"6n \+ 2"):
        lifecycle.execute(lesion.EXPERIMENT, config)
    dense = configs.get_config("cpu,densenet40")  # Huang et al.'s recipe trains no net to lesion
    with pytest.raises(ConfigError, match="trained with He et al.'s recipe; got config.recipe='densenet'"):
        lifecycle.execute(lesion.EXPERIMENT, dense)
    assert not any(tmp_path.iterdir())  # refused before anything is written


def test_densenet_smoke_trains_with_its_own_recipe(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_fixtures(tmp_path / "idx")
    config = smoke_config(tmp_path, "smoke,densenet_bc10", train_steps=4)
    assert (config.preset, config.recipe, config.nesterov, config.normalization, config.growth_rate) == (
        "smoke", "densenet", True, "per_channel", 4)
    result = lifecycle.execute(train.EXPERIMENT, config)
    frame = read_rows(tmp_path)
    assert set(frame["variant"]) == {"DenseNet-BC-10 (k=4), flips only"} and set(frame["preset"]) == {"smoke"}
    assert {f: set(frame[f]) for f in ("net", "growth_rate", "width", "dropout_rate")} == {
        "net": {"DenseNet-BC"}, "growth_rate": {"4"}, "width": {""}, "dropout_rate": {"0"}}
    assert 0.0 <= result["metrics"]["test_error"] <= 100.0 and result["warmup_ended_at_step"] is None
    assert (tmp_path / "runs" / "depth_study" / "smoke" / "densenet_bc10" / "seed1" / lifecycle.RESULT_FILE).exists()


# --- configs ---------------------------------------------------------------------------------------------------


def test_presets_hold_the_papers_recipes():
    assert list(configs.PRESETS) == ["smoke", "cpu", "paper"]
    for name in configs.PRESETS:
        configs.validate(configs.get_config(name))
        configs.validate(configs.get_config(f"{name},densenet40"))
    he = configs.get_config("paper")
    assert (he.batch_size, he.train_steps, tuple(he.lr_boundaries), he.learning_rate, he.momentum) == (
        128, 64_000, (0.5, 0.75), 0.1, 0.9)
    assert (he.nesterov, he.weight_decay, he.normalization, he.width, he.valid_size) == (
        False, 1e-4, "per_pixel_mean", 16, 5_000)
    assert (he.warmup_lr, he.warmup_until_train_error, he.warmup_min_depth) == (0.01, 80.0, 110)
    assert (he.augment, he.crop_padding, he.recipe) == (True, 4, "resnet")
    assert train.uses_warmup(configs.get_config("paper,resnet110")) and not train.uses_warmup(he)
    huang = configs.get_config("paper,densenet40")
    assert (huang.preset, huang.recipe, huang.batch_size, huang.train_steps, huang.steps_per_checkpoint) == (
        "paper", "densenet", 64, 300 * 703, 703)  # a checkpoint per epoch of 703 full batches
    assert (huang.nesterov, huang.normalization, huang.dropout_rate, huang.weight_decay) == (
        True, "per_channel", 0.0, 1e-4)
    assert not train.uses_warmup(huang)
    cpu, cpu_dn = configs.get_config("cpu"), configs.get_config("cpu,densenet40")
    assert (cpu.dataset, cpu.source, cpu.width, cpu.train_steps) == ("fashion_mnist", "idx", 8, 6_000)
    assert (cpu_dn.preset, cpu_dn.growth_rate, cpu_dn.batch_size, cpu_dn.train_steps, cpu_dn.steps_per_checkpoint) == (
        "cpu", 6, 64, 12_000, 400)
    assert (cpu_dn.dataset, cpu_dn.nesterov, cpu_dn.normalization) == ("fashion_mnist", True, "per_channel")
    assert cpu.augment and cpu.crop_padding == cpu_dn.crop_padding == 0  # flips only (CPU_SIZING)
    assert cpu.train_steps // cpu.steps_per_checkpoint >= 20  # points per degradation curve


def test_the_architecture_picks_its_papers_recipe():
    """`--config=configs.py:cpu,densenet40` reaches get_config through ml_collections; the arch alone on He et al.'s
    recipe is refused with the command that gives the DenseNet its own."""
    argv = ["train", f"--config={ROOT}/papers/depth_study/configs.py:cpu,densenet40", "--config.seed=2"]
    values = flags.FlagValues()
    config_flags.DEFINE_config_file("config", flag_values=values, sys_argv=argv)  # overrides are read from argv
    values(argv)
    assert values.config.to_dict() == {**configs.get_config("cpu,densenet40").to_dict(), "seed": 2}
    plain = configs.get_config("cpu,plain56")
    assert plain.to_dict() == {**configs.get_config("cpu").to_dict(), "arch": "plain56"}  # He et al.'s for both
    wrong = configs.get_config("cpu")
    wrong.arch = "densenet40"
    with pytest.raises(ConfigError, match="^config.arch='densenet40' is a DenseNet, .*configs.py:cpu,densenet40$"):
        configs.validate(wrong)
    with pytest.raises(ConfigError, match="unknown preset 'cpu_densenet'; choose one of: smoke, cpu, paper"):
        configs.get_config("cpu_densenet")


def test_variant_names_match_the_papers_tables():
    def name(spec, **overrides):
        config = configs.get_config(spec)
        for key, value in overrides.items():
            config[key] = value
        return rows.variant(rows.net_fields(config))

    assert name("paper") == "ResNet-20" and name("paper,plain56") == "plain-56"
    assert name("cpu,resnet56") == "ResNet-56 (w=8), flips only"
    assert name("cpu") == "ResNet-20 (w=8), flips only" and name("cpu", crop_padding=4) == "ResNet-20 (w=8)"
    assert name("paper", crop_padding=2) == "ResNet-20, pad-2 crops"
    assert name("paper", crop_padding=0, augment=False) == "ResNet-20, no augmentation"
    assert name("paper,densenet_bc100") == "DenseNet-BC-100 (k=12)"
    assert name("paper,densenet40", augment=False, dropout_rate=0.2) == "DenseNet-40 (k=12), no augmentation"
    assert name("cpu,densenet40") == "DenseNet-40 (k=6), flips only"
    assert name("paper,densenet100_k24") == "DenseNet-100 (k=24)"
    refs = report.read_references("depth_study")
    papers = refs[refs["kind"] == "paper"]
    assert [rows.variant(r) for _, r in papers.iterrows()] == list(papers["variant"])  # the fields name the same net
    assert list(report.select(refs, net="ResNet", depth="110")["value"]) == ["6.43"]
    assert list(report.select(refs, net="DenseNet-BC", depth="100", augmentation="pad-4 crops + flips")["value"]) == [
        "4.51"]


@pytest.mark.parametrize("spec,overrides,message", [
    ("cpu", dict(arch="resnet21"), r"6n \+ 2"),
    ("cpu", dict(arch="densenet40"), "configs.py:cpu,densenet40$"),
    ("paper,densenet40", dict(arch="resnet20"), "configs.py:paper,resnet20$"),
    ("cpu", dict(arch="vgg16"), "not a network of this study"),
    ("cpu", dict(recipe="vgg"), "recipe='vgg' is not valid"),
    ("cpu", dict(dataset="cifar10"), "source='idx' cannot load cifar10"),
    ("cpu", dict(normalization="zca"), "normalization='zca'.*'per_pixel_mean', 'per_channel'"),
    ("cpu", dict(train_steps=6_050), "multiple of config.steps_per_checkpoint=200"),
    ("cpu", dict(lr_boundaries=(0.75, 0.5)), "increasing fractions"),
    ("cpu", dict(dropout_rate=0.2), "DenseNet setting"),
    ("cpu,densenet40", dict(arch="densenet40_k12", growth_rate=6), "contradicts"),
    ("cpu", dict(batch_size=0), "batch_size=0 must be > 0"),
    ("cpu", dict(crop_padding=-1), "crop_padding=-1 must be >= 0"),
])
def test_bad_configs_are_one_clear_error(spec, overrides, message):
    config = configs.get_config(spec)
    for key, value in overrides.items():
        config[key] = value
    with pytest.raises(ConfigError, match=message):
        configs.validate(config)


@pytest.mark.parametrize("crop_padding", [0, 1])
def test_the_configs_crop_padding_reaches_the_training_batches(crop_padding):
    """Each training image is a crop of its image padded by config.crop_padding pixels, or of its mirror."""
    rng = np.random.default_rng(0)
    split = data.Split(rng.integers(0, 256, (16, 6, 6, 1), dtype=np.uint8), np.arange(16, dtype=np.int32))
    prepared = data.Prepared(split, split, split, data.Standardize.fit("per_pixel_mean", split.images))
    config = configs.get_config("smoke")
    config.batch_size, config.steps_per_checkpoint, config.crop_padding = 16, 1, crop_padding
    images, labels = next(iter(data.training_data(prepared, config, checkpoint=0)))
    p = crop_padding
    padded = np.pad(np.asarray(prepared.standardize(split.images))[labels.numpy()],
                    [(0, 0), (p, p), (p, p), (0, 0)])
    for image, source in zip(images.numpy(), padded, strict=True):
        assert any(np.allclose(image, crop[:, ::-1] if flip else crop, atol=1e-6)
                   for dy in range(2 * p + 1) for dx in range(2 * p + 1) for flip in (False, True)
                   for crop in [source[dy:dy + 6, dx:dx + 6]])


def test_a_densenet_on_he_et_als_recipe_stops_the_run_before_it_writes_anything(tmp_path):
    config = configs.get_config("cpu")
    config.arch, config.workdir, config.results_dir = "densenet40", str(tmp_path / "run"), str(tmp_path / "results")
    with pytest.raises(ConfigError, match="^config.arch='densenet40' is a DenseNet"):
        lifecycle.execute(train.EXPERIMENT, config)  # the command line prints this one line (common.cli), status 1
    assert not any(tmp_path.iterdir())
    with pytest.raises(KeyError):
        configs.get_config("cpu")["archh"] = "resnet20"  # unknown keys are refused (locked config)


# --- tables and figures -------------------------------------------------------------------------------------------


def fabricated(results_dir):
    """Rows and histories as two seeds of the cpu study at the superseded and the current recipe and one lesion
    would leave them."""
    records = []

    def net(kind, depth, augmentation="pad-4 crops + flips", size=8):
        dense = kind.startswith("DenseNet")
        return {"net": kind, "depth": str(depth), "width": "" if dense else str(size),
                "growth_rate": str(size) if dense else "", "augmentation": augmentation,
                "dropout_rate": "0" if dense else "", **rows.lesion_fields("")}

    def add(experiment, fields, metric, value, seed=1, preset="cpu", steps="", history=""):
        records.append({"paper": "depth_study", "experiment": experiment, "preset": preset,
                        "variant": rows.variant(fields), **fields, "metric": metric, "value": str(value),
                        "seed": str(seed), "steps": str(steps), "history": history, "date": f"2026-01-0{seed}"})

    folder = results_dir / "histories" / "depth_study"
    folder.mkdir(parents=True)
    for seed in (1, 2):
        for kind in ("ResNet", "plain"):
            for depth in (20, 56):
                error = 6.0 + seed / 10 + (depth / 10 if kind == "plain" else -depth / 100)
                train_error = 50 / np.sqrt(np.arange(1, 31)) + (depth / 10 if kind == "plain" else 0)
                history = pd.DataFrame({"checkpoint": range(1, 31), "step": np.arange(1, 31) * 100 * seed,
                                        "error": train_error, "val_error": train_error + 1})
                history.to_csv(folder / f"{kind}-{depth}_seed{seed}.csv", index=False)
                for metric, value in (("test_error", error), ("valid_error", error), ("train_error", error - 2),
                                      ("params", 1000 * depth)):
                    add("fashion_mnist_depth", net(kind, depth), metric, value, seed, steps=3000 * seed,  # 2 budgets
                        history=f"histories/depth_study/{kind}-{depth}_seed{seed}.csv")
        add("fashion_mnist_depth", net("DenseNet", 40, "flips", 6), "test_error", 5.0 + seed, seed, steps=6000)
    history.assign(step=np.arange(1, 31) * 200).to_csv(folder / "ResNet-20-flips_seed1.csv", index=False)
    add("fashion_mnist_depth", net("ResNet", 20, "flips"), "test_error", 7.5, steps=6000,  # the current recipe
        history="histories/depth_study/ResNet-20-flips_seed1.csv")
    for kind, base in (("ResNet", 7.0), ("plain", 9.0)):
        lesioned = net(kind, 20, "flips")
        add("fashion_mnist_lesion", {**lesioned, **rows.lesion_fields("intact")}, "test_error", base, steps=6000)
        for block in range(1, 10):
            down = block in (4, 7)
            value = base + (20 if down else 1) if kind == "ResNet" else 85
            add("fashion_mnist_lesion", {**lesioned, **rows.lesion_fields("one block", block, down)}, "test_error",
                value, steps=6000)
        for k in (1, 2):
            random = {**lesioned, **rows.lesion_fields("random blocks", k)}
            add("fashion_mnist_lesion", random, "test_error", base + 2 * k, steps=6000)
            add("fashion_mnist_lesion", random, "test_error_std", 0.5 * k, steps=6000)
    add("cifar10_depth", net("ResNet", 110, size=16), "test_error", 6.6, preset="paper")
    frame = pd.DataFrame(records).reindex(columns=results.header(rows.FIELDS)).fillna("")
    frame.to_csv(results_dir / "depth_study.csv", index=False)


def test_tables_and_figures_on_fabricated_rows(tmp_path):
    fabricated(tmp_path)
    text = report.build(tmp_path, root=None)
    current, superseded = text.split("**Superseded `cpu` recipe")[:2]
    lines, old = current.splitlines(), superseded.split("**fashion_mnist_lesion**")[0].splitlines()
    assert "| ResNet-20 (w=8) | 20.0k | 3000, 6000 | 5.95 ± 0.07 (2) | 5.95 ± 0.07 (2) | 3.95 ± 0.07 (2) " \
           "| 8.75 (w=16) | ≤ 8 |" in old
    assert [line.split(" | ")[0][2:] for line in old if line.startswith(("| ResNet", "| plain"))] == [
        "ResNet-20 (w=8)", "ResNet-56 (w=8)", "plain-20 (w=8)", "plain-56 (w=8)"]  # ResNets, plain nets, by depth
    assert [line.split(" | ")[0][2:] for line in lines if line.startswith(("| ResNet", "| DenseNet"))] == [
        "ResNet-20 (w=8), flips only", "DenseNet-40 (k=6), flips only"]  # the current recipe: its own table
    assert "| DenseNet-40 (k=6), flips only |  | 6000 | 6.50 ± 0.71 (2) |  |  | 5.24 (k=12, pad-4 crops + flips) |  |" \
        in lines
    assert "| ResNet-20 (w=8), flips only |  | 6000 | 7.50 |  |  | 8.75 (w=16, pad-4 crops + flips) | ≤ 8 |" in lines
    lines = text.splitlines()
    assert "| ResNet-110 |  |  | 6.60 |  |  | 6.43 |  |" in lines  # the paper's recipe at preset paper
    assert "| ResNet-20 (w=8), flips, 6000 steps | 7.00 | 8.00 (8.00 - 8.00) | block 4: 27.00, block 7: 27.00 |" \
        in lines
    assert "| 2 | 11.00 ± 1.00 | 13.00 ± 1.00 |" in lines
    plots = sorted(p.name for p in (tmp_path / "plots").iterdir())
    assert plots == ["depth_study_fashion_mnist_depth_cpu_flips_degradation.png",
                     "depth_study_fashion_mnist_depth_cpu_pad-4-crops-flips_degradation.png",
                     "depth_study_fashion_mnist_lesion_cpu.png"]  # a degradation figure per augmentation recipe
    assert all((tmp_path / "plots" / p).stat().st_size > 10_000 for p in plots)
    assert tables.FIGURES and set(tables.LAYOUTS) >= {"fashion_mnist_depth", "cifar10_depth", "fashion_mnist_lesion"}
