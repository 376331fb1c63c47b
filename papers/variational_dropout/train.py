"""Train a word-level LSTM language model with one kind of dropout, select on validation perplexity, report the test
perplexity with the standard dropout approximation and, for variational dropout, with MC dropout.

    python -m papers.variational_dropout.train \
        --config=papers/variational_dropout/configs.py:cpu,zaremba --config.seed=2

The run lifecycle (resume after a kill, a finished run prints its result, a NaN loss writes nothing) is
common/lifecycle.py's; this file says what is the paper's: data → model → fit → evaluate → rows.
"""

import math
from pathlib import Path

import ml_collections
import numpy as np

from common import lifecycle, streams, training
from common.data import DataError
from common.files import atomic_write
from papers.variational_dropout import configs, data, evaluate, rows
from papers.variational_dropout.model import build_word_lm


def workdir_for(config: ml_collections.ConfigDict) -> Path:
    name = rows.model_name(rows.model_fields(config))
    return Path(config.workdir or f"runs/variational_dropout/{config.preset}/{name}/seed{config.seed}")


def vocabulary(config, corpus: data.Corpus, workdir: Path) -> data.Vocabulary:
    """The training words' vocabulary; a resumed run's must be the one its checkpoints were trained with."""
    vocab = data.Vocabulary.from_training_words(corpus.train, config.vocab_size)
    saved = workdir / "vocab.json"
    if saved.exists() and data.Vocabulary.load(saved).words != vocab.words:
        raise DataError(f"{saved} does not match the vocabulary of {corpus.source} that the checkpoints in "
                        f"{workdir} were trained with: the data changed; restore it or delete {workdir}.")
    vocab.save(saved)
    return vocab


def train_and_evaluate(config: ml_collections.ConfigDict, run: lifecycle.Run) -> lifecycle.Outcome:
    corpus = data.load_corpus(config)
    vocab = vocabulary(config, corpus, run.workdir)
    train_ids, valid_ids, test_ids = (vocab.encode(words) for words in (corpus.train, corpus.valid, corpus.test))
    per_pass = streams.steps_per_pass(train_ids, config.seq_length, config.batch_size)
    steps_per_checkpoint = config.steps_per_checkpoint or per_pass
    checkpoints = math.ceil(config.max_epochs * per_pass / steps_per_checkpoint)
    total_steps = checkpoints * steps_per_checkpoint
    print(f"{corpus.source}: {len(train_ids):,} / {len(valid_ids):,} / {len(test_ids):,} words (train / valid / "
          f"test), vocabulary {len(vocab):,}; {total_steps:,} steps = {total_steps / per_pass:.2f} epochs.", flush=True)

    fitted = run.fit(
        build_model=lambda: build_word_lm(config, len(vocab), per_pass),
        train_data=lambda k: streams.stream_batches(train_ids, config.seq_length, config.batch_size,
                                                    k * steps_per_checkpoint, total_steps),
        checkpoints=checkpoints, steps_per_checkpoint=steps_per_checkpoint, monitor="val_perplexity",
        callbacks=[training.CheckpointMetric("val_perplexity", lambda model: evaluate.perplexity(
            model, valid_ids, config.eval_streams, config.eval_chunk))],  # state carried, as the test number
        max_loss=lifecycle.implausible_loss(len(vocab), config.seq_length),
    )
    model = run.best_model()
    test_log_p = evaluate.log_probabilities(model, test_ids, config.eval_streams, config.eval_chunk)
    scored = {"valid": evaluate.perplexity(model, valid_ids, config.eval_streams, config.eval_chunk),
              "test": float(np.exp(-test_log_p.mean()))}
    fields = rows.model_fields(config)
    model_rows = [{**fields, **rows.estimator_fields("standard"), "metric": f"{split}_perplexity",
                   "value": f"{value:.2f}"} for split, value in scored.items()]
    per_word = {"standard": test_log_p}  # the test words' log-probabilities, for paired comparisons (tables.py)
    if config.dropout == "variational":
        log_p = evaluate.mc_log_probabilities(model, test_ids, config.mc_samples, config.eval_streams,
                                              config.eval_chunk, seed=config.seed)
        per_word[f"mc{config.mc_samples}"] = evaluate.mc_average(log_p)
        for k in config.mc_report:
            value = evaluate.mc_perplexity(log_p[:k])
            model_rows.append({**fields, **rows.estimator_fields("mc", k), "metric": "test_perplexity",
                               "value": f"{value:.2f}"})
            scored[f"test MC K={k}"] = value
    atomic_write(run.results_file("test_words", ".npz"),
                 lambda tmp: np.savez_compressed(tmp, **{k: v.astype(np.float32) for k, v in per_word.items()}))
    for row in model_rows:
        row.update(experiment=config.dataset, variant=rows.variant(row))
    return lifecycle.Outcome(
        rows=model_rows,
        summary=f"{rows.variant({**fields, 'estimator': 'standard'})}, best checkpoint {fitted.best_checkpoint} of "
                f"{fitted.checkpoints}: " + ", ".join(f"{k} {v:.2f}" for k, v in scored.items()) + " perplexity",
        epochs=f"{fitted.steps / per_pass:.2f}", facts={"perplexity": scored})


EXPERIMENT = lifecycle.Experiment(paper="variational_dropout", fields=rows.FIELDS, work=train_and_evaluate,
                                  workdir=workdir_for, validate=configs.validate)

if __name__ == "__main__":
    lifecycle.main(EXPERIMENT, "papers/variational_dropout/configs.py:cpu")
