"""Pointer Networks' entry points: the smoke preset trains and evaluates every task end to end, writes its rows once,
re-evaluates a trained model at another n, the solver baselines write sane rows, and bad configs are refused."""

import json
import re
import subprocess
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest

from common import training
from common.config import ConfigError
from papers.pointer_networks import baselines, configs, data, train

EXPERIMENTS = {"convex_hull": "table1_convex_hull", "delaunay": "delaunay", "tsp": "table2_tsp"}
METRICS = {
    "convex_hull": {"accuracy", "area_coverage", "non_simple_share",
                    "accuracy (greedy)", "area_coverage (greedy)", "non_simple_share (greedy)"},
    "delaunay": {"accuracy", "triangle_coverage", "accuracy (greedy)", "triangle_coverage (greedy)"},
    "tsp": {"tour_length", "tour_length (greedy)", "invalid_share (unconstrained greedy)"},
}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("pointer_networks_data")


def smoke_config(tmp_path, data_dir, **overrides):
    config = configs.get_config("smoke")
    config.workdir = str(tmp_path / "run")
    config.results_dir = str(tmp_path / "results")
    config.data_dir = str(data_dir)
    for key, value in overrides.items():
        config[key] = value
    return config


def read_rows(tmp_path):
    return pd.read_csv(tmp_path / "results" / "pointer_networks.csv", keep_default_na=False,
                       dtype={"value": str, "paper_value": str})


@pytest.mark.parametrize("task", ["convex_hull", "delaunay", "tsp"])
def test_smoke_preset_trains_evaluates_and_writes_rows_once(task, tmp_path, data_dir):
    config = smoke_config(tmp_path, data_dir, task=task)
    result = train.run(config)
    rows = read_rows(tmp_path)
    assert set(rows["metric"]) == METRICS[task] and len(rows) == len(METRICS[task])
    assert set(rows["experiment"]) == {EXPERIMENTS[task]}
    assert set(rows["variant"]) == {"Ptr-Net n=5 -> 5"}
    assert set(rows["preset"]) == {"smoke"} and set(rows["seed"]) == {1} and set(rows["steps"]) == {8}
    for row in rows.itertuples():
        if row.value:  # empty only for a hull area coverage that FAILs (more than 1% non-simple outputs)
            assert float(row.value) == pytest.approx(result["metrics"][row.metric], abs=1e-4)
        else:
            assert row.metric.startswith("area_coverage") and np.isnan(result["metrics"][row.metric])
    paper = dict(zip(rows["metric"], rows["paper_value"], strict=True))
    if task == "tsp":  # Table 2 has a Ptr-Net cell trained and tested at n = 5
        assert paper["tour_length"] == "2.12" and paper["tour_length (greedy)"] == ""
        assert result["metrics"]["tour_length"] > 1.0  # five points in the unit square: a real, closed tour
        assert 0.0 <= result["metrics"]["invalid_share (unconstrained greedy)"] <= 1.0
    elif task == "delaunay":
        assert paper["accuracy"] == "0.807" and paper["triangle_coverage"] == "0.930"
    else:  # Table 1's Ptr-Net at n = 5 was trained on 5-50: no cell for 5 -> 5
        assert set(paper.values()) == {""}
    for value in result["metrics"].values():
        assert np.isnan(value) or 0.0 <= value < 10.0
    assert (tmp_path / "run" / "test_n5" / "result.json").exists()
    assert (tmp_path / "results" / "histories" / "pointer_networks" / f"{task}_smoke_ptr_net-n5-5_seed1.csv").exists()
    # Running the finished command again changes nothing.
    assert train.run(config) == json.loads(json.dumps(result))
    assert len(read_rows(tmp_path)) == len(rows)


