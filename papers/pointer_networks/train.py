"""Train a Pointer Networks model, select it on validation, decode the test set, append the rows of its table.

    python -m papers.pointer_networks.train --config=papers/pointer_networks/configs.py:cpu --config.task=tsp

One run is one cell group of the paper's tables (Vinyals et al. 2015): a model (LSTM, +Attention, Ptr-Net) trained
on n_min .. n_max points and tested at n_test. Training minimises the whole sequence's negative log-likelihood
(Sec. 2.1) with SGD and global gradient-norm clipping (Sec. 4.1); the checkpoint of the lowest validation loss is
decoded on the test set (evaluate.py). A run lives in runs/pointer_networks/<preset>/<task>/<model>-n<n_min>-<n_max>/
seed<seed>/, each test size's result in test_n<n_test>/ there, so one trained model is tested at several n (the
paper's 5-50 -> 500) without training again. The run lifecycle (resume, a finished run prints its result, a NaN
loss writes nothing) is common/lifecycle.py's.
"""

from pathlib import Path

import keras
import ml_collections

from common import lifecycle
from common.config import step_boundaries
from papers.pointer_networks import configs, data, rows
from papers.pointer_networks.baseline_models import AttentionLSTM, Seq2SeqLSTM
from papers.pointer_networks.evaluate import evaluate, format_rows
from papers.pointer_networks.model import PointerNet, SequenceNLL

EXPERIMENTS = {"convex_hull": "table1_convex_hull", "delaunay": "delaunay", "tsp": "table2_tsp",
               "tsp_a1": "table2_tsp", "tsp_a3": "table2_tsp"}


def workdir_for(config: ml_collections.ConfigDict) -> Path:
    slug = f"{config.model}-n{config.n_min}-{config.n_max}"
    return Path(config.workdir or f"runs/pointer_networks/{config.preset}/{config.task}/{slug}/seed{config.seed}")


def build_model(config: ml_collections.ConfigDict) -> keras.Model:
    """The configured model, compiled with the paper's loss and optimiser (Sec. 2.1 and 4.1)."""
    size = dict(units=config.units, embedding_dim=config.embedding_dim or None, init_scale=config.init_scale)
    if config.model == "ptr_net":
        model = PointerNet(**size)
    elif config.model == "lstm":
        model = Seq2SeqLSTM(n_max=config.n_max, **size)
    else:
        model = AttentionLSTM(n_max=config.n_max, **size)
    model.build()
    clip = dict(global_clipnorm=config.clip_norm) if config.clip_norm else {}
    optimizer_class = keras.optimizers.SGD if config.optimizer == "sgd" else keras.optimizers.Adam
    model.compile(optimizer_class(learning_rate(config), **clip), SequenceNLL())
    return model


def learning_rate(config: ml_collections.ConfigDict):
    """The paper's constant lr, or, with config.lr_boundaries, one divided by 10 at each boundary (a fraction
    of train_steps). A Keras schedule of the optimiser's step count, saved with it, so a resumed run keeps it."""
    if not config.lr_boundaries:
        return config.learning_rate
    drops = step_boundaries(config.train_steps, config.lr_boundaries)
    values = [config.learning_rate / 10 ** i for i in range(len(drops) + 1)]
    # Keras's schedule moves on when iterations > boundary: the update with 0-based index `drop` is the first
    # at the lower lr, after `drop` updates at the higher one.
    return keras.optimizers.schedules.PiecewiseConstantDecay([d - 1 for d in drops], values)


def train_and_evaluate(config: ml_collections.ConfigDict, run: lifecycle.Run) -> lifecycle.Outcome:
    mixed = config.n_min != config.n_max
    eos = config.n_max  # the last class at n_max points, for all three models (model.eos_index(n_max))
    valid = data.load_split(config, "valid", config.valid_instances, eos)
    train = None
    checkpoints = -(-config.train_steps // config.steps_per_checkpoint)
    total_steps = checkpoints * config.steps_per_checkpoint

    def train_data(checkpoint):
        nonlocal train  # loaded once, and only when there is training left to do
        train = train or data.load_split(config, "train", config.train_instances, eos)
        return data.training_batches(train, config.batch_size, config.seed,
                                     checkpoint * config.steps_per_checkpoint, total_steps, mixed)

    drops = step_boundaries(config.train_steps, config.lr_boundaries)
    print(f"{config.model} on {config.task}, n = {config.n_min}..{config.n_max}: {config.train_instances:,} "
          f"instances, {total_steps:,} steps of {config.batch_size}, lr {config.learning_rate:g}"
          f"{f' / 10 at steps {drops}' if drops else ''}.", flush=True)
    fitted = run.fit(build_model=lambda: build_model(config), train_data=train_data, checkpoints=checkpoints,
                     steps_per_checkpoint=config.steps_per_checkpoint,
                     validation_data=data.validation_batches(valid, config.eval_batch_size, mixed),
                     max_loss=lifecycle.implausible_loss(config.n_max + 1, valid.targets.shape[1]))
    points, targets = data.test_set(config)
    measured = evaluate(run.best_model(), config, points, targets)
    best_loss = float(fitted.history["val_loss"].min())

    common = dict(experiment=EXPERIMENTS[config.task], variant=rows.variant(rows.model_fields(config, "beam")))
    return lifecycle.Outcome(
        rows=[{**common, **r, "value": "" if r["value"] != r["value"] else f"{r['value']:.4f}"} for r in measured],
        summary=f"{common['variant']}, best checkpoint {fitted.best_checkpoint} of {fitted.checkpoints} (valid loss "
                f"{best_loss:.4f}), {config.test_instances} test instances: {format_rows(measured)}",
        epochs=f"{fitted.steps * config.batch_size / config.train_instances:.2f}",
        facts={"best_val_loss": best_loss,
               "metrics": {f"{r['metric']} ({r['decoding']}{'' if r['constrained'] == 'True' else ', free'})":
                           r["value"] for r in measured}})


EXPERIMENT = lifecycle.Experiment(
    paper="pointer_networks", fields=rows.FIELDS, work=train_and_evaluate, workdir=workdir_for,
    validate=configs.validate, result_dir=lambda c: workdir_for(c) / f"test_n{c.n_test}",
    eval_keys=("n_test", "test_instances", "beam_width"), ignored_keys=("eval_batch_size",))

if __name__ == "__main__":
    lifecycle.main(EXPERIMENT, "papers/pointer_networks/configs.py:cpu")
