"""Train a Pointer Networks model, select it on validation, decode the test set, append the rows of its table.

    python -m papers.pointer_networks.train --config=papers/pointer_networks/configs.py:cpu --config.task=tsp

One run is one cell group of the paper's tables (Vinyals et al. 2015): a model ("LSTM", "+Attention",
"Ptr-Net") trained on n_min .. n_max points and tested at n_test. Training minimises the whole sequence's
negative log-likelihood (Sec. 2.1) with SGD and global gradient-norm clipping (Sec. 4.1); the checkpoint of
the lowest validation loss is kept. The test set is decoded twice:

* beam search of width `beam_width` (the paper's decoding, Sec. 2.1; the paper states no width): metrics
  named plainly, "accuracy", "tour_length", ..., beside the paper's values;
* greedy: the same metrics with " (greedy)".

Constraints on the search (`decoding.Constraints`): the TSP's beam search only considers valid tours
(Sec. 4.4), and so does its greedy decoding; "invalid_share (unconstrained greedy)" is the share of test
instances whose greedy output without that constraint is not a tour. Convex hulls never repeat a vertex
(no_repeats); Delaunay triangles share vertices, so only whole triangles are constrained.

Metrics (metrics.py): convex hull "accuracy" (the same polygon, any start and direction), "area_coverage"
(empty when more than 1% of the outputs are not simple polygons: the paper's FAIL) and "non_simple_share";
Delaunay "accuracy" (the same set of triangles) and "triangle_coverage"; TSP "tour_length". Values are
fractions (0.92, not 92%), as in paper_results.csv.

A run lives in runs/pointer_networks/<preset>/<task>/<model>-n<n_min>-<n_max>/seed<seed>/; its test
evaluation in test_n<n_test>/result.json there, so one trained model can be tested at several n (the
paper's 5-50 -> 500) without training again. The same command after a kill resumes; after a finished
evaluation it prints the result and writes nothing. A NaN loss ends the run as failed, with no row.
"""

import csv
import functools
import json
import math
import shutil
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
from papers.pointer_networks import configs, data, decoding, geometry, metrics
from papers.pointer_networks.model import AttentionLSTM, PointerNet, Seq2SeqLSTM, SequenceNLL, with_eos

PAPER = "pointer_networks"
RESULT_FILE = "result.json"
PAPER_RESULTS = Path(__file__).resolve().parent / "paper_results.csv"
MODEL_NAMES = {"lstm": "LSTM", "attention": "+Attention", "ptr_net": "Ptr-Net"}  # as in the paper's tables
EXPERIMENTS = {"convex_hull": "table1_convex_hull", "delaunay": "delaunay", "tsp": "table2_tsp",
               "tsp_a1": "table2_tsp", "tsp_a3": "table2_tsp"}
# Keys that only change the evaluation: a finished training run may be evaluated again with other values.
EVAL_KEYS = ("n_test", "test_instances", "beam_width", "eval_batch_size")
IGNORED_KEYS = ("verbose", "results_dir", "workdir", *EVAL_KEYS)


# --- names -------------------------------------------------------------------------------------------------

def train_sizes(config: ml_collections.ConfigDict) -> str:
    sizes = f"{config.n_min}" if config.n_min == config.n_max else f"{config.n_min}-{config.n_max}"
    if config.task.startswith("tsp_"):  # trained on a heuristic's tours, as the paper's n = 50 TSP models
        sizes += f" ({config.task[4:].upper()} tours)"
    return sizes


def variant_name(config: ml_collections.ConfigDict) -> str:
    """The model as the paper's tables name it, with the training and test n: `Ptr-Net n=5-50 -> 10`."""
    return f"{MODEL_NAMES[config.model]} n={train_sizes(config)} -> {config.n_test}"


def variant_slug(config: ml_collections.ConfigDict) -> str:
    return f"{config.model}-n{config.n_min}-{config.n_max}"


def workdir_for(config: ml_collections.ConfigDict) -> Path:
    default = f"runs/{PAPER}/{config.preset}/{config.task}/{variant_slug(config)}/seed{config.seed}"
    return Path(config.workdir or default)


def eval_dir_for(config: ml_collections.ConfigDict) -> Path:
    return workdir_for(config) / f"test_n{config.n_test}"


