"""Train an LSTM or a BN-LSTM on a pixel task or on characters, select on validation, report the test measures into
results/recurrent_batch_norm.csv: with the paper's per-step population statistics, and for a BN-LSTM also with the
ablation's shared and batch statistics; characters also on test sequences 10x longer than trained.

    python -m papers.recurrent_batch_norm.train --config=papers/recurrent_batch_norm/configs.py:cpu,pixels_permuted,lstm

The run lifecycle (resume, a finished run prints its result, a NaN loss writes nothing) is common/lifecycle.py's.
"""

import math
from pathlib import Path

import ml_collections

from common import lifecycle, training
from papers.recurrent_batch_norm import configs, data, evaluate, model, rows


def workdir_for(config: ml_collections.ConfigDict) -> Path:
    name = config.model + (f"-gamma{config.gamma_init:g}" if config.model == "bn_lstm" and config.gamma_init != 0.1
                           else "")
    return Path(config.workdir or f"runs/recurrent_batch_norm/{config.preset}/{config.task}/{name}/seed{config.seed}")


def train_and_evaluate(config: ml_collections.ConfigDict, run: lifecycle.Run) -> lifecycle.Outcome:
    chars = config.task == "chars"
    if chars:
        splits, vocab = data.char_splits(config)
        build = lambda: model.build(config, config.seq_length, len(vocab))  # noqa: E731
        metric, plausible = "bpc", lifecycle.implausible_loss(len(vocab), 1)
    else:
        splits = data.pixel_splits(config)
        build = lambda: model.build(config, config.image_size**2)  # noqa: E731
        metric, plausible = "accuracy", lifecycle.implausible_loss(10, 1)
    checkpoints = math.ceil(config.train_steps / config.steps_per_checkpoint)
    total_steps = checkpoints * config.steps_per_checkpoint
    per_pass = len(splits["train"]) // config.batch_size
    print(f"{config.task}: {len(splits['train']):,} / {len(splits['valid']):,} / {len(splits['test']):,} sequences "
          f"of {splits['train'].inputs.shape[1]} steps (train / valid / test); {total_steps:,} steps = "
          f"{total_steps / per_pass:.1f} epochs.", flush=True)
    def validate(net):
        """The validation number selection uses, measured as the test number is: population statistics
        re-estimated under the checkpoint's weights first (they are saved with it)."""
        evaluate.reestimate_population(net, splits["train"], config.batch_size, config.population_batches)
        value = evaluate.measure(net, splits["valid"], config.eval_batch_size)
        return value if chars else 100.0 - value

    monitor = "val_bpc" if chars else "val_error"  # lower is better; error = 100 - accuracy (%)
    fitted = run.fit(
        build_model=build,
        train_data=lambda k: data.training_batches(splits["train"], config.batch_size, config.seed,
                                                   k * config.steps_per_checkpoint, total_steps),
        checkpoints=checkpoints, steps_per_checkpoint=config.steps_per_checkpoint, monitor=monitor,
        callbacks=[training.CheckpointMetric(monitor, validate)], max_loss=plausible)
    best = run.best_model()
    measured = {"valid": evaluate.measure(best, splits["valid"], config.eval_batch_size),
                "test": evaluate.measure(best, splits["test"], config.eval_batch_size)}
    length = config.seq_length if chars else 0
    out = [{**rows.model_fields(config, test_length=length), "metric": f"{split}_{metric}", "value": f"{value:.4f}"}
           for split, value in measured.items()]
    if chars:  # the paper's Fig. 5b: test sequences longer than any in training, the last step's statistics reused
        long_test = data.char_sequences(splits["test"].inputs.reshape(-1), config.long_length)
        value = evaluate.measure(best, long_test, max(1, config.eval_batch_size // 10))
        measured[f"test, length {config.long_length}"] = value
        out.append({**rows.model_fields(config, test_length=config.long_length), "metric": f"test_{metric}",
                    "value": f"{value:.4f}"})
    if config.model == "bn_lstm":
        for statistics, value in evaluate.statistics_ablation(best, splits["test"], config.eval_batch_size).items():
            measured[f"test, {statistics} statistics"] = value
            out.append({**rows.model_fields(config, statistics, length), "metric": f"test_{metric}",
                        "value": f"{value:.4f}"})
    for row in out:
        row.update(experiment=config.dataset, variant=rows.variant(row))
    name = rows.variant(rows.model_fields(config))
    return lifecycle.Outcome(
        rows=out, summary=f"{config.task}, {name}, best checkpoint {fitted.best_checkpoint} of {fitted.checkpoints}: "
                          + ", ".join(f"{k} {v:.4f}" for k, v in measured.items()) + f" ({metric})",
        epochs=f"{fitted.steps / per_pass:.2f}", facts={metric: measured})


EXPERIMENT = lifecycle.Experiment(paper="recurrent_batch_norm", fields=rows.FIELDS, work=train_and_evaluate,
                                  workdir=workdir_for, validate=configs.validate)

if __name__ == "__main__":
    lifecycle.main(EXPERIMENT, "papers/recurrent_batch_norm/configs.py:cpu")
