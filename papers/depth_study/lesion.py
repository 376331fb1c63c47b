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
`paper`; train.py's run, its checkpoint selected on validation), so that each net's lesion can run as soon as that
net is trained. It gives the test error (percent) with
    - nothing deleted ("intact"; equals the run's test_error),
    - each single block deleted, the downsampling blocks (n + 1 and 2n + 1 of 3n, numbered from 1) marked,
    - k = 1 .. lesion_max_deleted blocks deleted at random from the blocks that do not downsample, lesion_draws sets
      per k, drawn from lesion_seed; the draws depend only on the depth and lesion_seed, so a ResNet and its plain
      twin lose the same sets.
A deleted block outputs its shortcut s(x) (block_lesion.py, Veit's "only the skip connection"); the set of kept
blocks is an input of one compiled function (`lesion_function`), so the hundreds of lesions share one trace.

Rows: results/depth_study.csv, experiment "<dataset>_lesion", the trained net's fields (rows.py) and its training
steps, the lesion in the fields lesion, deleted and downsampling (rows.lesion_fields), metric "test_error" (for
random blocks the mean over the draws, and "test_error_std"). The lesion lives in
runs/depth_study/<preset>/lesion/<lesion_arch>/seed<seed>/ (or --config.workdir) and goes through the run lifecycle
(common/lifecycle.py) without training. The trained run is read from its default place (train.workdir_for); a
missing one is an error that names the make target that trains it.
"""

import json
import re
from pathlib import Path

import ml_collections
import numpy as np

from common import checkpoints, lifecycle
from common.config import ConfigError
from papers.depth_study import configs, data, rows, train
from papers.depth_study.block_lesion import LesionView
from papers.depth_study.evaluate import cached_test_batches, error_rate


def lesion_dir(config: ml_collections.ConfigDict) -> Path:
    return Path(config.workdir or f"runs/depth_study/{config.preset}/lesion/{config.lesion_arch}/seed{config.seed}")


def trained_config(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """The config of the trained run of `lesion_arch` (same preset, seed and recipe) at its default place."""
    net = ml_collections.ConfigDict(config.to_dict())
    net.arch, net.workdir = config.lesion_arch, ""
    return net


def train_command(net: ml_collections.ConfigDict) -> str:
    make = f"make {train.workdir_for(net) / lifecycle.RESULT_FILE}, or " if net.preset in ("cpu", "paper") else ""
    return (f"{make}python -m papers.depth_study.train --config=papers/depth_study/configs.py:{net.preset},{net.arch} "
            f"--config.seed={net.seed}")


def check_trained(net: ml_collections.ConfigDict) -> None:
    """Refuses a lesion of a net whose training run is not finished, or was made with another config."""
    workdir = train.workdir_for(net)
    if not (workdir / lifecycle.RESULT_FILE).exists():
        raise checkpoints.RunStateError(f"no finished training run of {net.arch} (seed {net.seed}) in {workdir}; "
                                        f"train it first: {train_command(net)}")
    lifecycle.check_workdir(train.EXPERIMENT, net, workdir)  # the net that the rows name


def validate(config: ml_collections.ConfigDict) -> None:
    """The config's checks, a ResNet or plain net to lesion, and its finished training run (before anything is
    written)."""
    configs.validate(config)
    if not re.fullmatch(r"(resnet|plain)\d+", config.lesion_arch) or config.recipe != "resnet":
        raise ConfigError(f"the lesion study deletes blocks of a ResNet or of its plain twin (the control), trained "
                          f"with He et al.'s recipe; got config.recipe={config.recipe!r} and config.lesion_arch="
                          f"{config.lesion_arch!r}, use e.g. --config=papers/depth_study/configs.py:{config.preset} "
                          f"--config.lesion_arch=resnet56 (or plain56)")
    net = trained_config(config)
    configs.validate(net)  # a valid depth (6n + 2)
    check_trained(net)


def lesion_function(model):
    """logits(x, keep) as numpy: `model` with the blocks whose `keep` entry is False replaced by their shortcut
    s(x), in inference mode (`block_lesion.lesion_logits`); `keep` is a bool array (number of blocks,), an input of
    the view's one compiled predict step, so every lesion set runs through one trace."""
    view = LesionView(model)
    return lambda x, keep: view.predict_on_batch((x, keep))


def error_with(logits, batches, n_blocks: int, deleted) -> float:
    """The test error in percent with the blocks `deleted` (0-based) replaced by their shortcut."""
    keep = np.ones(n_blocks, dtype=bool)
    keep[list(deleted)] = False
    return error_rate(lambda x: logits(x, keep), batches)


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


def metric_rows(errors: dict, downsampling: list[int]) -> list[dict]:
    """The lesion fields, metric and value of each row (module docstring); blocks numbered from 1."""
    out = [{**rows.lesion_fields("intact"), "metric": "test_error", "value": errors["intact"]}]
    for i, value in enumerate(errors["single"]):
        out.append({**rows.lesion_fields("one block", i + 1, i in downsampling), "metric": "test_error",
                    "value": value})
    for k, values in errors["random"].items():
        std = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
        out += [{**rows.lesion_fields("random blocks", k), "metric": "test_error", "value": float(np.mean(values))},
                {**rows.lesion_fields("random blocks", k), "metric": "test_error_std", "value": std}]
    return out


def lesion(config: ml_collections.ConfigDict, run: lifecycle.Run) -> lifecycle.Outcome:
    """Every lesion of the trained `lesion_arch` on the test set: one row each."""
    net = trained_config(config)  # finished: validate checked it
    model = checkpoints.load_selected(train.workdir_for(net), train_command(net))
    trained = json.loads((train.workdir_for(net) / lifecycle.RESULT_FILE).read_text())
    prepared = data.prepare_data(config)
    batches = cached_test_batches(prepared, config.eval_batch_size)
    downsampling = [i for i, b in enumerate(model.blocks) if b.downsamples]
    sets = random_sets([i for i in range(len(model.blocks)) if i not in downsampling], config.lesion_max_deleted,
                       config.lesion_draws, config.lesion_seed)
    errors = lesion_network(model, batches, sets)

    fields = rows.net_fields(net)
    row = dict(experiment=f"{config.dataset}_lesion", variant=rows.variant(fields), **fields, steps=trained["steps"])
    return lifecycle.Outcome(
        rows=[{**row, **r, "value": f"{r['value']:.2f}"} for r in metric_rows(errors, downsampling)],
        summary=f"{row['variant']}: intact {errors['intact']:.2f}% (its run: "
                f"{trained['metrics']['test_error']:.2f}%), one block deleted: "
                + ", ".join(f"{e:.1f}" for e in errors["single"]) + "%",
        epochs=f"{trained['steps'] * config.batch_size / len(prepared.train):.2f}",  # the trained net's
        facts={"variant": row["variant"], "intact": errors["intact"],
               "downsampling_blocks": [i + 1 for i in downsampling],
               "random_sets": {str(k): v for k, v in sets.items()},
               "errors": {**errors, "random": {str(k): v for k, v in errors["random"].items()}}})


EXPERIMENT = lifecycle.Experiment(
    paper="depth_study", fields=rows.FIELDS, work=lesion, workdir=lesion_dir, validate=validate,
    # The lesion's net is lesion_arch; arch, where the data lie and the evaluation batch change nothing here.
    ignored_keys=("arch", "data_dir", "eval_batch_size"))

if __name__ == "__main__":
    lifecycle.main(EXPERIMENT, "papers/depth_study/configs.py:cpu")
