"""Veit, Wilber & Belongie 2016's lesion study on a trained ResNet, with its plain twin as the control.

    python -m papers.depth_study.lesion --config=papers/depth_study/configs.py:cpu --config.lesion_arch=resnet56 \
        --config.seed=1
    python -m papers.depth_study.lesion --config=papers/depth_study/configs.py:cpu --config.lesion_arch=plain56 \
        --config.seed=1

Veit et al. (Sec. 4, Figs. 3 and 5) delete residual blocks of a trained ResNet at test time and find that deleting
any single block barely changes the CIFAR-10 error, except for the downsampling blocks, and that the error grows
smoothly with the number of deleted blocks: the network behaves like an ensemble of shallower paths. The control is
a net without shortcuts, where every path goes through every layer: they delete VGG's layers, we delete the same
blocks of the plain net that He et al. trained beside the ResNet (same layers, same recipe, no shortcut), which
isolates the shortcut.

One call lesions one trained net, `lesion_arch` (ResNet-56 and plain-56 at `cpu`, ResNet-110 and plain-110 at
`paper`; train.py's selected checkpoint, model.keras), so that each net's lesion can run as soon as that net is
trained. It gives the test error (percent) with
    - nothing deleted ("intact"; equals the run's test_error),
    - each single block deleted, the downsampling blocks (n + 1 and 2n + 1 of 3n, numbered from 1) marked,
    - k = 1 .. lesion_max_deleted blocks deleted at random from the blocks that do not downsample, lesion_draws sets
      per k, drawn from lesion_seed; the draws depend only on the depth and lesion_seed, so a ResNet and its plain
      twin lose the same sets.
A deleted block outputs its shortcut s(x) (`model.lesioned`, Veit's "only the skip connection"); here one traced
function takes the set of kept blocks as an input (`lesion_function`, equal to `model.lesioned`, tested), so the
hundreds of lesions share one trace.

Rows: results/depth_study.csv, experiment "<dataset>_lesion", variant the net ("ResNet-56 (w=8)", "plain-56 (w=8)"),
metrics "test_error (intact)", "test_error (block 10 deleted, downsampling)", "test_error (3 random blocks deleted)"
(the mean over the draws) and "test_error std (3 random blocks deleted)". The lesion keeps its result.json in
runs/depth_study/<scale>/lesion/<lesion_arch>/seed<seed>/ (or --config.workdir); a second call prints it and does
nothing. The trained run is read from its default place (train.workdir_for), and a missing one is an error that
names the make target that trains it.
"""

import json
import re
import time
from pathlib import Path

import ml_collections
import numpy as np
import tensorflow as tf

from common import results, training
from common.cli import run_with_config
from common.config import ConfigError, claim_workdir
from papers.depth_study import configs, train
from papers.depth_study import data as D

RESULT_FILE = "result.json"
IGNORED_KEYS = ("verbose", "results_dir", "workdir", "data_dir", "eval_batch_size", "arch")


def lesion_dir(config: ml_collections.ConfigDict) -> Path:
    default = f"runs/{train.PAPER}/{configs.scale(config)}/lesion/{config.lesion_arch}/seed{config.seed}"
    return Path(config.workdir or default)


def twin(config: ml_collections.ConfigDict, arch: str) -> ml_collections.ConfigDict:
    """The config of the trained run of `arch` (same preset, seed and recipe) at its default place."""
    other = ml_collections.ConfigDict(config.to_dict())
    other.arch, other.workdir = arch, ""
    return other


def lesion_function(model):
    """logits(x, keep): `model` with the blocks whose `keep` entry is False replaced by their shortcut s(x), in
    inference mode; `keep` is a bool tensor (number of blocks,), so every lesion set runs through one trace."""
    @tf.function(reduce_retracing=True)
    def logits(x, keep):
        h = model.stem(x, training=False)
        for i, block in enumerate(model.blocks):
            h = tf.cond(keep[i], lambda h=h, block=block: block(h, training=False),
                        lambda h=h, block=block: block.shortcut(h))
        return model.head(h)

    return logits


def test_batches(prepared: train.Prepared, batch_size: int) -> list[tuple[tf.Tensor, np.ndarray]]:
    """The standardised test set in memory, as (images, labels) batches."""
    return [(x, y.numpy()) for x, y in D.eval_dataset(prepared.test, batch_size, prepared.standardize)]


def error_with(logits, batches, n_blocks: int, deleted) -> float:
    keep = np.ones(n_blocks, dtype=bool)
    keep[list(deleted)] = False
    keep = tf.constant(keep)
    wrong = total = 0
    for x, y in batches:
        wrong += int(np.sum(np.argmax(logits(x, keep).numpy(), axis=-1) != y))
        total += len(y)
    return 100.0 * wrong / total


