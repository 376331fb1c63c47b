"""The one run lifecycle: every entry point that trains or evaluates and writes result rows goes through `execute`.

    check the config → finished? print its result → lock the work directory → check the results CSV →
    claim the work directory → commit, seed, strategy → the paper's work (data → model → run.fit → evaluate) →
    record: history, result.json, rows

A paper says only what is its own, as an `Experiment`: where a run lives and `work(config, run) -> Outcome`, which
loads the data, builds the model, trains it with `run.fit` (resumable, checkpoints.py) and evaluates the model
selected on validation. The lifecycle does the rest, the same way for every paper:

- A work directory belongs to one config (`config.json`); another config is refused with a message, and so is a
  finished result made with other evaluation settings. A finished run prints its result and writes nothing.
- One process at a time works in a work directory (a lock); a second waits, then finds the run finished.
- The results CSV is checked before training (writable, its columns, its last line), not after it, and so is the
  working tree: rows for results/ come from committed code (or say -dirty when ALLOW_DIRTY=1).
- Recording is crash-safe: result.json is written with the rows first, then the rows are appended (rows already in
  the CSV are skipped), then result.json is marked recorded. The same command after a kill at any moment finishes
  the recording and never writes a row twice.
- A NaN or implausible loss raises TrainingDiverged: no row, no result.
"""

import fcntl
import json
import math
import os
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import ml_collections
import tensorflow as tf

from common import results, training
from common.cli import run_with_config
from common.config import ConfigError
from common.files import atomic_write_text

RESULT_FILE = "result.json"
CONFIG_FILE = "config.json"
LOCK_FILE = ".lock"
IGNORED_KEYS = ("verbose", "results_dir", "workdir")  # output places and verbosity: a run may change them


@dataclass
class Outcome:
    """What a paper's `work` returns: its rows and a one-line summary (printed now and whenever asked again).

    Each row holds experiment, variant, the paper's fields (rows.py), metric and value; the lifecycle adds paper,
    preset, seed, steps, wall_seconds and history from the run (a row may set its own) and where and when it ran.
    """

    rows: list[dict]
    summary: str
    epochs: float | str = ""  # passes over the training data behind the rows
    facts: dict = field(default_factory=dict)  # more to keep in result.json (best checkpoint, evaluation seconds, ...)


@dataclass(frozen=True)
class Experiment:
    """One entry point of a paper."""

    paper: str
    fields: tuple[str, ...]  # the paper's row fields, papers/<paper>/rows.py
    work: Callable[[ml_collections.ConfigDict, "Run"], Outcome]
    workdir: Callable[[ml_collections.ConfigDict], Path]
    validate: Callable[[ml_collections.ConfigDict], None] = lambda config: None
    # Where result.json lives; by default the work directory. Pointer Networks evaluates one trained model at
    # several n, each in its own folder under the work directory.
    result_dir: Callable[[ml_collections.ConfigDict], Path] | None = None
    eval_keys: tuple[str, ...] = ()  # keys that change only the evaluation: a trained run may be evaluated again
    ignored_keys: tuple[str, ...] = ()  # more keys that change neither training nor evaluation


class Run:
    """The lifecycle's side of a run, handed to the paper's `work`: where it lives, its strategy and `fit`."""

    def __init__(self, experiment: Experiment, config: ml_collections.ConfigDict, workdir: Path):
        self.experiment, self.config, self.workdir = experiment, config, workdir
        self.strategy: tf.distribute.Strategy = training.make_strategy(config.distribute)
        self.fitted: training.FitResult | None = None
        self.started = time.time()

    def fit(self, build_model, train_data, checkpoints: int, steps_per_checkpoint: int, validation_data=None,
            monitor: str = "val_loss", callbacks=(), max_loss: float = math.inf) -> training.FitResult:
        """training.fit in this run's work directory, with its strategy and verbosity (resumes by itself)."""
        self.fitted = training.fit(build_model, train_data, self.workdir, checkpoints, steps_per_checkpoint,
                                   validation_data=validation_data, strategy=self.strategy, monitor=monitor,
                                   verbose=self.config.verbose, callbacks=list(callbacks), max_loss=max_loss)
        return self.fitted

    def best_model(self):
        """The trained model with the weights selected on validation."""
        return self.fitted.best_model(self.workdir)

    def results_file(self, kind: str, suffix: str) -> Path:
        """Where this run keeps a file beside its rows, under results/<kind>/ (results_file below); the directory is
        made. Write it atomically (common/files.py): the tables read it."""
        path = results_file(self.experiment, self.config, self.workdir, kind, suffix)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path


