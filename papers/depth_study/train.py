"""Train one network of the depth study, select it on validation, test it, append its rows.

    python -m papers.depth_study.train --config=papers/depth_study/configs.py:cpu --config.arch=plain56 \
        --config.seed=2
    python -m papers.depth_study.train --config=papers/depth_study/configs.py:paper_densenet \
        --config.arch=densenet_bc100

One run is one cell of the depth table: He et al. 2016's ResNet or plain net (Table 6, Fig. 6) or Huang et al.
2017's DenseNet (Table 2), trained with its paper's recipe (configs.py) on the training part of a train / validation
split. Every checkpoint (`steps_per_checkpoint` steps) records the running training error and the validation error
(history.csv: `error`, `val_error`, in percent); the checkpoint with the lowest validation error is kept (never the
test set) and tested once on the test set.

Rows (results/depth_study.csv, experiment "<dataset>_depth", preset = the scale: smoke, cpu or paper), all errors in
percent as in the papers' tables:
    test_error     the selected checkpoint on the test set
    valid_error    the selected checkpoint on the validation split (the lowest in the history)
    train_error    the running training error of the last checkpoint interval (augmented batches, as Fig. 6)
    params         trainable parameters (BN's gamma and beta, not its moving statistics), as the papers count
The variant names the net as the papers do ("ResNet-20", "plain-56", "DenseNet-40 (k=12)", "DenseNet-BC-100
(k=12)"), with "(w=8)" for a ResNet narrower than the paper's 16 and ", no augmentation" for the C10 column.

A run lives in runs/depth_study/<scale>/<arch>[-noaug]/seed<seed>/ (common/training.py's files, the selected model
as model.keras for lesion.py, result.json). The same command after a kill resumes; after a finished run it prints
the result and writes nothing. A NaN loss ends the run as failed, with no row.
"""

import csv
import functools
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

import keras
import ml_collections
import numpy as np
import tensorflow as tf

from common import results, training
from common.cli import run_with_config
from common.config import ConfigError, claim_workdir, step_boundaries
from papers.depth_study import configs, schedule
from papers.depth_study import data as D
from papers.depth_study import model as M

PAPER = "depth_study"
RESULT_FILE = "result.json"
MODEL_FILE = "model.keras"  # the selected checkpoint, for lesion.py
PAPER_RESULTS = Path(__file__).resolve().parent / "paper_results.csv"
# Keys that change neither training nor the test: a run may be resumed or reprinted with other values.
IGNORED_KEYS = ("verbose", "results_dir", "workdir", "data_dir", "eval_batch_size", "lesion_arch",
                "lesion_max_deleted", "lesion_draws", "lesion_seed")


# --- names -------------------------------------------------------------------------------------------------

def variant_name(config: ml_collections.ConfigDict) -> str:
    """The net as the papers' tables name it: "ResNet-20", "plain-56 (w=8)", "DenseNet-BC-100 (k=12)", with the
    augmentation when it is not the papers' pad-4 crops and flips: ", no augmentation", ", flips only",
    ", pad-2 crops"."""
    depth = configs.depth(config.arch)
    if configs.family(config.arch) == "resnet":
        name = f"{'ResNet' if config.arch.startswith('resnet') else 'plain'}-{depth}"
        name += f" (w={config.width})" if config.width != configs.PAPER_WIDTH else ""
    else:
        bc = "-BC" if config.arch.startswith("densenet_bc") else ""
        name = f"DenseNet{bc}-{depth} (k={configs.growth_rate(config)})"
    if not config.augment:
        return f"{name}, no augmentation"
    if config.crop_padding != configs.PAPER_CROP_PADDING:
        return f"{name}, " + (f"pad-{config.crop_padding} crops" if config.crop_padding else "flips only")
    return name


def experiment_name(config: ml_collections.ConfigDict) -> str:
    return f"{config.dataset}_depth"


def run_slug(config: ml_collections.ConfigDict) -> str:
    return config.arch + ("" if config.augment else "-noaug")


def workdir_for(config: ml_collections.ConfigDict) -> Path:
    return Path(config.workdir or f"runs/{PAPER}/{configs.scale(config)}/{run_slug(config)}/seed{config.seed}")


def history_path(config: ml_collections.ConfigDict) -> Path:
    """results/histories/depth_study/<dataset>_<scale>/<variant slug>_seed<seed>.csv (a folder per study, so that
    `make results` draws them as the degradation figure (tables.py) and not as one generic plot per run)."""
    slug = re.sub(r"[^a-z0-9]+", "-", variant_name(config).lower()).strip("-")
    return (Path(config.results_dir or results.RESULTS_DIR) / "histories" / PAPER
            / f"{config.dataset}_{configs.scale(config)}" / f"{slug}_seed{config.seed}.csv")