def random_sets(candidates: list[int], max_deleted: int, draws: int, seed: int) -> dict[int, list[list[int]]]:
    """k -> `draws` sets of k distinct blocks from `candidates`, k = 1 .. min(max_deleted, len(candidates))."""
    rng = np.random.default_rng(seed)
    return {k: [sorted(int(i) for i in rng.choice(candidates, k, replace=False)) for _ in range(draws)]
            for k in range(1, min(max_deleted, len(candidates)) + 1)}


def lesion_network(model, batches, sets: dict[int, list[list[int]]]) -> dict:
    """The intact error, the error with each single block deleted, and the errors of the random sets."""
    logits, n = lesion_function(model), len(model.blocks)
    return {"intact": error_with(logits, batches, n, []),
            "single": [error_with(logits, batches, n, [i]) for i in range(n)],
            "random": {k: [error_with(logits, batches, n, s) for s in draws] for k, draws in sets.items()}}


def metric_rows(errors: dict, downsampling: list[int]) -> dict[str, float]:
    """Row metrics of one net (module docstring); blocks numbered from 1."""
    out = {"test_error (intact)": errors["intact"]}
    for i, value in enumerate(errors["single"]):
        out[f"test_error (block {i + 1} deleted{', downsampling' if i in downsampling else ''})"] = value
    for k, values in errors["random"].items():
        what = f"{k} random block{'s' if k > 1 else ''} deleted"
        out[f"test_error ({what})"] = float(np.mean(values))
        out[f"test_error std ({what})"] = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    return out


def run(config: ml_collections.ConfigDict) -> dict:
    configs.validate(config)
    if not re.fullmatch(r"(resnet|plain)\d+", config.lesion_arch) or configs.preset_family(config.preset) != "resnet":
        raise ConfigError(f"the lesion study deletes blocks of a ResNet or of its plain twin (the control), trained "
                          f"with a ResNet preset (paper, cpu, smoke); got preset {config.preset!r} and "
                          f"config.lesion_arch={config.lesion_arch!r}, use e.g. "
                          f"--config=papers/depth_study/configs.py:cpu --config.lesion_arch=resnet56 (or plain56)")
    net = twin(config, config.lesion_arch)
    configs.validate(net)  # a valid depth (6n + 2)
    workdir = lesion_dir(config)
    path = workdir / RESULT_FILE
    if path.exists():
        claim_workdir(workdir, config, ignored=IGNORED_KEYS)
        result = json.loads(path.read_text())
        print(f"{path} is finished (nothing rerun): {result['variant']} intact error {result['intact']:.2f}%, "
              f"downsampling blocks {result['downsampling_blocks']}.", flush=True)
        return result
    commit = results.git_commit()
    model = train.load_selected(net)  # a missing run: the error says how to make it
    trained = json.loads((train.workdir_for(net) / train.RESULT_FILE).read_text())
    claim_workdir(workdir, config, ignored=IGNORED_KEYS)
    training.set_seed(config.seed, config.deterministic)
    started = time.time()
    prepared = train.prepare_data(config)
    batches = test_batches(prepared, config.eval_batch_size)
    downsampling = [i for i, b in enumerate(model.blocks) if b.downsamples]
    sets = random_sets([i for i in range(len(model.blocks)) if i not in downsampling], config.lesion_max_deleted,
                       config.lesion_draws, config.lesion_seed)
    errors = lesion_network(model, batches, sets)
    seconds = time.time() - started
    print(f"{trained['variant']}: intact {errors['intact']:.2f}% (its run: {trained['metrics']['test_error']:.2f}%), "
          f"one block deleted: " + ", ".join(f"{e:.1f}" for e in errors["single"]), flush=True)

    common = dict(commit=commit, experiment=f"{config.dataset}_lesion", variant=train.variant_name(net),
                  preset=configs.scale(config), seed=config.seed, steps=trained["steps"],
                  wall_seconds=f"{seconds:.0f}", paper_value="")
    rows = [{**common, "metric": metric, "value": f"{value:.2f}"}
            for metric, value in metric_rows(errors, downsampling).items()]
    results.append_rows(train.PAPER, rows, config.results_dir or None)
    result = {"variant": train.variant_name(net), "intact": errors["intact"],
              "downsampling_blocks": [i + 1 for i in downsampling],
              "random_sets": {str(k): v for k, v in sets.items()},
              "errors": {**errors, "random": {str(k): v for k, v in errors["random"].items()}},
              "seconds": seconds}
    workdir.mkdir(parents=True, exist_ok=True)
    training.atomic_write_text(path, json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    run_with_config(run, "papers/depth_study/configs.py:cpu")