def test_trained_model_is_evaluated_at_another_n_without_training(tmp_path, data_dir):
    config = smoke_config(tmp_path, data_dir, model="lstm", n_min=4, n_max=6, n_test=6, train_steps=4)
    train.run(config)  # mixed sizes: every batch is padded to n_max points with their lengths
    history = (tmp_path / "run" / training.HISTORY_FILE).read_text()
    train.run(smoke_config(tmp_path, data_dir, model="lstm", n_min=4, n_max=6, n_test=5, train_steps=4))
    assert (tmp_path / "run" / training.HISTORY_FILE).read_text() == history  # not trained again
    rows = read_rows(tmp_path)
    assert list(dict.fromkeys(rows["variant"])) == ["LSTM n=4-6 -> 6", "LSTM n=4-6 -> 5"]
    assert set(rows["steps"]) == {4}
    with pytest.raises(ConfigError, match="changed: units"):
        train.run(smoke_config(tmp_path, data_dir, model="lstm", n_min=4, n_max=6, n_test=4, train_steps=4,
                               units=8))
    with pytest.raises(ConfigError, match="beam_width=2"):  # a finished evaluation with another beam
        train.run(smoke_config(tmp_path, data_dir, model="lstm", n_min=4, n_max=6, n_test=5, train_steps=4,
                               beam_width=3))


def test_smoke_trains_under_mirrored_strategy(tmp_path, data_dir):
    """Two replicas (conftest makes two logical CPUs); the clipping sees the whole batch's gradient."""
    result = train.run(smoke_config(tmp_path, data_dir, task="tsp", distribute="mirrored", train_steps=4))
    assert np.isfinite(result["best_val_loss"]) and 1.0 < result["metrics"]["tour_length"] < 5.0


def test_mixed_sizes_are_padded_with_their_lengths(data_dir):
    config = configs.get_config("smoke")
    config.n_min, config.n_max, config.data_dir = 4, 6, str(data_dir)
    split = train.load_split(config, "train", 10, eos=6)
    np.testing.assert_array_equal(split.lengths, [4, 4, 4, 4, 5, 5, 5, 6, 6, 6])
    assert split.points.shape == (10, 6, 2) and (split.points[:4, 4:] == 0).all()
    for target, n in zip(split.targets, split.lengths, strict=True):
        real = target[target != -1]
        assert real[-1] == 6 and (real[:-1] < n).all()  # EOS is class n_max, after real points only


def test_training_batches_are_a_function_of_the_step(data_dir):
    config = configs.get_config("smoke")
    config.data_dir = str(data_dir)
    split = train.load_split(config, "train", 100, eos=5)
    full = list(train.training_batches(split, 16, seed=3, start_step=0, total_steps=14, mixed=False))
    resumed = list(train.training_batches(split, 16, seed=3, start_step=9, total_steps=14, mixed=False))
    for (x, y), (rx, ry) in zip(full[9:], resumed, strict=True):
        np.testing.assert_array_equal(x["points"], rx["points"])
        np.testing.assert_array_equal(y, ry)
    np.testing.assert_array_equal(full[0][0]["targets"], full[0][1])  # teacher forcing reads the targets
    first_pass = np.concatenate([np.asarray(x["points"]) for x, _ in full[:6]])  # 6 batches of 16 = one pass
    assert len(np.unique(first_pass[:, 0, 0])) == 96


def test_tsp_test_points_are_the_data_layers(tmp_path, data_dir):
    config = smoke_config(tmp_path, data_dir, task="tsp", n_test=6)
    points, targets = train.test_set(config)
    cached = data.load_or_generate("tsp", 6, config.test_instances, "test", config.data_seed, data_dir)
    assert targets is None
    np.testing.assert_array_equal(points, cached.points)