@functools.cache
def paper_values() -> dict[tuple[str, str, str], str]:
    with open(PAPER_RESULTS, newline="") as f:
        return {(r["experiment"], r["variant"], r["metric"]): r["value"] for r in csv.DictReader(f)
                if r["kind"] == "paper"}


# --- data --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Prepared:
    """The three splits and the standardisation fitted on the training part (the same for lesion.py)."""

    train: D.Split
    valid: D.Split
    test: D.Split
    standardize: D.Standardize

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(self.train.images.shape[1:])


def prepare_data(config: ml_collections.ConfigDict) -> Prepared:
    splits = D.load(config.dataset, config.source, config.data_dir or None)
    if not 0 < config.valid_size < len(splits["train"]):
        raise ConfigError(f"config.valid_size={config.valid_size} must be below the {len(splits['train'])} training "
                          f"images of {config.dataset}")
    train, valid = D.split_validation(splits["train"], config.valid_size, config.split_seed)
    test = splits["test"]
    if config.test_size:
        test = test.take(slice(0, config.test_size))
    if len(train) < config.batch_size:
        raise ConfigError(f"config.batch_size={config.batch_size} is larger than the {len(train)} training images")
    return Prepared(train, valid, test, D.Standardize.fit(config.normalization, train.images))


def training_data(prepared: Prepared, config: ml_collections.ConfigDict, keras_epoch: int):
    """The batches from Keras epoch `keras_epoch` (a checkpoint interval) on: data epochs are passes over the
    training part, each a pure function of (seed, pass), so a resumed run sees the batches it would have seen."""
    per_pass = D.steps_per_epoch(len(prepared.train), config.batch_size)
    step = keras_epoch * config.steps_per_checkpoint
    batches = D.train_batches(prepared.train, config.batch_size, config.seed, step // per_pass, config.augment,
                              prepared.standardize, pad=config.crop_padding)
    return batches.skip(step % per_pass)


# --- model -------------------------------------------------------------------------------------------------

def build_model(config: ml_collections.ConfigDict, input_shape) -> keras.Model:
    """The configured net, compiled with its paper's optimiser (the lr is set per step by schedule.PaperSchedule)."""
    kwargs = dict(num_classes=D.NUM_CLASSES, weight_decay=config.weight_decay)
    if configs.family(config.arch) == "resnet":
        kwargs["width"] = config.width
    else:
        kwargs.update(growth_rate=configs.growth_rate(config), dropout_rate=config.dropout_rate)
    arch = re.sub(r"_k\d+$", "", config.arch)
    model = M.build_model(arch, input_shape=input_shape, **kwargs)
    optimizer = keras.optimizers.SGD(config.learning_rate, momentum=config.momentum, nesterov=config.nesterov)
    model.compile(optimizer, keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=[schedule.ErrorRate()])
    return model


def uses_warmup(config: ml_collections.ConfigDict) -> bool:
    return bool(config.warmup_min_depth) and configs.family(config.arch) == "resnet" \
        and configs.depth(config.arch) >= config.warmup_min_depth


def error_rate(model: keras.Model, dataset) -> float:
    """Test-mode error in percent over a dataset of (images, labels) batches."""
    logits = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
    wrong = total = 0
    for x, y in dataset:
        predicted = np.argmax(logits(x).numpy(), axis=-1)
        wrong += int(np.sum(predicted != y.numpy()))
        total += len(predicted)
    return 100.0 * wrong / total


# --- the run -----------------------------------------------------------------------------------------------

def finished_result(config: ml_collections.ConfigDict) -> dict | None:
    path = workdir_for(config) / RESULT_FILE
    return json.loads(path.read_text()) if path.exists() else None


def format_result(result: dict) -> str:
    m = result["metrics"]
    return (f"{result['variant']}: test error {m['test_error']:.2f}%, valid {m['valid_error']:.2f}%, "
            f"train {m['train_error']:.2f}% ({m['params']:,} parameters)")


