"""Train char-rnn, select on validation, report test bits per character into results/char_rnn.csv.

    python -m papers.char_rnn.train --config=papers/char_rnn/configs.py:cpu --config.seed=2

The run lifecycle (resume after a kill, a finished run prints its result, a NaN loss writes nothing) is
common/lifecycle.py's; this file says what is char-rnn's: data → model → fit → evaluate → rows.
"""

import math
from pathlib import Path

import ml_collections

from common import lifecycle, streams, training
from common.characters import Vocabulary
from papers.char_rnn import configs, data, rows
from papers.char_rnn.evaluate import bits_per_character
from papers.char_rnn.model import build_char_rnn


def workdir_for(config: ml_collections.ConfigDict) -> Path:
    slug = rows.variant(rows.lstm_fields(config)).lower().replace(", ", "-").replace(" ", "")
    return Path(config.workdir or f"runs/char_rnn/{config.preset}/{slug}/seed{config.seed}")


def training_batches(config, train_ids, start_step: int, total_steps: int):
    """char-rnn's contiguous streams with the state carried, or the zero-state ablation's shuffled windows."""
    if config.carry_state:
        return streams.stream_batches(train_ids, config.seq_length, config.batch_size, start_step, total_steps)
    return data.shuffled_window_batches(train_ids, config.seq_length, config.batch_size, config.seed,
                                        start_step, total_steps)


def train_and_evaluate(config: ml_collections.ConfigDict, run: lifecycle.Run) -> lifecycle.Outcome:
    corpus = data.load_corpus(config)
    vocab = Vocabulary(corpus.train + corpus.valid + corpus.test)
    vocab.save(run.workdir / "vocab.json")
    train_ids, valid_ids, test_ids = (vocab.encode(t) for t in (corpus.train, corpus.valid, corpus.test))
    per_pass = streams.steps_per_pass(train_ids, config.seq_length, config.batch_size)
    wanted = max(1, round(config.max_epochs * per_pass))
    checkpoints = math.ceil(wanted / config.steps_per_checkpoint)
    steps_per_checkpoint = math.ceil(wanted / checkpoints)  # at most config.steps_per_checkpoint, evenly
    total_steps = checkpoints * steps_per_checkpoint
    print(f"{corpus.source}: {len(train_ids):,} / {len(valid_ids):,} / {len(test_ids):,} characters "
          f"(train / valid / test), vocabulary {len(vocab)}; {total_steps:,} steps = "
          f"{total_steps / per_pass:.2f} epochs, a checkpoint every {steps_per_checkpoint}.", flush=True)

    fitted = run.fit(
        build_model=lambda: build_char_rnn(config, len(vocab), per_pass),
        train_data=lambda k: training_batches(config, train_ids, k * steps_per_checkpoint, total_steps),
        checkpoints=checkpoints,
        steps_per_checkpoint=steps_per_checkpoint,
        validation_data=data.validation_batches(valid_ids, config.seq_length, config.eval_batch_size),
        monitor="val_carried_bpc",
        callbacks=[training.CheckpointMetric("val_carried_bpc", lambda model: bits_per_character(
            model, valid_ids, config.eval_streams, config.eval_chunk)[0])],  # as the test number is measured
        max_loss=lifecycle.implausible_loss(len(vocab), config.seq_length),
    )
    model = run.best_model()
    valid_bpc, _ = bits_per_character(model, valid_ids, config.eval_streams, config.eval_chunk)
    test_bpc, scored = bits_per_character(model, test_ids, config.eval_streams, config.eval_chunk)

    fields = rows.lstm_fields(config)
    row = dict(experiment=config.dataset, variant=rows.variant(fields), **fields)
    return lifecycle.Outcome(
        rows=[{**row, "metric": "valid_bpc", "value": f"{valid_bpc:.4f}"},
              {**row, "metric": "test_bpc", "value": f"{test_bpc:.4f}"}],
        summary=f"{row['variant']}, best checkpoint {fitted.best_checkpoint} of {fitted.checkpoints}: valid "
                f"{valid_bpc:.3f}, test {test_bpc:.3f} bits per character ({scored:,} test characters)",
        epochs=f"{fitted.steps / per_pass:.2f}", facts={"metrics": {"valid_bpc": valid_bpc, "test_bpc": test_bpc}})


EXPERIMENT = lifecycle.Experiment(paper="char_rnn", fields=rows.FIELDS, work=train_and_evaluate,
                                  workdir=workdir_for, validate=configs.validate)

if __name__ == "__main__":
    lifecycle.main(EXPERIMENT, "papers/char_rnn/configs.py:cpu")
