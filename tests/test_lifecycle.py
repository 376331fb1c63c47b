"""The one run lifecycle (common/lifecycle.py, checkpoints.py): tested once here, for every paper.

A tiny regression "paper" goes through the lifecycle as the papers do. Each fault below was found by fault injection
on the old per-paper runners; each test fails on them.
"""

import csv
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import keras
import ml_collections
import numpy as np
import pytest
import tensorflow as tf

from common import checkpoints, lifecycle, results, training
from common.config import ConfigError

STEPS, BATCH = 5, 8
ROOT = Path(__file__).resolve().parent.parent


def tiny_config(tmp_path, **overrides) -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict(dict(
        seed=7, deterministic=True, distribute="default", verbose=0, preset="smoke", checkpoints=4, lr=0.05,
        poison_at=-1, scale_loss=1.0, eval_scale=1.0, workdir=str(tmp_path / "run"), results_dir=str(tmp_path / "res"),
        sleep=0.0))
    c.update(overrides)
    c.lock()
    return c


def tiny_data(checkpoint, poison_at=-1, scale=1.0):
    """Batch s depends only on s, so the stream from any checkpoint on is well defined."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40 * STEPS * BATCH, 4)).astype("float32")
    y = scale * (x @ np.array([1.0, -2.0, 0.5, 3.0], dtype="float32"))[:, None]
    if poison_at >= 0:
        x[poison_at * BATCH :] = np.nan
    start = checkpoint * STEPS * BATCH
    return tf.data.Dataset.from_tensor_slices((x[start:], y[start:])).batch(BATCH)


def tiny_model(lr):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(lr, momentum=0.9, global_clipnorm=1.0), "mse")
    return model


class Slow(keras.callbacks.Callback):
    def __init__(self, seconds):
        super().__init__()
        self.seconds = seconds

    def on_train_batch_end(self, batch, logs=None):
        time.sleep(self.seconds)


def work(config, run: lifecycle.Run) -> lifecycle.Outcome:
    fitted = run.fit(lambda: tiny_model(config.lr),
                     lambda k: tiny_data(k, config.poison_at, config.scale_loss), config.checkpoints, STEPS,
                     validation_data=tiny_data(30).take(2), callbacks=[Slow(config.sleep)], max_loss=1e6)
    updates = int(fitted.model.optimizer.iterations)  # before the best weights (and their optimizer) come back
    model = run.best_model()
    x, y = next(iter(tiny_data(35)))
    mse = float(np.mean((model(x).numpy() - y.numpy()) ** 2)) * config.eval_scale
    row = dict(experiment="regression", variant="tiny", model="mlp")
    return lifecycle.Outcome(rows=[{**row, "metric": "test_mse", "value": f"{mse:.6f}"},
                                   {**row, "metric": "steps_seen", "value": updates}],
                             summary=f"test mse {mse:.6f}", epochs=f"{fitted.steps / 40:.2f}")


TINY = lifecycle.Experiment(paper="tiny", fields=("model",), work=work, workdir=lambda c: Path(c.workdir),
                            eval_keys=("eval_scale",), ignored_keys=("sleep",))


def rows(config) -> list[dict]:
    path = Path(config.results_dir) / "tiny.csv"
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def measured(config) -> list[tuple]:
    return [(r["metric"], r["value"], r["steps"]) for r in rows(config)]


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    """The rows of an uninterrupted run: what every interrupted run must end with."""
    config = tiny_config(tmp_path_factory.mktemp("straight"))
    lifecycle.execute(TINY, config)
    return measured(config)


def test_a_run_writes_its_rows_history_and_result_once(tmp_path, straight, capsys):
    config = tiny_config(tmp_path)
    result = lifecycle.execute(TINY, config)
    assert measured(config) == straight and result["recorded"]
    assert straight[1] == ("steps_seen", str(4 * STEPS), str(4 * STEPS))
    history = Path(config.results_dir) / rows(config)[0]["history"]
    assert list(csv.DictReader(open(history)))[-1]["checkpoint"] == "4"
    capsys.readouterr()
    lifecycle.execute(TINY, config)  # finished: prints its result, writes nothing
    assert "finished (nothing rerun): test mse" in capsys.readouterr().out
    assert measured(config) == straight
    assert not list(tmp_path.rglob(".tmp.*"))  # no temporary file left behind


def test_resume_equals_an_uninterrupted_run(tmp_path, straight):
    lifecycle.execute(TINY, tiny_config(tmp_path, checkpoints=2))  # a shorter run's workdir ...
    config = tiny_config(tmp_path)
    os.remove(Path(config.workdir) / lifecycle.RESULT_FILE)  # ... made unfinished, its config made the longer one's
    (Path(config.workdir) / lifecycle.CONFIG_FILE).write_text(json.dumps(lifecycle.config_dict(config)))
    os.remove(Path(config.results_dir) / "tiny.csv")
    lifecycle.execute(TINY, config)
    assert measured(config) == straight


def test_a_crash_between_the_files_of_a_checkpoint_trains_no_interval_twice(tmp_path, straight, monkeypatch):
    """The old runner replaced last.keras before state.json: a kill in between trained one interval twice."""
    config = tiny_config(tmp_path)
    real = checkpoints.atomic_write_text

    def crash_at_third_commit(path, text):
        if Path(path).name == checkpoints.STATE_FILE and json.loads(text)["checkpoints_done"] == 3:
            raise KeyboardInterrupt  # as a kill: the model file of checkpoint 3 is written, state.json is not
        return real(path, text)

    monkeypatch.setattr(checkpoints, "atomic_write_text", crash_at_third_commit)
    with pytest.raises(KeyboardInterrupt):
        lifecycle.execute(TINY, config)
    assert json.loads((Path(config.workdir) / "state.json").read_text())["checkpoints_done"] == 2
    monkeypatch.setattr(checkpoints, "atomic_write_text", real)
    lifecycle.execute(TINY, config)
    assert measured(config) == straight  # 20 updates, not 25, and the same weights


def test_kill_9_at_any_moment_gives_the_rows_of_an_uninterrupted_run(tmp_path, straight):
    config = tiny_config(tmp_path, sleep=0.02)
    command = [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(ROOT / 'tests')!r}); "
               f"sys.path.insert(0, {str(ROOT)!r}); import test_lifecycle as t; from common import lifecycle; "
               f"lifecycle.execute(t.TINY, t.tiny_config(__import__('pathlib').Path({str(tmp_path)!r}), sleep=0.02))"]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    for delay in (0.0, 1.5):  # kill after the first checkpoint, and again at once after the restart
        process = subprocess.Popen(command, env=env, cwd=ROOT)
        state = Path(config.workdir) / "state.json"
        deadline = time.time() + 120
        while time.time() < deadline and process.poll() is None:
            if state.exists() and json.loads(state.read_text() or "{}").get("checkpoints_done", 0) >= 1:
                break
            time.sleep(0.05)
        time.sleep(delay)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    lifecycle.execute(TINY, config)
    assert measured(config) == straight


def test_a_kill_between_result_and_rows_records_the_rows_once(tmp_path, straight, monkeypatch):
    config = tiny_config(tmp_path)
    monkeypatch.setattr(lifecycle, "record", lambda *a: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        lifecycle.execute(TINY, config)
    assert not (Path(config.results_dir) / "tiny.csv").exists()
    monkeypatch.undo()
    lifecycle.execute(TINY, config)
    lifecycle.execute(TINY, config)
    assert measured(config) == straight
    # A kill after the rows and before the result was marked recorded: the rows are not appended again.
    result_path = Path(config.workdir) / lifecycle.RESULT_FILE
    result_path.write_text(json.dumps({**json.loads(result_path.read_text()), "recorded": False}))
    lifecycle.execute(TINY, config)
    assert measured(config) == straight


def test_a_finished_run_of_another_config_is_refused_not_printed(tmp_path):
    lifecycle.execute(TINY, tiny_config(tmp_path))
    with pytest.raises(ConfigError, match="different config .changed: lr"):
        lifecycle.execute(TINY, tiny_config(tmp_path, lr=0.01))
    with pytest.raises(ConfigError, match="other settings .eval_scale=1.0"):
        lifecycle.execute(TINY, tiny_config(tmp_path, eval_scale=2.0))  # evaluation keys: its result.json says


def test_nan_and_implausible_losses_write_nothing(tmp_path):
    config = tiny_config(tmp_path, poison_at=2 * STEPS + 1)
    with pytest.raises(training.TrainingDiverged, match="NaN"):
        lifecycle.execute(TINY, config)
    state = json.loads((Path(config.workdir) / "state.json").read_text())
    assert state["checkpoints_done"] == 2  # the last good checkpoint is kept
    huge = tiny_config(tmp_path / "huge", scale_loss=1e6, lr=0.0)  # finite, far above a guess
    with pytest.raises(training.TrainingDiverged, match="above"):
        lifecycle.execute(TINY, huge)
    for c in (config, huge):
        assert not (Path(c.results_dir) / "tiny.csv").exists()
        assert not (Path(c.workdir) / lifecycle.RESULT_FILE).exists()


def test_the_results_csv_is_checked_before_training(tmp_path, monkeypatch):
    config = tiny_config(tmp_path)
    csv_path = Path(config.results_dir) / "tiny.csv"
    csv_path.parent.mkdir(parents=True)
    csv_path.write_text("paper,experiment,variant,preset,metric,value\n")  # another header
    with pytest.raises(results.ResultsError, match="has the columns"):
        lifecycle.execute(TINY, config)
    assert not (Path(config.workdir) / "state.json").exists()  # nothing trained
    csv_path.write_text(",".join(results.header(TINY.fields)) + "\ntiny,regression")  # a torn last line
    with pytest.raises(results.ResultsError, match="without a newline"):
        lifecycle.execute(TINY, config)
    csv_path.unlink()
    real_access = os.access  # root may write anywhere: a read-only folder as os.access reports it to a user
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != csv_path.parent and real_access(path, mode))
    with pytest.raises(results.ResultsError, match="not writable"):
        lifecycle.execute(TINY, config)
    assert not (Path(config.workdir) / "state.json").exists()


def test_unreadable_run_files_give_one_message_naming_the_file(tmp_path):
    config = tiny_config(tmp_path, checkpoints=1)
    lifecycle.execute(TINY, config)
    workdir = Path(config.workdir)
    os.remove(workdir / lifecycle.RESULT_FILE)
    state = json.loads((workdir / "state.json").read_text())
    (workdir / state["model"]).write_bytes(b"not a zip")
    with pytest.raises(checkpoints.RunStateError, match=f"{state['model']} cannot be loaded.*delete"):
        lifecycle.execute(TINY, config)
    (workdir / "state.json").write_text("{")
    with pytest.raises(checkpoints.RunStateError, match="state.json cannot be read"):
        lifecycle.execute(TINY, config)
    (workdir / "config.json").write_text("{")
    with pytest.raises(ConfigError, match="config.json cannot be read"):
        lifecycle.execute(TINY, config)


def test_a_second_process_waits_for_the_lock():
    events = []

    def hold(workdir):
        with lifecycle.locked(workdir):
            events.append("first in")
            time.sleep(0.5)
            events.append("first out")

    import tempfile

    workdir = Path(tempfile.mkdtemp())
    thread = threading.Thread(target=hold, args=(workdir,))
    thread.start()
    time.sleep(0.1)
    with lifecycle.locked(workdir):
        events.append("second in")
    thread.join()
    assert events == ["first in", "first out", "second in"]


def test_a_run_of_the_old_runner_resumes(tmp_path, straight):
    """A work directory of the old runner (last.keras, best.weights.h5, state.json format 1) resumes."""
    config = tiny_config(tmp_path)
    workdir = Path(config.workdir)
    lifecycle.execute(TINY, tiny_config(tmp_path, checkpoints=2))
    state = json.loads((workdir / "state.json").read_text())
    os.replace(workdir / state["model"], workdir / checkpoints.LEGACY_MODEL)
    os.replace(workdir / state["best"]["weights"], workdir / checkpoints.LEGACY_BEST)
    history = [{("epoch" if k == "checkpoint" else k): v for k, v in r.items()} for r in state["history"]]
    import pandas as pd

    pd.DataFrame(history).to_csv(workdir / "history.csv", index=False)
    (workdir / "state.json").write_text(json.dumps({"epochs_done": 2, "best_value": state["best"]["value"],
                                                    "best_epoch": state["best"]["checkpoint"],
                                                    "wall_seconds": state["wall_seconds"]}))
    os.remove(workdir / lifecycle.RESULT_FILE)
    (workdir / lifecycle.CONFIG_FILE).write_text(json.dumps(lifecycle.config_dict(config)))
    os.remove(Path(config.results_dir) / "tiny.csv")
    lifecycle.execute(TINY, config)
    assert measured(config) == straight


def test_rows_for_results_come_from_committed_code(tmp_path, monkeypatch):
    """Seven commits of the old rows end in -dirty: a run that would write to results/ from an uncommitted tree is
    refused before it trains, unless told to (ALLOW_DIRTY=1), and its rows then say -dirty."""
    monkeypatch.setattr(results, "git_commit", lambda: "abc1234-dirty")
    monkeypatch.delenv("ALLOW_DIRTY", raising=False)
    config = tiny_config(tmp_path, results_dir="")
    with pytest.raises(ConfigError, match="uncommitted changes.*ALLOW_DIRTY=1"):
        lifecycle.execute(TINY, config)
    assert not Path(config.workdir).exists()
    lifecycle.execute(TINY, tiny_config(tmp_path))  # another results directory: any tree
    assert {r["commit"] for r in rows(tiny_config(tmp_path))} == {"abc1234-dirty"}