def run(config: ml_collections.ConfigDict) -> dict:
    """Trains (or resumes) one run, tests the checkpoint selected on validation and appends its rows."""
    configs.validate(config)
    workdir = workdir_for(config)
    commit = results.git_commit()  # the code that runs now
    claim_workdir(workdir, config, ignored=IGNORED_KEYS)
    result = finished_result(config)
    if result is not None:
        print(f"{workdir} is finished: {format_result(result)} (nothing rerun).", flush=True)
        return result
    training.set_seed(config.seed, config.deterministic)
    strategy = training.make_strategy(config.distribute)
    prepared = prepare_data(config)
    checkpoints = config.train_steps // config.steps_per_checkpoint
    boundaries = step_boundaries(config.train_steps, config.lr_boundaries)
    warmup = uses_warmup(config)
    passes = config.train_steps * config.batch_size / len(prepared.train)
    print(f"{variant_name(config)} on {config.dataset} ({len(prepared.train):,} train / {len(prepared.valid):,} valid"
          f" / {len(prepared.test):,} test): {config.train_steps:,} steps of {config.batch_size} ({passes:.1f} passes),"
          f" lr {config.learning_rate:g} / 10 at steps {boundaries}"
          f"{f', warm-up at {config.warmup_lr:g}' if warmup else ''}, a checkpoint every "
          f"{config.steps_per_checkpoint} steps.", flush=True)

    lr_schedule = schedule.PaperSchedule(config.learning_rate, boundaries, workdir,
                                         warmup_lr=config.warmup_lr if warmup else None,
                                         warmup_until_error=config.warmup_until_train_error)
    fitted = training.fit(
        build_model=lambda: build_model(config, prepared.input_shape),
        train_data=lambda epoch: training_data(prepared, config, epoch),
        workdir=workdir,
        epochs=checkpoints,
        steps_per_epoch=config.steps_per_checkpoint,
        validation_data=D.eval_dataset(prepared.valid, config.eval_batch_size, prepared.standardize),
        strategy=strategy,
        monitor="val_error",
        verbose=config.verbose,
        callbacks=[lr_schedule],
    )
    model = training.load_best_weights(fitted.model, workdir)
    started = time.time()
    test_error = error_rate(model, D.eval_dataset(prepared.test, config.eval_batch_size, prepared.standardize))
    eval_seconds = time.time() - started
    history = fitted.history
    values = {"test_error": test_error, "valid_error": float(history["val_error"].min()),
              "train_error": float(history["error"].iloc[-1]), "params": M.count_params(model)}
    tmp = workdir / f".tmp.{MODEL_FILE}"
    model.save(tmp)
    tmp.replace(workdir / MODEL_FILE)

    experiment, variant = experiment_name(config), variant_name(config)
    epochs = fitted.steps * config.batch_size / len(prepared.train)
    common = dict(commit=commit, experiment=experiment, variant=variant, preset=configs.scale(config),
                  seed=config.seed, steps=fitted.steps, epochs=f"{epochs:.2f}",
                  wall_seconds=f"{fitted.wall_seconds:.0f}")
    results.append_rows(PAPER, [
        {**common, "metric": metric, "value": str(value) if metric == "params" else f"{value:.2f}",
         "paper_value": paper_values().get((experiment, variant, metric), "")}
        for metric, value in values.items()
    ], config.results_dir or None)
    out = history_path(config)
    out.parent.mkdir(parents=True, exist_ok=True)
    history = history.assign(step=history["epoch"] * config.steps_per_checkpoint)
    training.atomic_write_text(out, history.to_csv(index=False))
    result = {"variant": variant, "metrics": values, "best_epoch": fitted.best_epoch, "steps": fitted.steps,
              "wall_seconds": fitted.wall_seconds, "eval_seconds": eval_seconds,
              "warmup_ended_at_step": (lr_schedule.warmup_ended_at or lr_schedule.saved_warmup_end()) if warmup
              else None}
    training.atomic_write_text(workdir / RESULT_FILE, json.dumps(result, indent=1))
    print(f"best checkpoint {fitted.best_epoch} of {fitted.epochs}; {format_result(result)}", flush=True)
    return result


def load_selected(config: ml_collections.ConfigDict) -> keras.Model:
    """The finished run's selected model (model.keras); a clear error naming the command that makes it."""
    workdir = workdir_for(config)
    if not (workdir / RESULT_FILE).exists() or not (workdir / MODEL_FILE).exists():
        command = (f"python -m papers.depth_study.train --config=papers/depth_study/configs.py:{config.preset} "
                   f"--config.arch={config.arch} --config.seed={config.seed}")
        make = f"make {workdir / RESULT_FILE}, or " if configs.scale(config) in ("cpu", "paper") else ""
        raise FileNotFoundError(f"no finished run of {config.arch} (seed {config.seed}) in {workdir}; train it "
                                f"first: {make}{command}")
    return keras.saving.load_model(workdir / MODEL_FILE)


if __name__ == "__main__":
    run_with_config(run, "papers/depth_study/configs.py:cpu")
