"""Train char-rnn, select on validation, report test bits per character into results/char_rnn.csv.

    python -m papers.char_rnn.train --config=papers/char_rnn/configs.py:cpu --config.seed=2

The same command after a kill resumes from the last checkpoint; after a finished run it prints the
result and writes nothing. A NaN loss ends the run as failed, with no result row.
"""

import json
import math
import shutil
from pathlib import Path

import ml_collections

from common import results, training
from common.cli import run_with_config
from common.config import claim_workdir
from papers.char_rnn import configs, data
from papers.char_rnn.evaluate import CarriedStateValidation, bits_per_character
from papers.char_rnn.model import build_char_rnn

PAPER = "char_rnn"
RESULT_FILE = "result.json"


def variant_name(config: ml_collections.ConfigDict) -> str:
    """The model as the result tables name it, e.g. `LSTM 2x128` or `LSTM 2x128, zero-state windows`."""
    name = f"LSTM {config.num_layers}x{config.rnn_size}"
    if config.dropout:
        name += f", dropout {config.dropout:g}"
    return name if config.carry_state else f"{name}, zero-state windows"


def variant_slug(config: ml_collections.ConfigDict) -> str:
    return variant_name(config).lower().replace(", ", "-").replace(" ", "")


def workdir_for(config: ml_collections.ConfigDict) -> Path:
    return Path(config.workdir or f"runs/{PAPER}/{config.preset}/{variant_slug(config)}/seed{config.seed}")


def training_batches(config, train_ids, start_step: int, total_steps: int):
    """char-rnn's contiguous streams with the state carried, or the zero-state ablation's shuffled windows."""
    if config.carry_state:
        return data.stream_batches(train_ids, config.seq_length, config.batch_size, start_step, total_steps)
    return data.shuffled_window_batches(train_ids, config.seq_length, config.batch_size, config.seed,
                                        start_step, total_steps)


def run(config: ml_collections.ConfigDict) -> dict:
    """Trains (or resumes) one run and appends its result rows; returns the result."""
    configs.validate(config)
    workdir = workdir_for(config)
    if (workdir / RESULT_FILE).exists():
        result = json.loads((workdir / RESULT_FILE).read_text())
        print(f"{workdir} is finished: test {result['test_bpc']:.3f} bits per character (nothing rerun).")
        return result
    claim_workdir(workdir, config, ignored=("verbose", "results_dir"))
    commit = results.git_commit()  # the code that runs now
    training.set_seed(config.seed, config.deterministic)
    strategy = training.make_strategy(config.distribute)

    corpus = data.load_corpus(config)
    vocab = data.Vocabulary.from_corpus(corpus)
    vocab.save(workdir / "vocab.json")
    train_ids, valid_ids, test_ids = (vocab.encode(t) for t in (corpus.train, corpus.valid, corpus.test))
    per_pass = data.steps_per_pass(train_ids, config.seq_length, config.batch_size)
    checkpoints = max(1, math.ceil(config.max_epochs * per_pass / config.steps_per_checkpoint))
    total_steps = checkpoints * config.steps_per_checkpoint
    print(f"{corpus.source}: {len(train_ids):,} / {len(valid_ids):,} / {len(test_ids):,} characters "
          f"(train / valid / test), vocabulary {len(vocab)}; {total_steps:,} steps = "
          f"{total_steps / per_pass:.2f} passes, checkpoint every {config.steps_per_checkpoint}.", flush=True)

    fitted = training.fit(
        build_model=lambda: build_char_rnn(config, len(vocab), per_pass),
        train_data=lambda epoch: training_batches(config, train_ids, epoch * config.steps_per_checkpoint,
                                                  total_steps),
        workdir=workdir,
        epochs=checkpoints,
        steps_per_epoch=config.steps_per_checkpoint,
        validation_data=data.validation_batches(valid_ids, config.seq_length, config.eval_batch_size),
        strategy=strategy,
        verbose=config.verbose,
        monitor="val_carried_bpc",
        callbacks=[CarriedStateValidation(valid_ids, config.eval_streams, config.eval_chunk)],
    )
    model = training.load_best_weights(fitted.model, workdir)
    valid_bpc, _ = bits_per_character(model, valid_ids, config.eval_streams, config.eval_chunk)
    test_bpc, scored = bits_per_character(model, test_ids, config.eval_streams, config.eval_chunk)
    print(f"best checkpoint {fitted.best_epoch} of {fitted.epochs}: valid {valid_bpc:.3f}, "
          f"test {test_bpc:.3f} bits per character ({scored:,} test characters)", flush=True)

    common = dict(commit=commit, experiment=config.dataset, variant=variant_name(config), preset=config.preset,
                  paper_value="", seed=config.seed, steps=fitted.steps,
                  epochs=f"{fitted.steps / per_pass:.2f}", wall_seconds=f"{fitted.wall_seconds:.0f}")
    results.append_rows(PAPER, [
        {**common, "metric": "valid_bpc", "value": f"{valid_bpc:.4f}"},
        {**common, "metric": "test_bpc", "value": f"{test_bpc:.4f}"},
    ], config.results_dir or None)
    history_dir = Path(config.results_dir or results.RESULTS_DIR) / "histories" / PAPER
    history_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(workdir / training.HISTORY_FILE,
                    history_dir / f"{config.dataset}_{config.preset}_{variant_slug(config)}_seed{config.seed}.csv")
    result = {"valid_bpc": valid_bpc, "test_bpc": test_bpc, "steps": fitted.steps,
              "best_epoch": fitted.best_epoch, "wall_seconds": fitted.wall_seconds}
    training.atomic_write_text(workdir / RESULT_FILE, json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    run_with_config(run, "papers/char_rnn/configs.py:cpu")
