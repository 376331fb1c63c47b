"""Pre-train the `cpu` image encoder: classify single items of the training scenes' picture pool, select on the valid
pool's items, report the test items' accuracy (our stand-in for the paper's ImageNet pre-training, encoder.py).

    python -m papers.show_and_tell.pretrain --config=papers/show_and_tell/configs.py:cpu --config.seed=1

The captioner (train.py) loads the selected network's trunk from this run's work directory and keeps it frozen.
Rows: method "item_classifier", metrics valid_accuracy and test_accuracy (percent), through the run lifecycle.
"""

from pathlib import Path

import ml_collections
import numpy as np
import tensorflow as tf

from common import batches, lifecycle
from papers.show_and_tell import configs, data, encoder, rows


def default_workdir(config: ml_collections.ConfigDict) -> Path:
    return Path(f"runs/show_and_tell/{config.preset}/encoder/seed{config.seed}")


def workdir_for(config: ml_collections.ConfigDict) -> Path:
    return Path(config.workdir or default_workdir(config))


def as_inputs(pictures: np.ndarray) -> np.ndarray:
    return pictures[..., None].astype("float32") / 255.0


def pretrain(config: ml_collections.ConfigDict, run: lifecycle.Run) -> lifecycle.Outcome:
    pools = data.item_pools(config.dataset, config.seed, config.data_dir)
    train_x, train_y = pools["train"]
    per_epoch = len(train_x) // config.encoder_batch_size
    images, labels = tf.constant(as_inputs(train_x)), tf.constant(train_y.astype("int32"))
    valid = tf.data.Dataset.from_tensor_slices((as_inputs(pools["valid"][0]), pools["valid"][1])).batch(256)
    fitted = run.fit(
        build_model=lambda: encoder.item_classifier(config.encoder_learning_rate),
        train_data=lambda k: batches.shuffled_batches(
            len(train_x), config.encoder_batch_size, config.seed, k * per_epoch, config.encoder_epochs * per_epoch,
            lambda i: (tf.gather(images, i), tf.gather(labels, i))),
        checkpoints=config.encoder_epochs, steps_per_checkpoint=per_epoch, validation_data=valid)
    model = run.best_model()
    accuracy = {split: 100 * float(np.mean(np.argmax(model.predict(as_inputs(x), verbose=0), axis=1) == y))
                for split, (x, y) in pools.items() if split != "train"}
    fields = rows.empty() | {"method": "item_classifier"}
    out = [{**fields, "experiment": config.dataset, "variant": rows.variant(fields), "metric": f"{split}_accuracy",
            "value": f"{value:.2f}"} for split, value in accuracy.items()]
    return lifecycle.Outcome(rows=out, summary=f"item classifier, best checkpoint {fitted.best_checkpoint} of "
                             f"{fitted.checkpoints}: " + ", ".join(f"{k} {v:.2f}%" for k, v in accuracy.items()),
                             epochs=f"{fitted.steps / per_epoch:.2f}")


EXPERIMENT = lifecycle.Experiment(paper="show_and_tell", fields=rows.FIELDS, work=pretrain, workdir=workdir_for,
                                  validate=configs.validate)

if __name__ == "__main__":
    lifecycle.main(EXPERIMENT, "papers/show_and_tell/configs.py:cpu")