def config_dict(config: ml_collections.ConfigDict) -> dict:
    return json.loads(config.to_json())


def changed_keys(saved: dict, current: dict, ignored) -> list[str]:
    return sorted(k for k in set(saved) | set(current) if saved.get(k) != current.get(k) and k not in ignored)


def read_json(path: Path, what_to_do: str) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise ConfigError(f"{path} cannot be read ({err}); {what_to_do}") from err


def check_workdir(experiment: Experiment, config: ml_collections.ConfigDict, workdir: Path) -> None:
    """Refuses a work directory that holds a run of another config (evaluation settings aside)."""
    path = workdir / CONFIG_FILE
    if not path.exists():
        return
    fix = f"delete {workdir} to start over, or pass --config.workdir=NEW_DIR"
    saved = read_json(path, fix)
    changed = changed_keys(saved, config_dict(config),
                           (*IGNORED_KEYS, *experiment.ignored_keys, *experiment.eval_keys))
    if changed:
        raise ConfigError(f"{workdir} holds a run with a different config (changed: {', '.join(changed)}); {fix}.")


def finished_result(experiment: Experiment, config: ml_collections.ConfigDict, result_dir: Path) -> dict | None:
    """The result of this run if it is finished, or None; refuses a result made with other evaluation settings."""
    path = result_dir / RESULT_FILE
    if not path.exists():
        return None
    result = read_json(path, f"delete it (rm {path}) to evaluate again")
    saved = result.get("config", {})  # a result of the old runner has only its evaluation keys, or none
    changed = [k for k in changed_keys(saved, config_dict(config), (*IGNORED_KEYS, *experiment.ignored_keys))
               if k in saved]
    if changed:
        raise ConfigError(f"{path} holds a result with other settings ("
                          + ", ".join(f"{k}={saved[k]!r}" for k in changed)
                          + f"); delete it (rm {path}) to run again with the new ones.")
    return result


def check_clean_tree(config: ml_collections.ConfigDict) -> None:
    """Rows in results/ name the commit whose code ran: refuse uncommitted changes there, before training, unless
    ALLOW_DIRTY=1 (the rows then say so: their commit ends in -dirty). Other results directories take any tree."""
    if config.results_dir or os.environ.get("ALLOW_DIRTY") == "1":
        return
    commit = results.git_commit()
    if commit.endswith("-dirty"):
        raise ConfigError(f"the working tree has uncommitted changes outside results/ (at {commit}), and this run "
                          f"would write rows to results/ that name a commit whose code did not run: commit them, "
                          f"or run with ALLOW_DIRTY=1 to write rows marked {commit}, or pass "
                          f"--config.results_dir=OTHER_DIR")


