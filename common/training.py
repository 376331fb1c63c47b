"""A thin runner around `keras.Model.fit`: seeds, strategy, checkpoints, resume, NaN and plausibility guards.

Training is cut into checkpoints of `steps_per_checkpoint` steps (Keras' epochs); after each one the model, the
best weights on validation, the history row and the callbacks' state are committed as one unit (checkpoints.py).
Running the same command again resumes from the last committed checkpoint; the input pipeline is rebuilt from
that checkpoint (`train_data(checkpoint)`), so a resumed run sees the same batches as an uninterrupted one and
ends with the same weights.

Multi-host note: Keras 3's `fit` does not run under MultiWorkerMirroredStrategy today
(keras-team/keras#20585). The runner only ever asks for a strategy by name, so adding one is local to
`make_strategy`.
"""

import functools
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
import pandas as pd
import tensorflow as tf

from common import checkpoints


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite, or implausibly large; the run is a failed run and writes no result row."""


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


class StopOnNaN(keras.callbacks.Callback):
    """Stops training at the first non-finite batch loss and remembers where (Keras' TerminateOnNaN + record)."""

    def __init__(self):
        super().__init__()
        self.diverged_at: tuple[int, int] | None = None
        self._checkpoint = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._checkpoint = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.diverged_at = (self._checkpoint, batch)
            self.model.stop_training = True


class CheckpointMetric(keras.callbacks.Callback):
    """Adds `name` = measure(model) to every checkpoint's logs: a validation number measured the paper's way (e.g.
    with the state carried across the text), which `fit`'s `monitor` can select on."""

    def __init__(self, name: str, measure):
        super().__init__()
        self.name, self.measure = name, measure

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs[self.name] = self.measure(self.model)


class Checkpoint(keras.callbacks.Callback):
    """Commits the model, the best weights, the history row and the callbacks' state after every checkpoint.

    Callbacks with `get_state() -> dict` and `set_state(dict)` (e.g. a schedule that remembers when its warm-up
    ended) have their state committed with the checkpoint and restored on resume.
    """

    def __init__(self, workdir: Path, monitor: str, state: dict, nan_guard: StopOnNaN, steps_per_checkpoint: int,
                 stateful: dict[str, keras.callbacks.Callback]):
        super().__init__()
        self.workdir, self.monitor, self.state, self.nan_guard = Path(workdir), monitor, state, nan_guard
        self.steps_per_checkpoint, self.stateful = steps_per_checkpoint, stateful
        self._started = time.time()
        self._wall_before = state["wall_seconds"]

    def on_train_begin(self, logs=None):
        self._started = time.time()
        self._wall_before = self.state["wall_seconds"]

    def on_epoch_end(self, epoch, logs=None):
        logs = {k: float(v) for k, v in (logs or {}).items()}
        if self.nan_guard.diverged_at is not None or not all(math.isfinite(v) for v in logs.values()):
            return  # never checkpoint a diverged model
        checkpoint = epoch + 1
        wall = self._wall_before + time.time() - self._started
        row = {"checkpoint": checkpoint, "step": checkpoint * self.steps_per_checkpoint,
               "wall_seconds": round(wall, 1), **logs}
        self.state = checkpoints.commit(self.workdir, self.state, self.model, checkpoint, row,
                                        logs.get(self.monitor), {k: c.get_state() for k, c in self.stateful.items()})


@dataclass
class FitResult:
    model: keras.Model
    history: pd.DataFrame  # a row per checkpoint: checkpoint, step, wall_seconds and the Keras logs
    checkpoints: int
    steps: int
    wall_seconds: float
    resumed_from: int  # the checkpoint this process started from (0: a new run)
    best_checkpoint: int | None
    state: dict

    def best_model(self, workdir: Path) -> keras.Model:
        """The model with the weights selected on validation (the last checkpoint's when nothing was monitored)."""
        return checkpoints.load_best_weights(self.model, workdir, self.state)


def fit(
    build_model: Callable[[], keras.Model],
    train_data: Callable[[int], tf.data.Dataset],
    workdir: str | os.PathLike,
    checkpoints_total: int,
    steps_per_checkpoint: int,
    validation_data: tf.data.Dataset | None = None,
    strategy: tf.distribute.Strategy | None = None,
    monitor: str = "val_loss",
    verbose: int | str = "auto",
    callbacks: list[keras.callbacks.Callback] = (),
    max_loss: float = math.inf,
) -> FitResult:
    """Trains `checkpoints_total` checkpoints of `steps_per_checkpoint` steps, resuming from `workdir`'s last one.

    `build_model()` returns a compiled model; it is called under the strategy's scope. `train_data(k)` returns the
    training batches from checkpoint `k` on. `callbacks` run before the checkpoint is committed, so a value they add
    to the logs can be the `monitor`. Raises TrainingDiverged on a NaN/inf loss, or when the last checkpoint's
    training loss is above `max_loss` (a bound no working model exceeds: lifecycle.implausible_loss).
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    strategy = strategy or tf.distribute.get_strategy()
    state = checkpoints.read_state(workdir)
    checkpoints.remove_leftovers(workdir, state)
    with strategy.scope():
        if state is not None:
            model = checkpoints.load_model(workdir, state, steps_per_checkpoint)
            print(f"Resuming {workdir} after checkpoint {state['checkpoints_done']} of {checkpoints_total}.",
                  flush=True)
        else:
            state = checkpoints.new_state()
            model = build_model()
    if strategy.num_replicas_in_sync > 1:
        clip_after_all_reduce(model.optimizer)
    stateful = {type(c).__name__: c for c in callbacks if hasattr(c, "get_state") and hasattr(c, "set_state")}
    for name, callback in stateful.items():
        if name in state["callbacks"]:
            callback.set_state(state["callbacks"][name])
    initial = state["checkpoints_done"]
    nan_guard = StopOnNaN()
    checkpoint = Checkpoint(workdir, monitor, state, nan_guard, steps_per_checkpoint, stateful)
    if initial < checkpoints_total:
        model.fit(
            train_data(initial),
            epochs=checkpoints_total,  # Keras' epochs are our checkpoints
            initial_epoch=initial,
            steps_per_epoch=steps_per_checkpoint,
            validation_data=validation_data,
            shuffle=False,  # the input pipeline orders the batches itself
            callbacks=[nan_guard, *callbacks, checkpoint,
                       keras.callbacks.TensorBoard(workdir / "tensorboard", update_freq="epoch")],
            verbose=verbose,
        )
    state = checkpoint.state
    if nan_guard.diverged_at is not None:
        at, batch = nan_guard.diverged_at
        raise TrainingDiverged(
            f"the training loss became NaN/inf in checkpoint interval {at + 1}, batch {batch + 1}; this run failed "
            f"and wrote no result row. Lower the learning rate or tighten gradient clipping; the last good "
            f"checkpoint is in {workdir}.")
    history = checkpoints.history_frame(state)
    checkpoints.write_history(workdir, state)
    last_loss = float(history["loss"].iloc[-1]) if "loss" in history and len(history) else math.nan
    if len(history) and not last_loss < max_loss:
        raise TrainingDiverged(
            f"the training loss of the last checkpoint is {last_loss:.4g}, above {max_loss:.4g} (implausible for a "
            f"model that trained): this run failed and wrote no result row. Lower the learning rate or tighten "
            f"gradient clipping.")
    return FitResult(model=model, history=history, checkpoints=state["checkpoints_done"],
                     steps=state["checkpoints_done"] * steps_per_checkpoint, wall_seconds=state["wall_seconds"],
                     resumed_from=initial, best_checkpoint=(state["best"] or {}).get("checkpoint"), state=state)