def test_baselines_write_sane_solver_rows_once(tmp_path, data_dir):
    config = smoke_config(tmp_path, data_dir, task="tsp", test_instances=200)
    result = baselines.run(config)
    rows = read_rows(tmp_path)
    assert list(rows["variant"]) == ["Optimal n=5", "A1 n=5", "A2 n=5", "A3 n=5"]
    assert set(rows["experiment"]) == {"table2_tsp"} and set(rows["metric"]) == {"tour_length"}
    length = dict(zip(rows["variant"], rows["value"].astype(float), strict=True))
    assert length["Optimal n=5"] == min(length.values())
    assert length["Optimal n=5"] <= length["A2 n=5"] <= length["A1 n=5"]
    assert 1.8 < length["Optimal n=5"] < 2.4  # the paper's 2.12, on 200 instances
    assert list(rows["paper_value"].astype(float)) == [2.12, 2.18, 2.12, 2.12]
    assert baselines.run(config) == json.loads(json.dumps(result))
    assert len(read_rows(tmp_path)) == 4
    with pytest.raises(ConfigError, match="TSP solvers"):
        baselines.run(smoke_config(tmp_path, data_dir, task="convex_hull", workdir=str(tmp_path / "other")))


def test_nan_loss_gives_no_result_row(tmp_path, data_dir):
    config = smoke_config(tmp_path, data_dir, learning_rate=float("inf"), clip_norm=0.0)
    with pytest.raises(training.TrainingDiverged):
        train.run(config)
    assert not (tmp_path / "results" / "pointer_networks.csv").exists()
    assert not (tmp_path / "run" / "test_n5" / "result.json").exists()


def test_bad_configs_are_refused_with_the_choices(tmp_path, data_dir):
    config = smoke_config(tmp_path, data_dir, model="transformer")
    with pytest.raises(ConfigError, match="config.model='transformer'.*'ptr_net', 'lstm', 'attention'"):
        train.run(config)
    with pytest.raises(ConfigError, match="fixed output dictionary"):
        configs.validate(smoke_config(tmp_path, data_dir, model="lstm", n_test=10))
    with pytest.raises(ConfigError, match="Held-Karp"):
        configs.validate(smoke_config(tmp_path, data_dir, task="tsp", n_min=5, n_max=25))
    with pytest.raises(ConfigError, match="n_min=7 is larger"):
        configs.validate(smoke_config(tmp_path, data_dir, n_min=7))
    with pytest.raises(KeyError, match="Did you mean"):  # an unknown key
        smoke_config(tmp_path, data_dir, modle="lstm")
    assert not (tmp_path / "run").exists()


def test_cpu_preset_overrides_to_n10():
    config = configs.get_config("cpu")
    assert (config.n_min, config.n_max, config.n_test, config.units, config.batch_size) == (5, 5, 5, 256, 128)
    assert (config.optimizer, config.learning_rate, config.clip_norm, config.init_scale) == ("sgd", 1.0, 2.0, 0.08)
    assert tuple(config.lr_boundaries) == (0.8,)  # our deviation; the paper preset's lr is constant
    config.n_min = config.n_max = config.n_test = 10
    configs.validate(config)
    assert train.variant_name(config) == "Ptr-Net n=10 -> 10"
    paper = configs.get_config("paper")
    assert (paper.train_instances, paper.units, paper.n_min, paper.n_max) == (1_000_000, 512, 5, 50)
    assert not paper.lr_boundaries
    configs.validate(paper)


def test_make_gives_only_cpu_delaunay_n10_its_shorter_budget():
    """The README's deviation: `make pointer_networks` trains cpu Delaunay n = 10 for 6,000 steps, the rest 25,000."""
    root = Path(__file__).resolve().parents[1]

    def steps_flags(preset, task, model, n):
        target = f"runs/pointer_networks/{preset}/{task}/{model}-n{n}-{n}/seed1/test_n{n}/result.json"
        dry_run = subprocess.run(["make", "-n", "-B", target], cwd=root, capture_output=True, text=True, check=True)
        return re.findall(r"--config\.train_steps=\d+", dry_run.stdout)

    for model in ("ptr_net", "lstm", "attention"):
        assert steps_flags("cpu", "delaunay", model, 10) == ["--config.train_steps=6000"]
    for preset, task, n in (("cpu", "delaunay", 5), ("cpu", "convex_hull", 10), ("cpu", "tsp", 10),
                            ("paper", "delaunay", 10)):
        assert steps_flags(preset, task, "ptr_net", n) == []


