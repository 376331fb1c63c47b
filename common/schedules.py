"""Learning-rate schedules that two papers share."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="common")
class DecayAfter(keras.optimizers.schedules.LearningRateSchedule):
    """lr x decay at the end of every epoch from epoch `decay_after` on (1-based): char-rnn's schedule, and Zaremba
    et al.'s, lr / 1.2 after every epoch past the 6th (decay 1 / 1.2, decay_after 7)."""

    def __init__(self, learning_rate: float, decay: float, decay_after: int, steps_per_epoch: int):
        self.learning_rate, self.decay = learning_rate, decay
        self.decay_after, self.steps_per_epoch = decay_after, steps_per_epoch

    def __call__(self, step):
        epochs_done = ops.floor(ops.cast(step, "float32") / self.steps_per_epoch)
        decays = ops.maximum(0.0, epochs_done - (self.decay_after - 1))
        return self.learning_rate * ops.power(self.decay, decays)

    def get_config(self):
        return {"learning_rate": self.learning_rate, "decay": self.decay,
                "decay_after": self.decay_after, "steps_per_epoch": self.steps_per_epoch}
