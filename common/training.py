"""A thin runner around `keras.Model.fit`: seeds, strategy, checkpoints, resume, history, NaN guard.

A run lives in one work directory:

    last.keras         model and optimizer state after the last finished epoch (for resume)
    best.weights.h5    weights of the epoch with the best monitored validation value
    state.json         epochs done, best value and epoch, wall seconds so far
    history.csv        one row per finished epoch (the Keras logs)
    tensorboard/       TensorBoard event files

Every file is written to a temporary name and moved into place, so a kill at any moment leaves the
previous consistent state behind. Running the same command again resumes from `last.keras`; the input
pipeline is rebuilt from the resumed epoch (`train_data(initial_epoch)`), so a resumed run sees the same
batches as an uninterrupted one.

Multi-host note: Keras 3's `fit` does not run under MultiWorkerMirroredStrategy today
(keras-team/keras#20585). The runner only ever asks for a strategy by name, so adding one is local to
`make_strategy`.
"""

import functools
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

STATE_FILE = "state.json"
LAST_MODEL = "last.keras"
BEST_WEIGHTS = "best.weights.h5"
HISTORY_FILE = "history.csv"


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the run is a failed run and writes no result row."""


def set_seed(seed: int, deterministic: bool = True) -> None:
    """Seeds Python, NumPy and the backend; optionally makes TF ops deterministic."""
    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()


@functools.cache
def _mirrored_strategy(devices: tuple[str, ...]) -> tf.distribute.MirroredStrategy:
    """One MirroredStrategy per device set and process: two of them would reuse the same collective
    instance keys, and TF then fails with "Shape mismatch in the collective instance"."""
    return tf.distribute.MirroredStrategy(list(devices))


def make_strategy(name: str) -> tf.distribute.Strategy:
    """`default`: the current device. `mirrored`: data parallel over every local GPU, else every CPU device."""
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return _mirrored_strategy(tuple(d.name for d in devices))
    raise ValueError(f"unknown strategy {name!r}; choose one of: 'default', 'mirrored'")


def clip_after_all_reduce(optimizer: keras.optimizers.Optimizer) -> None:
    """Makes gradient clipping see the whole batch's gradient under a multi-replica strategy.

    Keras 3 on TensorFlow clips each replica's gradient before it sums them
    (keras/src/optimizers/base_optimizer.py: `_clip_gradients`, then `_backend_update_step`), so a
    `clipnorm` or `clipvalue` acts on half batches and training differs from one device. Here the
    replicas sum first, clip the sum (the full-batch gradient: Keras scales each replica's loss by
    1/replicas), and hand back sum / replicas, which Keras' own sum turns into the clipped gradient.
    """
    if getattr(optimizer, "_clips_after_all_reduce", False):
        return
    clip = optimizer._clip_gradients

    def clip_synced(grads):
        context = tf.distribute.get_replica_context()
        replicas = context.num_replicas_in_sync if context is not None else 1
        if replicas == 1:
            return clip(grads)
        grads = [tf.convert_to_tensor(g) if g is not None else None for g in grads]
        present = [g for g in grads if g is not None]
        summed = iter(clip(context.all_reduce(tf.distribute.ReduceOp.SUM, present)))
        return [None if g is None else next(summed) / replicas for g in grads]

    optimizer._clip_gradients = clip_synced
    optimizer._clips_after_all_reduce = True


def atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def read_state(workdir: Path) -> dict | None:
    path = Path(workdir) / STATE_FILE
    return json.loads(path.read_text()) if path.exists() else None


class StopOnNaN(keras.callbacks.Callback):
    """Stops training at the first non-finite batch loss and remembers where (Keras' TerminateOnNaN + record)."""

    def __init__(self):
        super().__init__()
        self.diverged_at: tuple[int, int] | None = None
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.diverged_at = (self._epoch, batch)
            self.model.stop_training = True


class Checkpoint(keras.callbacks.Callback):
    """Saves the last model, the best weights, the history row and the run state after every epoch."""

    def __init__(self, workdir: Path, monitor: str, state: dict, nan_guard: StopOnNaN):
        super().__init__()
        self.workdir = Path(workdir)
        self.monitor = monitor
        self.state = state
        self.nan_guard = nan_guard
        self._started = time.time()

    def on_train_begin(self, logs=None):
        self._started = time.time()
        self._wall_before = self.state["wall_seconds"]

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        if self.nan_guard.diverged_at is not None or not all(
            math.isfinite(float(v)) for v in logs.values()
        ):
            return  # never checkpoint a diverged model
        value = logs.get(self.monitor)
        if value is not None and value < self.state["best_value"]:
            tmp = self.workdir / f".tmp.{BEST_WEIGHTS}"
            self.model.save_weights(tmp)
            os.replace(tmp, self.workdir / BEST_WEIGHTS)
            self.state.update(best_value=float(value), best_epoch=epoch + 1)
        tmp = self.workdir / f".tmp.{LAST_MODEL}"
        self.model.save(tmp)
        os.replace(tmp, self.workdir / LAST_MODEL)
        wall = self._wall_before + time.time() - self._started
        row = {"epoch": epoch + 1, "wall_seconds": round(wall, 1), **{k: float(v) for k, v in logs.items()}}
        history = _read_history(self.workdir, epoch)
        history = pd.concat([history, pd.DataFrame([row])], ignore_index=True)
        atomic_write_text(self.workdir / HISTORY_FILE, history.to_csv(index=False))
        self.state.update(epochs_done=epoch + 1, wall_seconds=wall)
        atomic_write_text(self.workdir / STATE_FILE, json.dumps(self.state, indent=1))


def _read_history(workdir: Path, epochs_done: int) -> pd.DataFrame:
    """The history rows of the first `epochs_done` epochs (drops rows of an epoch that was not checkpointed)."""
    path = Path(workdir) / HISTORY_FILE
    if not path.exists():
        return pd.DataFrame()
    history = pd.read_csv(path)
    return history[history["epoch"] <= epochs_done]


@dataclass
class FitResult:
    model: keras.Model
    history: pd.DataFrame
    epochs: int
    steps: int
    wall_seconds: float
    resumed_from_epoch: int
    best_epoch: int | None


def fit(
    build_model: Callable[[], keras.Model],
    train_data: Callable[[int], tf.data.Dataset],
    workdir: str | os.PathLike,
    epochs: int,
    steps_per_epoch: int,
    validation_data: tf.data.Dataset | None = None,
    strategy: tf.distribute.Strategy | None = None,
    monitor: str = "val_loss",
    verbose: int | str = "auto",
    callbacks: list[keras.callbacks.Callback] = (),
) -> FitResult:
    """Trains `epochs` epochs of `steps_per_epoch` steps, resuming from `workdir` if a checkpoint is there.

    `build_model()` returns a compiled model; it is called under the strategy's scope. `train_data(e)`
    returns the training batches from epoch `e` on. `callbacks` run before the checkpoint, so a value they
    add to the epoch's logs can be the `monitor`. Raises TrainingDiverged on a NaN/inf loss.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    strategy = strategy or tf.distribute.get_strategy()
    state = read_state(workdir)
    with strategy.scope():
        if state is not None and (workdir / LAST_MODEL).exists():
            model = keras.saving.load_model(workdir / LAST_MODEL)
            print(f"Resuming {workdir} after epoch {state['epochs_done']} of {epochs}.", flush=True)
        else:
            state = {"epochs_done": 0, "best_value": math.inf, "best_epoch": None, "wall_seconds": 0.0}
            model = build_model()
    if strategy.num_replicas_in_sync > 1:
        clip_after_all_reduce(model.optimizer)
    initial_epoch = state["epochs_done"]
    nan_guard = StopOnNaN()
    callbacks = [
        nan_guard,
        *callbacks,
        Checkpoint(workdir, monitor, state, nan_guard),
        keras.callbacks.TensorBoard(workdir / "tensorboard", update_freq="epoch"),
    ]
    if initial_epoch < epochs:
        model.fit(
            train_data(initial_epoch),
            epochs=epochs,
            initial_epoch=initial_epoch,
            steps_per_epoch=steps_per_epoch,
            validation_data=validation_data,
            shuffle=False,  # the input pipeline orders the batches itself
            callbacks=callbacks,
            verbose=verbose,
        )
    if nan_guard.diverged_at is not None:
        epoch, batch = nan_guard.diverged_at
        raise TrainingDiverged(
            f"the training loss became NaN/inf at epoch {epoch + 1}, batch {batch + 1}; this run failed and "
            f"wrote no result row. Lower the learning rate or tighten gradient clipping; the last good "
            f"checkpoint is in {workdir}."
        )
    history = _read_history(workdir, state["epochs_done"])
    losses = history.get("loss", pd.Series(dtype=float))
    if not np.all(np.isfinite(losses)):
        raise TrainingDiverged(f"the history in {workdir} holds a non-finite loss; this run failed.")
    return FitResult(
        model=model,
        history=history,
        epochs=state["epochs_done"],
        steps=state["epochs_done"] * steps_per_epoch,
        wall_seconds=state["wall_seconds"],
        resumed_from_epoch=initial_epoch,
        best_epoch=state["best_epoch"],
    )


def load_best_weights(model: keras.Model, workdir: str | os.PathLike) -> keras.Model:
    """Loads the weights selected on validation; falls back to the last epoch's if none was monitored."""
    best = Path(workdir) / BEST_WEIGHTS
    if best.exists():
        model.load_weights(best)
    return model