def test_report_lays_out_table2_by_test_n_with_solver_columns_and_table1_fail():
    from papers.pointer_networks import tables

    def summary(experiment, values):
        return pd.DataFrame([dict(experiment=experiment, preset="cpu", variant=v, metric=m, mean=x, std=s, n=k)
                             for v, m, x, s, k in values])

    refs = pd.DataFrame([dict(experiment=e, variant=v, metric=m, value=x, kind="paper")
                         for (e, v, m), x in train.paper_values().items()])
    tsp = summary("table2_tsp", [("Optimal n=5", "tour_length", 2.121, np.nan, 1),
                                 ("A1 n=5", "tour_length", 2.181, np.nan, 1),
                                 ("Ptr-Net n=5 -> 5", "tour_length", 2.125, 0.002, 2),
                                 ("LSTM n=5 -> 5", "tour_length", 2.607, np.nan, 1),
                                 ("Optimal n=10", "tour_length", 2.868, np.nan, 1)])
    lines = tables.table2_tsp(tsp, refs[refs["experiment"] == "table2_tsp"]).splitlines()
    assert lines[0].split(" | ")[6:8] == ["LSTM", "Ptr-Net"]  # a column per model that ran, the paper's order
    assert lines[2].startswith(  # the LSTM's row of the same n does not take the Ptr-Net's place
        "| 5 | 5 | 2.121 (2.12) | 2.181 (2.18) | - (2.12) | - (2.12) | 2.607 | 2.125 ± 0.002 (2) (2.12)")
    assert lines[3].startswith("| 10 | - | 2.868 (2.87) |")  # solvers alone where no model was tested
    assert len(lines) == 4
    hull = summary("table1_convex_hull", [("LSTM n=10 -> 10", "accuracy", 0.3, np.nan, 1),
                                          ("LSTM n=10 -> 10", "area_coverage", np.nan, np.nan, 0)])
    row = tables.table1_convex_hull(hull, refs[refs["experiment"] == "table1_convex_hull"]).splitlines()[2]
    assert row.startswith("| LSTM | 10 | 10 | 0.300 | 0.299 | FAIL | FAIL |")
    mixed = summary("table1_convex_hull", [(v, "accuracy", 0.9, np.nan, 1) for v in (
        "Ptr-Net n=10 -> 10", "Ptr-Net n=5 -> 5", "+Attention n=5 -> 5", "Ptr-Net n=5-50 -> 5", "LSTM n=5 -> 5")])
    lines = tables.table1_convex_hull(mixed, refs[refs["experiment"] == "table1_convex_hull"]).splitlines()[2:]
    assert [line.split(" | ")[:3] for line in lines] == [  # by test n, then the paper's order of methods
        ["| LSTM", "5", "5"], ["| +Attention", "5", "5"], ["| Ptr-Net", "5", "5"], ["| Ptr-Net", "5-50", "5"],
        ["| Ptr-Net", "10", "10"]]


def test_lr_drops_at_its_boundary_and_a_resumed_model_keeps_the_schedule(tmp_path, data_dir):
    config = smoke_config(tmp_path, data_dir, train_steps=10, lr_boundaries=(0.6,))
    model = train.build_model(config)
    path = tmp_path / "model.keras"
    model.save(path)
    for optimizer in (model.optimizer, keras.saving.load_model(path).optimizer):
        rates = []
        for step in (0, 5, 6):  # the update with 0-based index 6 is the first after 6 of 10 steps
            optimizer.iterations.assign(step)
            rates.append(float(optimizer.learning_rate))
        assert rates == pytest.approx([config.learning_rate, config.learning_rate, config.learning_rate / 10])
    assert train.learning_rate(smoke_config(tmp_path, data_dir, lr_boundaries=())) == config.learning_rate  # constant
    for bad in [(0.8, 0.5), (1.0,), (0.0,)]:
        with pytest.raises(ConfigError, match="increasing fractions of train_steps"):
            configs.validate(smoke_config(tmp_path, data_dir, lr_boundaries=bad))
