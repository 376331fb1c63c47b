"""The papers' training schedule and the error metric they report.

Step schedule (He et al. 2016, Sec. 4.2; Huang et al. 2017, Sec. 4.2): lr = base x 0.1^(boundaries passed), the
boundaries a fraction of the training steps (He: 32k and 48k of 64k; Huang: 50% and 75% of the epochs).

Warm-up (He et al. 2016, Sec. 4.2, for ResNet-110 and -1202): "we use 0.01 to warm up the training until the
training error is below 80% (about 400 iterations), and then go back to 0.1". `PaperSchedule` holds the lr at
`warmup_lr` until the running training error of the current checkpoint interval falls below the threshold, and at
the latest until the first boundary. The step at which the warm-up ended is the callback's state
(`get_state` / `set_state`), which common/training.py commits with every checkpoint and restores on resume, so a
resumed run does not warm up again, and one resumed before the warm-up ended goes on warming up.

The error metric (`ErrorRate`): 100 x (1 - accuracy), in percent as the papers' tables; during training it is
the error on the augmented training batches in training mode, averaged over the checkpoint interval (the
"training error" of He et al.'s Fig. 6, which is also measured during training).
"""

import keras


@keras.saving.register_keras_serializable(package="depth_study")
class ErrorRate(keras.metrics.SparseCategoricalAccuracy):
    """Classification error in percent: 100 x (1 - sparse categorical accuracy), for logits or probabilities."""

    def __init__(self, name="error", **kwargs):
        super().__init__(name=name, **kwargs)

    def result(self):
        return 100.0 * (1.0 - super().result())


def step_learning_rate(step: int, base: float, boundaries) -> float:
    """base x 0.1^(number of boundaries <= step): the lr of the update with 0-based index `step`."""
    return base / 10 ** sum(step >= b for b in boundaries)


class PaperSchedule(keras.callbacks.Callback):
    """Sets the optimiser's lr before every step: the step schedule, with He et al.'s warm-up when asked.

    Adds `learning_rate` (the lr of the checkpoint interval's last step) to its logs, so it lands in the history.
    """

    def __init__(self, base_lr: float, boundaries, warmup_lr: float | None = None, warmup_until_error: float = 80.0,
                 error_key: str = "error"):
        super().__init__()
        self.base_lr, self.boundaries = base_lr, list(boundaries)
        self.warmup_lr, self.warmup_until_error, self.error_key = warmup_lr, warmup_until_error, error_key
        self.warmup_ended_at: int | None = None  # the step after which the lr went back to the schedule
        self.step = 0
        self._lr = None

    def get_state(self) -> dict:
        return {"warmup_ended_at_step": self.warmup_ended_at}

    def set_state(self, state: dict) -> None:
        self.warmup_ended_at = state["warmup_ended_at_step"]

    @property
    def warming(self) -> bool:
        return self.warmup_lr is not None and self.warmup_ended_at is None

    def on_train_begin(self, logs=None):
        self.step = int(self.model.optimizer.iterations.numpy())
        self._lr = None

    def learning_rate(self, step: int) -> float:
        if self.warming and (not self.boundaries or step < self.boundaries[0]):
            return self.warmup_lr
        return step_learning_rate(step, self.base_lr, self.boundaries)

    def on_train_batch_begin(self, batch, logs=None):
        lr = self.learning_rate(self.step)
        if lr != self._lr:
            self.model.optimizer.learning_rate = lr
            self._lr = lr

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.warming and logs and self.error_key in logs and float(logs[self.error_key]) < self.warmup_until_error:
            self.warmup_ended_at = self.step
            print(f"warm-up ended after step {self.step}: training error {float(logs[self.error_key]):.1f}% < "
                  f"{self.warmup_until_error:g}%; lr {self.learning_rate(self.step):g} from here", flush=True)

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self._lr if self._lr is not None else self.learning_rate(self.step))
