"""A run's checkpoints as one unit: `state.json` is the commit point.

A work directory holds

    state.json                       the commit point: checkpoints done, the files below that belong to them, the
                                     best validation value, wall seconds, the history rows, callbacks' state
    checkpoints/model-<k>.keras      model and optimizer after checkpoint k (for resume)
    checkpoints/best-<j>.weights.h5  the weights of the checkpoint with the best monitored value
    history.csv                      a readable copy of state.json's history (written after it, never read back)

Checkpoint k writes its new files under new names, then replaces state.json (atomically) to name them, and only then
deletes the files of checkpoint k - 1. A kill at any moment leaves a state.json whose files exist and belong to it;
files that no state.json names are leftovers of a checkpoint that never committed, and resume deletes them. Resume
also checks the optimizer's step count against the state, so a model can never be one interval ahead of its state.

A checkpoint interval (`steps_per_checkpoint` training steps, what Keras calls an epoch) is not a pass over the data:
an epoch, in this suite, is a pass over the training data.
"""

import json
import math
from pathlib import Path

import keras
import pandas as pd

from common.files import atomic_write, atomic_write_text

STATE_FILE = "state.json"
HISTORY_FILE = "history.csv"
CHECKPOINT_DIR = "checkpoints"
FORMAT = 2
# The runner before the checkpoint unit: last.keras and best.weights.h5, overwritten in place (state format 1).
LEGACY_MODEL, LEGACY_BEST = "last.keras", "best.weights.h5"


class RunStateError(RuntimeError):
    """A work directory whose files cannot be read or do not agree; the message names the file and what to do."""


def _start_over(workdir: Path) -> str:
    return f"delete {workdir} to start the run over (or pass --config.workdir=NEW_DIR)"


def new_state() -> dict:
    return {"format": FORMAT, "checkpoints_done": 0, "steps_done": 0, "model": None, "best": None,
            "wall_seconds": 0.0, "history": [], "callbacks": {}}


def read_state(workdir: Path) -> dict | None:
    """The committed state of `workdir`, or None before its first checkpoint; a legacy state is converted."""
    workdir = Path(workdir)
    path = workdir / STATE_FILE
    if not path.exists():
        return None
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise RunStateError(f"{path} cannot be read ({err}); {_start_over(workdir)}") from err
    return state if "format" in state else _from_legacy(workdir, state)


def _from_legacy(workdir: Path, old: dict) -> dict:
    """A state.json of the old runner: its history from history.csv, its files last.keras and best.weights.h5."""
    done = int(old["epochs_done"])
    history = []
    if (workdir / HISTORY_FILE).exists():
        frame = pd.read_csv(workdir / HISTORY_FILE).rename(columns={"epoch": "checkpoint"})
        history = frame[frame["checkpoint"] <= done].to_dict("records")
    if len(history) != done:
        raise RunStateError(f"{workdir / HISTORY_FILE} has {len(history)} rows for {done} checkpoints; "
                            f"{_start_over(workdir)}")
    best = None
    if old.get("best_epoch") is not None and (workdir / LEGACY_BEST).exists():
        best = {"value": old["best_value"], "checkpoint": old["best_epoch"], "weights": LEGACY_BEST}
    return {**new_state(), "checkpoints_done": done, "steps_done": None, "model": LEGACY_MODEL, "best": best,
            "wall_seconds": old["wall_seconds"], "history": history}


def load_model(workdir: Path, state: dict, steps_per_checkpoint: int) -> keras.Model:
    """The model of the committed checkpoint, with its optimizer; checked against the state's step count."""
    workdir = Path(workdir)
    path = workdir / state["model"]
    try:
        model = keras.saving.load_model(path)
    except Exception as err:  # Keras raises many types for a missing or corrupt archive
        raise RunStateError(f"{path} cannot be loaded ({type(err).__name__}: {err}); {_start_over(workdir)}") from err
    expected = state["checkpoints_done"] * steps_per_checkpoint
    steps = int(model.optimizer.iterations.numpy())
    if steps != expected:
        raise RunStateError(f"{path} has made {steps} training steps but {workdir / STATE_FILE} records "
                            f"{state['checkpoints_done']} checkpoints of {steps_per_checkpoint} ({expected} steps): "
                            f"the files of the run do not belong together; {_start_over(workdir)}")
    return model


def remove_leftovers(workdir: Path, state: dict | None) -> None:
    """Deletes checkpoint files that the committed state does not name (a checkpoint that never committed)."""
    keep = set() if state is None else {state["model"], (state["best"] or {}).get("weights")}
    folder = Path(workdir) / CHECKPOINT_DIR
    for path in folder.glob("*") if folder.exists() else ():
        if f"{CHECKPOINT_DIR}/{path.name}" not in keep:
            path.unlink()


def commit(workdir: Path, state: dict, model: keras.Model, checkpoint: int, row: dict, monitor_value: float | None,
           callbacks_state: dict) -> dict:
    """Writes checkpoint `checkpoint` as one unit and returns the new state (module docstring)."""
    workdir = Path(workdir)
    (workdir / CHECKPOINT_DIR).mkdir(parents=True, exist_ok=True)
    model_file = f"{CHECKPOINT_DIR}/model-{checkpoint:05d}.keras"
    atomic_write(workdir / model_file, model.save)
    best = state["best"]
    if monitor_value is not None and math.isfinite(monitor_value) and (best is None or monitor_value < best["value"]):
        weights_file = f"{CHECKPOINT_DIR}/best-{checkpoint:05d}.weights.h5"
        atomic_write(workdir / weights_file, model.save_weights)
        best = {"value": float(monitor_value), "checkpoint": checkpoint, "weights": weights_file}
    new = {**state, "format": FORMAT, "checkpoints_done": checkpoint, "steps_done": row["step"], "model": model_file,
           "best": best, "wall_seconds": row["wall_seconds"], "history": [*state["history"], row],
           "callbacks": callbacks_state}
    atomic_write_text(workdir / STATE_FILE, json.dumps(new, indent=1))  # the commit point
    for old in (state["model"], (state["best"] or {}).get("weights")):
        if old and old not in (model_file, best and best["weights"]):
            (workdir / old).unlink(missing_ok=True)
    write_history(workdir, new)
    return new


def write_history(workdir: Path, state: dict) -> None:
    atomic_write_text(Path(workdir) / HISTORY_FILE, history_frame(state).to_csv(index=False))


def history_frame(state: dict) -> pd.DataFrame:
    return pd.DataFrame(state["history"])


def load_best_weights(model: keras.Model, workdir: Path, state: dict) -> keras.Model:
    """The weights selected on validation, or the last checkpoint's when nothing was monitored."""
    if state["best"] is not None:
        path = Path(workdir) / state["best"]["weights"]
        try:
            model.load_weights(path)
        except Exception as err:  # h5py and Keras raise many types for a missing or corrupt file
            raise RunStateError(f"{path} cannot be loaded ({err}); {_start_over(Path(workdir))}") from err
    return model


def load_selected(workdir: Path, how_to_train: str) -> keras.Model:
    """The trained model of `workdir` with the weights selected on validation (for sampling or a later study)."""
    workdir = Path(workdir)
    state = read_state(workdir)
    if state is None:
        raise RunStateError(f"no trained model in {workdir}: train one first ({how_to_train})")
    try:
        model = keras.saving.load_model(workdir / state["model"], compile=False)
    except Exception as err:  # Keras raises many types for a missing or corrupt archive
        raise RunStateError(f"{workdir / state['model']} cannot be loaded ({err}); {_start_over(workdir)}") from err
    return load_best_weights(model, workdir, state)