@functools.cache
def paper_values() -> dict[tuple[str, str, str], str]:
    """The paper's published numbers (kind = paper) by (experiment, variant, metric)."""
    with open(PAPER_RESULTS, newline="") as f:
        return {(r["experiment"], r["variant"], r["metric"]): r["value"] for r in csv.DictReader(f)
                if r["kind"] == "paper"}


def paper_value(experiment: str, variant: str, metric: str) -> str:
    return paper_values().get((experiment, variant, metric), "")


# --- data --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Split:
    """A training or validation split as the models read it: every instance padded to n_max points."""

    points: np.ndarray  # float32 (N, n_max, 2)
    targets: np.ndarray  # int32 (N, T): output classes, EOS after each sequence, then -1
    lengths: np.ndarray  # int32 (N,): the real number of points

    def inputs(self, mixed: bool) -> dict:
        inputs = {"points": self.points, "targets": self.targets}
        return {**inputs, "lengths": self.lengths} if mixed else inputs


def instance_counts(total: int, sizes: range) -> dict[int, int]:
    """`total` instances shared as evenly as possible among the sizes (the smaller sizes get the remainder)."""
    base, extra = divmod(total, len(sizes))
    return {n: base + (i < extra) for i, n in enumerate(sizes) if base + (i < extra) > 0}


def load_split(config: ml_collections.ConfigDict, split: str, n_instances: int, eos: int) -> Split:
    """The train or valid split: n uniform over n_min .. n_max, points padded to n_max, EOS class `eos`.

    Padding points are zeros, and `lengths` says where the real points end; with n_min == n_max there is
    no padding. The EOS class is the last output class at n_max points (model.eos_index(n_max)).
    """
    sizes = range(config.n_min, config.n_max + 1)
    parts = [data.load_or_generate(config.task, n, count, split, config.data_seed, config.data_dir)
             for n, count in instance_counts(n_instances, sizes).items()]
    targets = [with_eos(p.targets, eos) for p in parts]
    width = max(t.shape[1] for t in targets)
    points = np.zeros((n_instances, config.n_max, 2), dtype=np.float32)
    padded = np.full((n_instances, width), -1, dtype=np.int32)
    lengths = np.zeros(n_instances, dtype=np.int32)
    start = 0
    for part, target in zip(parts, targets, strict=True):
        count, n = part.points.shape[:2]
        points[start : start + count, :n] = part.points
        padded[start : start + count, : target.shape[1]] = target
        lengths[start : start + count] = n
        start += count
    return Split(points, padded, lengths)


