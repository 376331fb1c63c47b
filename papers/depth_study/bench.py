"""Training throughput of the depth study's nets, and the share of the step time spent waiting on the input pipeline.

    python -m papers.depth_study.bench [--steps=20] [--rounds=3] [--archs=resnet20,resnet56,plain56,densenet40]
                                       [--paper_shapes] [--out=CSV]

Each net is built and compiled exactly as train.py does at the `cpu` preset's shapes (Fashion-MNIST 28 x 28 x 1,
ResNets of width 8 with batches of 128, DenseNet-40 with k = 6 and batches of 64; `--paper_shapes` adds CIFAR-10's
32 x 32 x 3 at the papers' width 16, k = 12) and trained on two inputs:

* the real pipeline: data.train_batches (a permutation per pass, per-image standardisation, pad-4 crops and flips)
  over 55,000 images (random pixels of the real shape: the pipeline's cost does not depend on what they show);
* one of its batches held in memory and repeated (`Dataset.from_tensors(batch).repeat()`): the step without input.

input_wait_share = 1 - (images/s on the real pipeline) / (images/s on the repeated batch): the part of a training
step that waits on the input (about 0 when the pipeline keeps up; it can come out slightly negative by noise).
`pipeline_images_per_second` is the pipeline alone, iterated without training. Every net and input trains back to
back in each of several rounds after a warm-up; medians over rounds damp a shared machine's drift.
Rates are timed inside one `fit` after two warm-up steps (tf.data's start-up, paid once per run, is left out;
common/bench.py).
`estimated_run_minutes` = the preset's train_steps at the real pipeline's rate (validation passes not included):
the number to size CPU_SIZING in configs.py with (on a quiet machine).

Written to results/bench/depth_study.csv. Absolute numbers drift on shared machines; compare ratios.
"""

import functools
import time

import numpy as np
import tensorflow as tf
from absl import app, flags

from common import bench
from papers.depth_study import configs, data, train
from papers.depth_study.model import count_params
from papers.depth_study.rows import net_fields, variant

_FLAGS = bench.define_flags(steps=20, rounds=3)
flags.adopt_module_key_flags(bench)
_ARCHS = flags.DEFINE_list("archs", ["resnet20", "resnet56", "plain56", "densenet40"], "Nets to time.")
_PAPER = flags.DEFINE_bool("paper_shapes", False, "Also time the paper presets' shapes (CIFAR-10, width 16, k 12).")
_IMAGES = flags.DEFINE_integer("train_images", 55_000, "Training images in the synthetic split.")

SHAPES = {"cpu": (28, 28, 1), "paper": (32, 32, 3)}


def bench_config(scale: str, arch: str):
    return configs.get_config(f"{scale},{arch}")  # the arch's paper's recipe at that preset


def synthetic_split(n: int, shape, seed: int = 0) -> data.Split:
    rng = np.random.default_rng(seed)
    return data.Split(rng.integers(0, 256, (n, *shape), dtype=np.uint8), rng.integers(0, 10, n).astype(np.int32))


def pipeline_images_per_second(dataset, steps: int, batch: int) -> float:
    iterator = iter(dataset)
    next(iterator)
    start = time.perf_counter()
    for _ in range(steps):
        next(iterator)
    return steps * batch / (time.perf_counter() - start)


def bench_rows(scale: str, archs, steps: int, rounds: int, n_images: int) -> list[dict]:
    split = synthetic_split(n_images, SHAPES[scale])
    subjects, measures = {}, {}
    for arch in archs:
        config = bench_config(scale, arch)
        configs.validate(config)
        standardize = data.Standardize.fit(config.normalization, split.images[:5_000])
        real = data.train_batches(split, config.batch_size, config.seed, 0, config.augment, standardize)
        cached = tf.data.Dataset.from_tensors(next(iter(real))).repeat()
        model = train.build_model(config, SHAPES[scale])
        name = variant(net_fields(config))
        subjects[name] = (config, model)
        measures[name, "real"] = bench.training_measure(model, real, config.batch_size)
        measures[name, "cached"] = bench.training_measure(model, cached, config.batch_size)
        measures[name, "pipeline"] = functools.partial(pipeline_images_per_second, real, batch=config.batch_size)
    rates = bench.median_rates(measures, steps, rounds)
    rows = []
    for name, (config, model) in subjects.items():
        real, cached, pipeline = (rates[name, k] for k in ("real", "cached", "pipeline"))
        rows.append({"benchmark": f"training, {scale} shapes {'x'.join(map(str, SHAPES[scale]))}", "subject": name,
                     "batch_size": config.batch_size, "params": count_params(model),
                     "images_per_second": real, "images_per_second_cached_batch": cached,
                     "input_wait_share": 1.0 - real / cached, "pipeline_images_per_second": pipeline,
                     "estimated_run_minutes": config.train_steps * config.batch_size / real / 60})
    return rows


def main(argv):
    del argv
    steps, rounds = _FLAGS.steps.value, _FLAGS.rounds.value
    rows = bench_rows("cpu", _ARCHS.value, steps, rounds, _IMAGES.value)
    if _PAPER.value:
        rows += bench_rows("paper", _ARCHS.value, steps, rounds, _IMAGES.value)
    bench.report(rows, "depth_study", ["benchmark", "subject", "images_per_second", "images_per_second_cached_batch",
                                       "input_wait_share", "pipeline_images_per_second", "estimated_run_minutes"],
                 _FLAGS.out.value)


if __name__ == "__main__":
    app.run(main)
