"""Pointer Networks' entry points: the smoke preset trains and evaluates every task end to end, writes its rows once,
re-evaluates a trained model at another n, the solver baselines write sane rows, and bad configs are refused."""

import re
import subprocess
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest

from common import checkpoints, lifecycle
from common.config import ConfigError
from papers.pointer_networks import baselines, configs, data, rows, train

EXPERIMENTS = {"convex_hull": "table1_convex_hull", "delaunay": "delaunay", "tsp": "table2_tsp"}
METRICS = {  # (metric, decoding, constrained): hull and Delaunay unconstrained (the paper's protocol) and constrained
    "convex_hull": {(m, d, c) for m in ("accuracy", "area_coverage", "non_simple_share")
                    for d in ("beam", "greedy") for c in ("False", "True")},
    "delaunay": {(m, d, c) for m in ("accuracy", "triangle_coverage", "triangle_precision")
                 for d in ("beam", "greedy") for c in ("False", "True")},
    "tsp": {("tour_length", "beam", "True"), ("tour_length", "greedy", "True"), ("invalid_share", "greedy", "False")},
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
    return pd.read_csv(tmp_path / "results" / "pointer_networks.csv", keep_default_na=False, dtype=str)


def run_train(config):
    return lifecycle.execute(train.EXPERIMENT, config)


@pytest.mark.parametrize("task", ["convex_hull", "delaunay", "tsp"])
def test_smoke_preset_trains_evaluates_and_writes_rows(task, tmp_path, data_dir):
    """The lifecycle's behaviour (resume, NaN, finished runs) is tested once, in tests/test_lifecycle.py."""
    config = smoke_config(tmp_path, data_dir, task=task)
    result = run_train(config)
    rows = read_rows(tmp_path)
    assert set(zip(rows["metric"], rows["decoding"], rows["constrained"], strict=True)) == METRICS[task]
    assert len(rows) == len(METRICS[task]) and set(rows["experiment"]) == {EXPERIMENTS[task]}
    assert set(rows["variant"]) == {"Ptr-Net n=5 -> 5"} and set(rows["method"]) == {"Ptr-Net"}
    assert set(rows["beam_width"]) == {"2", ""} and set(rows["n_test"]) == {"5"}
    assert set(rows["preset"]) == {"smoke"} and set(rows["seed"]) == {"1"} and set(rows["steps"]) == {"8"}
    for row in rows.itertuples():
        if row.value:  # empty only for a hull area coverage that FAILs (more than 1% non-simple outputs)
            assert 0.0 <= float(row.value) < 10.0
        else:
            assert row.metric == "area_coverage"
    if task == "tsp":
        tour = rows[(rows.metric == "tour_length") & (rows.decoding == "beam")]["value"].astype(float).item()
        assert tour > 1.0  # five points in the unit square: a real, closed tour
    assert (tmp_path / "run" / "test_n5" / "result.json").exists() and result["recorded"]
    assert (tmp_path / "results" / rows["history"].iloc[0]).exists()


def test_trained_model_is_evaluated_at_another_n_without_training(tmp_path, data_dir):
    config = smoke_config(tmp_path, data_dir, model="lstm", n_min=4, n_max=6, n_test=6, train_steps=4)
    run_train(config)  # mixed sizes: every batch is padded to n_max points with their lengths
    state = (tmp_path / "run" / checkpoints.STATE_FILE).read_text()
    run_train(smoke_config(tmp_path, data_dir, model="lstm", n_min=4, n_max=6, n_test=5, train_steps=4))
    assert (tmp_path / "run" / checkpoints.STATE_FILE).read_text() == state  # not trained again
    rows = read_rows(tmp_path)
    assert list(dict.fromkeys(rows["variant"])) == ["LSTM n=4-6 -> 6", "LSTM n=4-6 -> 5"]
    assert set(rows["steps"]) == {"4"}
    with pytest.raises(ConfigError, match="changed: units"):
        run_train(smoke_config(tmp_path, data_dir, model="lstm", n_min=4, n_max=6, n_test=4, train_steps=4,
                               units=8))
    with pytest.raises(ConfigError, match="beam_width=2"):  # a finished evaluation with another beam
        run_train(smoke_config(tmp_path, data_dir, model="lstm", n_min=4, n_max=6, n_test=5, train_steps=4,
                               beam_width=3))


def test_smoke_trains_under_mirrored_strategy(tmp_path, data_dir):
    """Two replicas (conftest makes two logical CPUs); the clipping sees the whole batch's gradient."""
    result = run_train(smoke_config(tmp_path, data_dir, task="tsp", distribute="mirrored", train_steps=4))
    assert np.isfinite(result["best_val_loss"]) and 1.0 < result["metrics"]["tour_length (beam)"] < 5.0


def test_mixed_sizes_are_padded_with_their_lengths(data_dir):
    config = configs.get_config("smoke")
    config.n_min, config.n_max, config.data_dir = 4, 6, str(data_dir)
    split = data.load_split(config, "train", 10, eos=6)
    np.testing.assert_array_equal(split.lengths, [4, 4, 4, 4, 5, 5, 5, 6, 6, 6])
    assert split.points.shape == (10, 6, 2) and (split.points[:4, 4:] == 0).all()
    for target, n in zip(split.targets, split.lengths, strict=True):
        real = target[target != -1]
        assert real[-1] == 6 and (real[:-1] < n).all()  # EOS is class n_max, after real points only


def test_training_batches_are_a_function_of_the_step(data_dir):
    config = configs.get_config("smoke")
    config.data_dir = str(data_dir)
    split = data.load_split(config, "train", 100, eos=5)
    full = list(data.training_batches(split, 16, seed=3, start_step=0, total_steps=14, mixed=False))
    resumed = list(data.training_batches(split, 16, seed=3, start_step=9, total_steps=14, mixed=False))
    for (x, y), (rx, ry) in zip(full[9:], resumed, strict=True):
        np.testing.assert_array_equal(x["points"], rx["points"])
        np.testing.assert_array_equal(y, ry)
    np.testing.assert_array_equal(full[0][0]["targets"], full[0][1])  # teacher forcing reads the targets
    first_pass = np.concatenate([np.asarray(x["points"]) for x, _ in full[:6]])  # 6 batches of 16 = one pass
    assert len(np.unique(first_pass[:, 0, 0])) == 96


def test_tsp_test_points_are_the_data_layers(tmp_path, data_dir):
    config = smoke_config(tmp_path, data_dir, task="tsp", n_test=6)
    points, targets = data.test_set(config)
    cached = data.load_or_generate("tsp", 6, config.test_instances, "test", config.data_seed, data_dir)
    assert targets is None
    np.testing.assert_array_equal(points, cached.points)


def test_baselines_write_sane_solver_rows(tmp_path, data_dir):
    config = smoke_config(tmp_path, data_dir, task="tsp", test_instances=200)
    lifecycle.execute(baselines.EXPERIMENT, config)
    rows = read_rows(tmp_path)
    assert list(rows["variant"]) == ["Optimal n=5", "A1 n=5", "A2 n=5", "A3 n=5"]
    assert list(rows["method"]) == ["Optimal", "A1", "A2", "A3"] and set(rows["decoding"]) == {""}
    assert set(rows["experiment"]) == {"table2_tsp"} and set(rows["metric"]) == {"tour_length"}
    length = dict(zip(rows["method"], rows["value"].astype(float), strict=True))
    assert length["Optimal"] == min(length.values())
    assert length["Optimal"] <= length["A2"] <= length["A1"]
    assert 1.8 < length["Optimal"] < 2.4  # the paper's 2.12, on 200 instances
    with pytest.raises(ConfigError, match="TSP solvers"):
        lifecycle.execute(baselines.EXPERIMENT,
                          smoke_config(tmp_path, data_dir, task="convex_hull", workdir=str(tmp_path / "other")))


def test_bad_configs_are_refused_with_the_choices(tmp_path, data_dir):
    config = smoke_config(tmp_path, data_dir, model="transformer")
    with pytest.raises(ConfigError, match="config.model='transformer'.*'ptr_net', 'lstm', 'attention'"):
        run_train(config)
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
    assert rows.variant(rows.model_fields(config, "beam")) == "Ptr-Net n=10 -> 10"
    paper = configs.get_config("paper")
    assert (paper.train_instances, paper.units, paper.n_min, paper.n_max) == (1_000_000, 512, 5, 50)
    assert not paper.lr_boundaries
    configs.validate(paper)


def test_make_gives_each_cpu_task_its_budget_and_all_three_models_the_same():
    """The README's deviation: `make pointer_networks` trains cpu hull n = 10 and Delaunay n = 5 for 50,000 steps,
    Delaunay n = 10 for 10,000, the rest the preset's 25,000; the paper preset keeps its own."""
    root = Path(__file__).resolve().parents[1]

    def steps_flags(preset, task, model, n):
        target = f"runs/pointer_networks/{preset}/{task}/{model}-n{n}-{n}/seed1/test_n{n}/result.json"
        dry_run = subprocess.run(["make", "-n", "-B", target], cwd=root, capture_output=True, text=True, check=True)
        return re.findall(r"--config\.train_steps=\d+", dry_run.stdout)

    for model in ("ptr_net", "lstm", "attention"):
        assert steps_flags("cpu", "delaunay", model, 10) == ["--config.train_steps=10000"]
        assert steps_flags("cpu", "delaunay", model, 5) == ["--config.train_steps=50000"]
        assert steps_flags("cpu", "convex_hull", model, 10) == ["--config.train_steps=50000"]
        for task, n in (("convex_hull", 5), ("tsp", 5), ("tsp", 10)):
            assert steps_flags("cpu", task, model, n) == []
    assert steps_flags("paper", "delaunay", "ptr_net", 10) == []


def test_report_lays_out_table2_by_test_n_with_solver_columns_and_table1_fail():
    from common import report
    from papers.pointer_networks import rows, tables

    def model(method, n, task="tsp", n_max=None, decoding="beam", constrained="True"):
        return {"task": task, "method": method, "n_min": str(n), "n_max": str(n_max or n), "n_test": str(n),
                "decoding": decoding, "beam_width": "4" if decoding == "beam" else "", "constrained": constrained}

    def summary(experiment, values):
        return pd.DataFrame([dict(experiment=experiment, preset="cpu", variant=rows.variant(f), **f, metric=m, mean=x,
                                  std=s, n=k, steps="") for f, m, x, s, k in values])

    refs = report.read_references("pointer_networks")  # the paper's numbers and our targets
    tsp = summary("table2_tsp", [(rows.solver_fields("Optimal", 5), "tour_length", 2.121, np.nan, 1),
                                 (rows.solver_fields("A1", 5), "tour_length", 2.181, np.nan, 1),
                                 (model("Ptr-Net", 5), "tour_length", 2.125, 0.002, 2),
                                 (model("Ptr-Net", 5, decoding="greedy"), "tour_length", 2.5, np.nan, 1),
                                 (model("LSTM", 5), "tour_length", 2.607, np.nan, 1),
                                 (rows.solver_fields("Optimal", 10), "tour_length", 2.868, np.nan, 1)])
    lines = tables.table2_tsp(tsp, refs).splitlines()
    assert lines[0].split(" | ")[6:8] == ["LSTM", "Ptr-Net"]  # a column per model that ran, the paper's order
    assert lines[2] == (  # the LSTM's row of the same n does not take the Ptr-Net's place; beam search's lengths
        "| 5 | 5 | 2.121 (2.12) | 2.181 (2.18) | - (2.12) | - (2.12) | 2.607 | 2.125 ± 0.002 (2) (2.12) | 2.13 |")
    assert lines[3].startswith("| 10 | - | 2.868 (2.87) |")  # solvers alone where no model was tested
    assert len(lines) == 4
    def cells(table):  # {column title: cell} of a one-row table
        head, _, row = ([c.strip() for c in line.strip()[1:-1].split("|")] for line in table.splitlines())
        return dict(zip(head, row, strict=True))

    lstm10 = model("LSTM", 10, "convex_hull")
    free = {**lstm10, "constrained": "False"}
    hull = summary("table1_convex_hull", [(free, "accuracy", 0.3, np.nan, 1), (lstm10, "accuracy", 0.59, np.nan, 1),
                                          (free, "area_coverage", np.nan, np.nan, 0),
                                          (lstm10, "area_coverage", 0.97, np.nan, 1)])
    table = tables.table1_convex_hull(hull, refs)
    assert table.splitlines()[2].startswith("| LSTM | 10 | 10 | 0.300 | 0.299 |  | FAIL | FAIL |")  # the paper's
    found = cells(table)  # protocol (unconstrained) beside the paper's values, no target; FAILs
    assert found["Accuracy, constrained (ours)"] == "0.590" and found["Area, constrained (ours)"] == "0.970"
    assert not any(k.startswith(("Accuracy, constrained (", "Area, constrained (")) and not k.endswith("(ours)")
                   for k in found)  # the constrained searches' columns: ours only
    before = summary("delaunay", [(model("Ptr-Net", 5, "delaunay"), m, x, np.nan, 1)  # constrained rows only
                                  for m, x in (("accuracy", 0.735), ("triangle_coverage", 0.893))])
    found = cells(tables.delaunay(before, refs))
    assert found["Accuracy (ours)"] == found["Triangle coverage (ours)"] == ""  # the headline waits for re-runs
    assert found["Accuracy (paper)"] == "0.807" and found["Triangle coverage (paper)"] == "0.930"  # beside recall
    assert found["Accuracy, constrained (ours)"] == "0.735"
    assert found["Triangle coverage, constrained (ours)"] == "0.893"
    assert "Triangle precision (paper)" not in found and found["Triangle precision, constrained (ours)"] == ""
    mixed = summary("table1_convex_hull", [(model(m, n, "convex_hull", n_max, constrained="False"), "accuracy", 0.9,
                                            np.nan, 1)
                                           for m, n, n_max in (("Ptr-Net", 10, None), ("Ptr-Net", 5, None),
                                                               ("+Attention", 5, None), ("Ptr-Net", 5, 50),
                                                               ("LSTM", 5, None))])
    lines = tables.table1_convex_hull(mixed, refs).splitlines()[2:]
    assert [line.split(" | ")[:3] for line in lines] == [  # by test n, then the paper's order of methods
        ["| LSTM", "5", "5"], ["| +Attention", "5", "5"], ["| Ptr-Net", "5", "5"], ["| Ptr-Net", "5-50", "5"],
        ["| Ptr-Net", "10", "10"]]
    assert lines[3].split(" | ")[3:6] == ["0.900", "0.920", ""]  # the paper's 5-50 -> 5 model beside ours


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
