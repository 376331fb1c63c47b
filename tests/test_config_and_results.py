"""Configs reject what they cannot run; result rows survive concurrent writers; the report aggregates seeds."""

import multiprocessing as mp
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest

from common import report, results
from common.config import ConfigError
from papers.char_rnn import configs

ROOT = results.ROOT


def test_every_preset_builds_and_validates():
    for preset in ("smoke", "cpu", "paper"):
        config = configs.get_config(preset)
        configs.validate(config)
        assert config.preset == preset


def test_unknown_preset_names_the_choices():
    with pytest.raises(ConfigError, match="smoke, cpu, paper"):
        configs.get_config("gpu")


def test_bad_value_names_the_choices():
    config = configs.get_config("smoke")
    config.distribute = "tpu_pod"
    with pytest.raises(ConfigError, match="'default', 'mirrored'"):
        configs.validate(config)
    config = configs.get_config("smoke")
    config.batch_size = 0
    with pytest.raises(ConfigError, match="batch_size"):
        configs.validate(config)


def test_locked_config_rejects_unknown_keys():
    config = configs.get_config("smoke")
    with pytest.raises(AttributeError):
        config.batch_sise = 3


def _train_clis(*flag_sets):
    """Each set of flags given to the char-RNN entry point, the processes side by side (each imports TensorFlow)."""
    def run(flags):
        return subprocess.run([sys.executable, "-m", "papers.char_rnn.train", *flags], cwd=ROOT,
                              capture_output=True, text=True, timeout=180)

    with ThreadPoolExecutor(len(flag_sets)) as pool:
        return list(pool.map(run, flag_sets))


def test_command_line_rejects_unknown_key_and_bad_choice(tmp_path):
    """One line that says what to do, never a traceback (the old entry points printed one for a key or a preset)."""
    expected = ((["--config=papers/char_rnn/configs.py:smoke", "--config.batch_sise=3"],
                 "error: unknown config key 'batch_sise'"),
                (["--config=papers/char_rnn/configs.py:smok"],
                 "error: unknown preset 'smok'; choose one of: smoke, cpu, paper"),
                (["--config=papers/char_rnn/configs.py:smoke", "--config.seed=one"],
                 "error: flag --config.seed=one"),
                (["--config=papers/char_run/configs.py:smoke"], "error: --config names a file"))
    bad_dataset = ["--config=papers/char_rnn/configs.py:smoke", "--config.dataset=ptb",
                   f"--config.workdir={tmp_path}/run", f"--config.results_dir={tmp_path}"]
    *refused, bad = _train_clis(*(flags for flags, _ in expected), bad_dataset)
    for process, (_, message) in zip(refused, expected, strict=True):
        assert process.returncode == 1 and message in process.stderr and "Traceback" not in process.stderr
    assert bad.returncode != 0
    assert "config.dataset='ptb' is not valid; choose one of: 'tiny_shakespeare', 'bible'" in bad.stderr
    assert not (tmp_path / "char_rnn.csv").exists()


def _write_rows(args):
    directory, writer = args
    for i in range(20):
        results.append_rows("demo", [{"experiment": "e", "variant": f"w{writer}", "preset": "smoke",
                                      "metric": "m", "value": i, "seed": writer}], directory)


def test_concurrent_writers_lose_no_row(tmp_path):
    with mp.get_context("spawn").Pool(4) as pool:
        pool.map(_write_rows, [(str(tmp_path), w) for w in range(4)])
    frame = pd.read_csv(tmp_path / "demo.csv")
    assert len(frame) == 80
    assert sorted(frame.groupby("variant")["value"].apply(sorted).tolist()) == [list(range(20))] * 4
    assert list(frame.columns) == list(results.header())


def test_a_row_records_whether_onednn_kernels_were_asked_for(tmp_path, monkeypatch):
    """They change the kernels (and the last digits) of a CPU run: the row says which ran."""
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "1")
    results.append_rows("demo", [{"metric": "m", "value": 1}], tmp_path)
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS")
    results.append_rows("demo", [{"metric": "m", "value": 2}], tmp_path)
    versions = pd.read_csv(tmp_path / "demo.csv")["versions"].tolist()
    assert [v.split()[-1] for v in versions] == ["onednn=1", "onednn=unset"]


def test_unknown_result_field_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown result fields"):
        results.append_rows("demo", [{"metric": "m", "value": 1, "colour": "red"}], tmp_path)
    assert not (tmp_path / "demo.csv").exists()


def test_report_gives_mean_and_std_over_seeds_and_counts_a_rerun_once(tmp_path):
    from papers.char_rnn import rows

    config = configs.get_config("cpu")
    row = dict(experiment="bible", variant="LSTM 2x128", preset="cpu", metric="test_bpc", **rows.lstm_fields(config))
    append = lambda new: results.append_rows("char_rnn", new, tmp_path, rows.FIELDS)  # noqa: E731
    append([{**row, "value": 1.50, "seed": 1}, {**row, "value": 1.70, "seed": 2, "date": "2026-01-01T00:00:00Z"}])
    append([{**row, "value": 1.60, "seed": 2, "date": "2026-01-02T00:00:00Z"}])  # seed 2 measured again
    text = report.build(tmp_path, root=None)
    assert "| LSTM 2x128 | 1.550 ± 0.071 (2) | 1.6 |" in text  # mean, std of 1.50 and 1.60; the target
    assert (tmp_path / "README.md").read_text() == text
