"""The model of a config, compiled as Sec. 3.4 trains it: plain SGD at lr 0.7, halved every half epoch after 5
epochs, the gradient's global norm clipped at 5, the loss summed over each sentence and averaged over the batch.
The `cpu` preset's Adam keeps the schedule's shape and the clipping (README "Deviations")."""

import keras
from keras import ops

from papers.seq2seq.attention_model import AttentionSeq2Seq
from papers.seq2seq.model import DeepLSTMSeq2Seq, SentenceNLL


@keras.saving.register_keras_serializable(package="seq2seq")
class HalveEveryHalfEpoch(keras.optimizers.schedules.LearningRateSchedule):
    """lr until epoch `decay_after`, then halved at it and at every half epoch after it (Sec. 3.4: "After 5 epochs,
    we begun halving the learning rate every half epoch"; 7.5 epochs end at lr / 32)."""

    def __init__(self, learning_rate: float, decay_after: float, steps_per_epoch: int):
        self.learning_rate, self.decay_after, self.steps_per_epoch = learning_rate, decay_after, steps_per_epoch

    def __call__(self, step):
        epochs = ops.cast(step, "float32") / self.steps_per_epoch
        halvings = ops.maximum(0.0, ops.floor((epochs - self.decay_after) / 0.5) + 1.0)
        return self.learning_rate * ops.power(0.5, halvings)

    def get_config(self):
        return {"learning_rate": self.learning_rate, "decay_after": self.decay_after,
                "steps_per_epoch": self.steps_per_epoch}


def build_model(config, source_vocab_size: int, target_vocab_size: int, steps_per_epoch: int) -> keras.Model:
    if config.architecture == "attention":
        model = AttentionSeq2Seq(source_vocab_size, target_vocab_size, config.units, config.embedding_dim,
                                 config.attention_units, config.init_scale)
    else:
        model = DeepLSTMSeq2Seq(source_vocab_size, target_vocab_size, config.num_layers, config.units,
                                config.embedding_dim, config.init_scale)
    schedule = HalveEveryHalfEpoch(config.learning_rate, config.lr_decay_after, steps_per_epoch)
    optimizer = keras.optimizers.SGD if config.optimizer == "sgd" else keras.optimizers.Adam
    model.compile(optimizer(schedule, global_clipnorm=config.clip_norm), SentenceNLL())
    return model
