"""Train one network of the depth study, select it on validation, test it, append its rows.

    python -m papers.depth_study.train --config=papers/depth_study/configs.py:cpu,plain56 --config.seed=2
    python -m papers.depth_study.train --config=papers/depth_study/configs.py:paper,densenet_bc100

One run is one cell of the depth table: He et al. 2016's ResNet or plain net (Table 6, Fig. 6) or Huang et al.
2017's DenseNet (Table 2), trained with its paper's recipe (configs.py) on the training part of a train / validation
split; the checkpoint with the lowest validation error is tested once. Rows (experiment "<dataset>_depth", the net's
fields from rows.py), errors in percent as in the papers' tables: test_error and valid_error of the selected
checkpoint, train_error (the running training error of the last checkpoint interval, on augmented batches, as
Fig. 6) and params (trainable parameters: BN's gamma and beta, not its moving statistics, as the papers count).
The run lifecycle (resume after a kill, a finished run prints its result, a NaN loss writes nothing) is
common/lifecycle.py's; this file says what is the depth study's: data → model → fit → evaluate → rows.
"""

import time
from pathlib import Path

import keras
import ml_collections

from common import lifecycle
from common.config import step_boundaries
from papers.depth_study import configs, data, rows, schedule
from papers.depth_study.evaluate import error_rate
from papers.depth_study.model import build_model as build_net
from papers.depth_study.model import count_params


def workdir_for(config: ml_collections.ConfigDict) -> Path:
    run = config.arch + ("" if config.augment else "-noaug")
    return Path(config.workdir or f"runs/depth_study/{config.preset}/{run}/seed{config.seed}")


def build_model(config: ml_collections.ConfigDict, input_shape) -> keras.Model:
    """The configured net, compiled with its paper's optimiser (the lr is set per step by schedule.PaperSchedule)."""
    if configs.family(config.arch) == "resnet":
        sizes = dict(width=config.width)
    else:
        sizes = dict(growth_rate=configs.growth_rate(config), dropout_rate=config.dropout_rate)
    model = build_net(config.arch, input_shape=input_shape, num_classes=data.NUM_CLASSES,
                      weight_decay=config.weight_decay, **sizes)
    optimizer = keras.optimizers.SGD(config.learning_rate, momentum=config.momentum, nesterov=config.nesterov)
    model.compile(optimizer, keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=[schedule.ErrorRate()])
    return model


def uses_warmup(config: ml_collections.ConfigDict) -> bool:
    return bool(config.warmup_min_depth) and configs.family(config.arch) == "resnet" \
        and configs.depth(config.arch) >= config.warmup_min_depth


def train_and_evaluate(config: ml_collections.ConfigDict, run: lifecycle.Run) -> lifecycle.Outcome:
    prepared = data.prepare_data(config)
    boundaries = step_boundaries(config.train_steps, config.lr_boundaries)
    warmup_lr = config.warmup_lr if uses_warmup(config) else None
    lr_schedule = schedule.PaperSchedule(config.learning_rate, boundaries, warmup_lr=warmup_lr,
                                         warmup_until_error=config.warmup_until_train_error)
    fields = rows.net_fields(config)
    print(f"{rows.variant(fields)} on {config.dataset} ({len(prepared.train):,} / {len(prepared.valid):,} / "
          f"{len(prepared.test):,} images): {config.train_steps:,} steps of {config.batch_size}, lr / 10 at steps "
          f"{boundaries}{', warm-up first' if uses_warmup(config) else ''}.", flush=True)

    fitted = run.fit(
        build_model=lambda: build_model(config, prepared.input_shape),
        train_data=lambda checkpoint: data.training_data(prepared, config, checkpoint),
        checkpoints=config.train_steps // config.steps_per_checkpoint,
        steps_per_checkpoint=config.steps_per_checkpoint,
        validation_data=data.eval_dataset(prepared.valid, config.eval_batch_size, prepared.standardize),
        monitor="val_error",
        callbacks=[lr_schedule],
        # Far above a working run: Keras' loss holds weight decay's L2 penalty (up to 103 nats in working plain-56
        # runs) beside 4-13 nats of cross-entropy at the start (NOTES.md, "The bound on the training loss").
        max_loss=1e4,
    )
    model = run.best_model()
    started = time.time()
    test_error = error_rate(model.predict_on_batch,
                            data.eval_dataset(prepared.test, config.eval_batch_size, prepared.standardize))
    values = {"test_error": test_error, "valid_error": float(fitted.history["val_error"].min()),
              "train_error": float(fitted.history["error"].iloc[-1]), "params": count_params(model)}

    row = dict(experiment=f"{config.dataset}_depth", variant=rows.variant(fields), **fields)
    return lifecycle.Outcome(
        rows=[{**row, "metric": metric, "value": str(value) if metric == "params" else f"{value:.2f}"}
              for metric, value in values.items()],
        summary=f"{row['variant']}, best checkpoint {fitted.best_checkpoint} of {fitted.checkpoints}: test error "
                f"{test_error:.2f}%, valid {values['valid_error']:.2f}%, train {values['train_error']:.2f}% "
                f"({values['params']:,} parameters)",
        epochs=f"{fitted.steps * config.batch_size / len(prepared.train):.2f}",
        facts={"metrics": values, "warmup_ended_at_step": lr_schedule.warmup_ended_at,
               "eval_seconds": time.time() - started})


EXPERIMENT = lifecycle.Experiment(
    paper="depth_study", fields=rows.FIELDS, work=train_and_evaluate, workdir=workdir_for, validate=configs.validate,
    # Where the data lie, the evaluation batch and the lesion's keys change neither training nor the test.
    ignored_keys=("data_dir", "eval_batch_size", "lesion_arch", "lesion_max_deleted", "lesion_draws", "lesion_seed"))

if __name__ == "__main__":
    lifecycle.main(EXPERIMENT, "papers/depth_study/configs.py:cpu")