@contextmanager
def locked(workdir: Path):
    """Holds an exclusive lock on the work directory; a second process waits for the first, saying so."""
    workdir.mkdir(parents=True, exist_ok=True)
    with open(workdir / LOCK_FILE, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"{workdir} is in use by another process; waiting for it to finish.", flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def results_file(experiment: Experiment, config: ml_collections.ConfigDict, workdir: Path, kind: str,
                 suffix: str) -> Path:
    """results/<kind>/<paper>/<the work directory under runs/<paper>/><suffix>: a file kept with the run's rows,
    its learning curve (kind "histories", the file a row names) or another the paper keeps (Run.results_file)."""
    runs = Path("runs", experiment.paper)
    try:
        relative = workdir.resolve().relative_to(runs.resolve())
    except ValueError:
        relative = Path(workdir.name)
    return Path(config.results_dir or results.RESULTS_DIR) / kind / experiment.paper / f"{relative}{suffix}"


def complete_rows(experiment: Experiment, config, run: Run, outcome: Outcome, commit: str, history: str) -> list:
    fitted = run.fitted
    common = {"preset": config.preset, "seed": config.seed if "seed" in config else "",
              "steps": fitted.steps if fitted else "", "epochs": outcome.epochs, "history": history,
              "wall_seconds": f"{(fitted.wall_seconds if fitted else time.time() - run.started):.0f}",
              "commit": commit}
    return [{**common, **row} for row in outcome.rows]


def record(experiment: Experiment, config, result_dir: Path, result: dict) -> None:
    """Appends the result's rows (skipping those already there), then marks the result recorded."""
    results.append_rows(experiment.paper, result["rows"], config.results_dir or None, experiment.fields)
    atomic_write_text(result_dir / RESULT_FILE, json.dumps({**result, "recorded": True}, indent=1))


def execute(experiment: Experiment, config: ml_collections.ConfigDict) -> dict:
    """Runs one entry point through the lifecycle (module docstring); returns its result.json."""
    experiment.validate(config)
    workdir = Path(experiment.workdir(config))
    result_dir = Path(experiment.result_dir(config)) if experiment.result_dir else workdir
    check_workdir(experiment, config, workdir)
    result = finished_result(experiment, config, result_dir)
    if result is None or not result.get("recorded", True):
        check_clean_tree(config)
        columns = results.header(experiment.fields)
        results.check_results_file(results.results_path(experiment.paper, config.results_dir or None), columns)
        with locked(workdir):
            result = finished_result(experiment, config, result_dir)  # another process may have finished it
            if result is None:
                result = _run(experiment, config, workdir, result_dir)
            if not result.get("recorded", True):
                record(experiment, config, result_dir, result)
        result = {**result, "recorded": True}
    else:
        print(f"{result_dir} is finished (nothing rerun): {result.get('summary', 'see ' + RESULT_FILE)}", flush=True)
    return result


def _run(experiment: Experiment, config, workdir: Path, result_dir: Path) -> dict:
    if not (workdir / CONFIG_FILE).exists():
        atomic_write_text(workdir / CONFIG_FILE, json.dumps(config_dict(config), indent=1))
    commit = results.git_commit()  # the code that runs now
    training.set_seed(config.seed, config.deterministic)
    run = Run(experiment, config, workdir)
    outcome = experiment.work(config, run)
    history = ""
    if run.fitted is not None:
        path = run.results_file("histories", ".csv")
        atomic_write_text(path, run.fitted.history.to_csv(index=False))
        base = Path(config.results_dir or results.RESULTS_DIR)
        history = str(path.resolve().relative_to(base.resolve()))
    rows = complete_rows(experiment, config, run, outcome, commit, history)
    result = {"summary": outcome.summary, "rows": rows, "config": config_dict(config), "recorded": False,
              **outcome.facts}
    if run.fitted is not None:
        result.update(steps=run.fitted.steps, wall_seconds=run.fitted.wall_seconds,
                      best_checkpoint=run.fitted.best_checkpoint)
    result_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(result_dir / RESULT_FILE, json.dumps(result, indent=1))
    print(outcome.summary, flush=True)
    return result


def main(experiment: Experiment, default_config: str) -> None:
    """`python -m papers.<paper>.<entry> --config=...`: parses the command line and runs the lifecycle."""
    run_with_config(lambda config: execute(experiment, config), default_config)


def implausible_loss(classes: int, outputs: float = 1.0) -> float:
    """Twice the loss in nats of a uniform guess among `classes` for `outputs` outputs: fit's plausibility bound. A
    model that learned nothing yet sits near the guess; one that diverged to a finite loss sits far above it."""
    return 2 * outputs * math.log(classes)