def training_batches(split: Split, batch_size: int, seed: int, start_step: int, total_steps: int,
                     mixed: bool) -> tf.data.Dataset:
    """Batches for global steps start_step .. total_steps - 1, each a pure function of its step.

    Pass p over the training set visits it in a permutation drawn from (seed, p), so a resumed run sees
    the batches an uninterrupted run would have seen. A pass drops its last partial batch.
    """
    per_pass = len(split.points) // batch_size
    passes = max(1, math.ceil(total_steps / per_pass))
    order = np.concatenate([np.random.default_rng([seed, p]).permutation(len(split.points))[: per_pass * batch_size]
                            for p in range(passes)]).reshape(passes * per_pass, batch_size).astype(np.int32)
    arrays = {key: tf.constant(value) for key, value in split.inputs(mixed).items()}
    order = tf.constant(order)

    def batch(step):
        inputs = {key: tf.gather(value, order[step]) for key, value in arrays.items()}
        return inputs, inputs["targets"]

    dataset = tf.data.Dataset.range(start_step, total_steps)
    return dataset.map(batch, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def validation_batches(split: Split, batch_size: int, mixed: bool) -> tf.data.Dataset:
    inputs = split.inputs(mixed)
    return tf.data.Dataset.from_tensor_slices((inputs, split.targets)).batch(batch_size).cache()


def test_set(config: ml_collections.ConfigDict) -> tuple[np.ndarray, np.ndarray | None]:
    """The test points (N, n_test, 2) and, for the hull and Delaunay, their exact targets.

    The TSP's metrics need no labels, so its points are drawn directly from the data layer's test stream
    (the same points load_or_generate gives, for any n: Held-Karp's labels stop at n = 20).
    """
    if config.task.startswith("tsp"):
        seed = data.split_seed(config.data_seed, "test", config.n_test)
        return geometry.random_points(config.test_instances, config.n_test, seed), None
    test = data.load_or_generate(config.task, config.n_test, config.test_instances, "test", config.data_seed,
                                 config.data_dir)
    return test.points, test.targets


# --- model -------------------------------------------------------------------------------------------------

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
    optimizer = optimizer_class(learning_rate(config), **clip)
    model.compile(optimizer, SequenceNLL())
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


# --- evaluation --------------------------------------------------------------------------------------------

def decode(model, points: np.ndarray, constraints: decoding.Constraints, beam_width: int | None,
           batch_size: int) -> np.ndarray:
    """Greedy (beam_width None) or beam-search outputs for every test instance, in chunks of `batch_size`."""
    outputs = []
    for start in range(0, len(points), batch_size):
        chunk = points[start : start + batch_size]
        if beam_width is None:
            outputs.append(decoding.greedy_decode(model, chunk, constraints=constraints)[0])
        else:
            outputs.append(decoding.beam_search(model, chunk, beam_width, constraints=constraints)[0])
    return np.concatenate(outputs)


def task_metrics(task: str, points: np.ndarray, targets: np.ndarray | None, outputs: np.ndarray) -> dict:
    """The paper's metrics of one decoding of the test set, as fractions; area_coverage nan on FAIL."""
    if task == "convex_hull":
        coverage = metrics.hull_area_coverage(points, outputs)
        return {"accuracy": metrics.polygon_accuracy(outputs, targets),
                "area_coverage": math.nan if coverage.fail else coverage.coverage,
                "non_simple_share": coverage.non_simple_share}
    if task == "delaunay":
        return {"accuracy": metrics.triangulation_accuracy(outputs, targets),
                "triangle_coverage": metrics.triangle_coverage(outputs, targets)}
    tours = metrics.tour_metrics(points, outputs)
    return {"tour_length": tours.mean_length, "invalid_share": tours.invalid_share}


def evaluate(model, config: ml_collections.ConfigDict, points: np.ndarray, targets: np.ndarray | None) -> dict:
    """Every metric of the test set: beam search (plain names), greedy (" (greedy)"), TSP unconstrained."""
    task = "tsp" if config.task.startswith("tsp") else config.task
    constraints = decoding.Constraints.for_task(task, no_repeats=True)
    beam = decode(model, points, constraints, config.beam_width, config.eval_batch_size)
    greedy = decode(model, points, constraints, None, config.eval_batch_size)
    out = task_metrics(task, points, targets, beam)
    out.update({f"{k} (greedy)": v for k, v in task_metrics(task, points, targets, greedy).items()})
    if task == "tsp":  # the constrained searches only return tours: their invalid share is 0 by construction
        del out["invalid_share"], out["invalid_share (greedy)"]
        free = decode(model, points, decoding.Constraints(), None, config.eval_batch_size)
        out["invalid_share (unconstrained greedy)"] = task_metrics(task, points, None, free)["invalid_share"]
    return out


def format_metrics(values: dict) -> str:
    return ", ".join(f"{k} {'FAIL' if k.startswith('area_coverage') and math.isnan(v) else f'{v:.4f}'}"
                     for k, v in values.items())


# --- the run -----------------------------------------------------------------------------------------------

def finished_result(config: ml_collections.ConfigDict) -> dict | None:
    """The result of an evaluation that is already done, or None; refuses one made with other settings."""
    path = eval_dir_for(config) / RESULT_FILE
    if not path.exists():
        return None
    result = json.loads(path.read_text())
    changed = [k for k in ("test_instances", "beam_width") if result["config"].get(k) != config[k]]
    if changed:
        raise ConfigError(f"{path} holds the evaluation with other settings ("
                          + ", ".join(f"{k}={result['config'][k]!r}" for k in changed)
                          + f"); delete it (rm {path}) to evaluate again with the new ones.")
    return result


def run(config: ml_collections.ConfigDict) -> dict:
    """Trains (or resumes) one run, evaluates it on the test set and appends its result rows."""
    configs.validate(config)
    workdir, eval_dir = workdir_for(config), eval_dir_for(config)
    commit = results.git_commit()  # the code that runs now
    claim_workdir(workdir, config, ignored=IGNORED_KEYS)
    result = finished_result(config)
    if result is not None:
        print(f"{eval_dir} is finished: {variant_name(config)}: {format_metrics(result['metrics'])} "
              f"(nothing rerun).", flush=True)
        return result
    training.set_seed(config.seed, config.deterministic)
    strategy = training.make_strategy(config.distribute)
    mixed = config.n_min != config.n_max
    eos = config.n_max  # the last class at n_max points: Ptr-Net's EOS follows the (padded) points, and the
    # baselines' dictionary is 0 .. n_max - 1 and EOS (model.eos_index(n_max) for all three)

    valid = load_split(config, "valid", config.valid_instances, eos)
    train_split = functools.cache(lambda: load_split(config, "train", config.train_instances, eos))
    checkpoints = math.ceil(config.train_steps / config.steps_per_checkpoint)
    total_steps = checkpoints * config.steps_per_checkpoint
    passes = total_steps * config.batch_size / config.train_instances
    drops = step_boundaries(config.train_steps, config.lr_boundaries)
    print(f"{variant_name(config)} on {config.task}: {config.train_instances:,} training instances, "
          f"{total_steps:,} steps of {config.batch_size} ({passes:.2f} passes), lr {config.learning_rate:g}"
          f"{f' / 10 at steps {drops}' if drops else ''}, checkpoint every {config.steps_per_checkpoint}.", flush=True)

    fitted = training.fit(
        build_model=lambda: build_model(config),
        train_data=lambda epoch: training_batches(train_split(), config.batch_size, config.seed,
                                                  epoch * config.steps_per_checkpoint, total_steps, mixed),
        workdir=workdir,
        epochs=checkpoints,
        steps_per_epoch=config.steps_per_checkpoint,
        validation_data=validation_batches(valid, config.eval_batch_size, mixed),
        strategy=strategy,
        verbose=config.verbose,
        monitor="val_loss",
    )
    model = training.load_best_weights(fitted.model, workdir)
    started = time.time()
    points, targets = test_set(config)
    values = evaluate(model, config, points, targets)
    eval_seconds = time.time() - started
    best_val_loss = float(fitted.history["val_loss"].min()) if "val_loss" in fitted.history else math.nan
    print(f"best checkpoint {fitted.best_epoch} of {fitted.epochs} (valid loss {best_val_loss:.4f}); test "
          f"{variant_name(config)}, {config.test_instances} instances, beam {config.beam_width}: "
          f"{format_metrics(values)} ({eval_seconds:.0f} s)", flush=True)

    experiment, variant = EXPERIMENTS[config.task], variant_name(config)
    epochs = fitted.steps * config.batch_size / config.train_instances
    common = dict(commit=commit, experiment=experiment, variant=variant, preset=config.preset, seed=config.seed,
                  steps=fitted.steps, epochs=f"{epochs:.2f}", wall_seconds=f"{fitted.wall_seconds:.0f}")
    results.append_rows(PAPER, [
        {**common, "metric": metric, "value": "" if math.isnan(value) else f"{value:.4f}",
         "paper_value": paper_value(experiment, variant, metric)}
        for metric, value in values.items()
    ], config.results_dir or None)
    history_dir = Path(config.results_dir or results.RESULTS_DIR) / "histories" / PAPER
    history_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(workdir / training.HISTORY_FILE,
                    history_dir / f"{config.task}_{config.preset}_{variant_slug(config)}_seed{config.seed}.csv")
    result = {"variant": variant, "metrics": values, "best_val_loss": best_val_loss, "steps": fitted.steps,
              "best_epoch": fitted.best_epoch, "wall_seconds": fitted.wall_seconds, "eval_seconds": eval_seconds,
              "config": {k: config[k] for k in EVAL_KEYS}}
    eval_dir.mkdir(parents=True, exist_ok=True)
    training.atomic_write_text(eval_dir / RESULT_FILE, json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    run_with_config(run, "papers/pointer_networks/configs.py:cpu")
