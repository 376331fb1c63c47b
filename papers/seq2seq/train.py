"""Train an encoder-decoder, select on validation perplexity, then report test perplexity and BLEU for each beam.

    python -m papers.seq2seq.train --config=papers/seq2seq/configs.py:cpu,forward --config.seed=2

The run lifecycle (resume after a kill, a finished run prints its result, a NaN loss writes nothing) is
common/lifecycle.py's; this file says what is the paper's: data → vocabularies → model → fit → evaluate → rows.
The test translations of every beam go to results/translations/ (tables.py: BLEU by sentence length and by word
rarity, the paper's Fig. 3), the deep LSTM's sentence vectors of phrases.py's phrases to results/sentence_vectors/
(Fig. 2).
"""

from pathlib import Path

import ml_collections
import numpy as np
import pandas as pd

from common import lifecycle, training
from common.data import DataError
from common.files import atomic_write
from papers.seq2seq import configs, data, evaluate, phrases, pipeline, rows
from papers.seq2seq.build import build_model


def workdir_for(config: ml_collections.ConfigDict) -> Path:
    return Path(config.workdir or f"runs/seq2seq/{config.preset}/{configs.model_name(config)}/seed{config.seed}")


def vocabularies(config, corpus: data.Corpus, workdir: Path) -> tuple[pipeline.Vocabulary, pipeline.Vocabulary]:
    """The training split's source and target vocabularies; a resumed run's must be those it was trained with."""
    made = (pipeline.Vocabulary.from_sentences((p.source for p in corpus.train), config.source_vocab_size),
            pipeline.Vocabulary.from_sentences((p.target for p in corpus.train), config.target_vocab_size))
    for side, vocabulary in zip(("source", "target"), made, strict=True):
        saved = workdir / f"{side}_vocab.json"
        if saved.exists() and pipeline.Vocabulary.load(saved) != vocabulary:
            raise DataError(f"{saved} does not match the {side} vocabulary of the data that the checkpoints in "
                            f"{workdir} were trained with: the data changed; restore it or delete {workdir}.")
        vocabulary.save(saved)
    return made


def translations_table(pairs, source_vocabulary, outputs: dict[int, list[list[str]]]) -> pd.DataFrame:
    """One row per test pair: its source length, the mean frequency rank of its source words (UNK ranked after the
    vocabulary), reference and each beam's translation, tokenised (Fig. 3's axes)."""
    ranks = [np.mean([min(i, len(source_vocabulary)) - len(pipeline.SPECIALS) + 1 if i != pipeline.UNK
                      else len(source_vocabulary) for i in source_vocabulary.encode(p.source)]) for p in pairs]
    table = pd.DataFrame({"source_length": [len(p.source) for p in pairs], "mean_source_rank": ranks,
                          "reference": [" ".join(p.target) for p in pairs]})
    for beam, sentences in outputs.items():
        table[f"beam{beam}"] = [" ".join(s) for s in sentences]
    return table


def train_and_evaluate(config: ml_collections.ConfigDict, run: lifecycle.Run) -> lifecycle.Outcome:
    corpus = data.load_corpus(config.dataset, config.data_dir, config.max_length, seed=config.seed,
                              max_train_pairs=config.max_train_pairs)
    source_vocabulary, target_vocabulary = vocabularies(config, corpus, run.workdir)
    encode = lambda pairs: pipeline.encode_pairs(pairs, source_vocabulary, target_vocabulary,  # noqa: E731
                                                 config.reverse_source)
    evaluated = {split: getattr(corpus, split)[: config.eval_sentences or None] for split in ("valid", "test")}
    batches = {split: pipeline.evaluation_batches(*encode(pairs), config.eval_batch_size)
               for split, pairs in evaluated.items()}
    train_sources, train_targets = encode(corpus.train)
    per_epoch = pipeline.steps_per_epoch(len(train_sources), config.batch_size, config.bucket_batches)
    steps_per_checkpoint = max(1, per_epoch // config.checkpoints_per_epoch)
    checkpoints = max(1, round(config.max_epochs * per_epoch / steps_per_checkpoint))
    mean_target = float(np.mean([len(t) + 1 for t in train_targets]))
    print(f"{corpus.description}; {checkpoints * steps_per_checkpoint:,} steps of {config.batch_size} = "
          f"{checkpoints * steps_per_checkpoint / per_epoch:.2f} epochs.", flush=True)

    fitted = run.fit(
        build_model=lambda: build_model(config, len(source_vocabulary), len(target_vocabulary), per_epoch),
        train_data=lambda k: pipeline.training_batches(train_sources, train_targets, config.batch_size,
                                                       config.bucket_batches, config.seed, k * steps_per_checkpoint,
                                                       checkpoints * steps_per_checkpoint),
        checkpoints=checkpoints, steps_per_checkpoint=steps_per_checkpoint, monitor="val_perplexity",
        callbacks=[training.CheckpointMetric("val_perplexity",
                                             lambda model: evaluate.perplexity(model, batches["valid"]))],
        max_loss=lifecycle.implausible_loss(len(target_vocabulary), mean_target),
    )
    model = run.best_model()
    fields = rows.model_fields(config, len(source_vocabulary), len(target_vocabulary))
    scored = {f"{split} perplexity": evaluate.perplexity(model, batches[split]) for split in ("valid", "test")}
    model_rows = [{**fields, "metric": f"{split}_perplexity", "value": f"{scored[f'{split} perplexity']:.3f}"}
                  for split in ("valid", "test")]
    references = [list(p.target) for p in evaluated["test"]]
    searches = [(beam, 0.0) for beam in config.beam_sizes] + [(max(config.beam_sizes), config.length_penalty)]
    outputs = {}
    for beam, alpha in searches:
        ids = evaluate.translate(model, batches["test"], beam, alpha)
        hypotheses = [target_vocabulary.decode(s) for s in ids]
        score, signature = evaluate.bleu(hypotheses, references)
        search = {**fields, "beam_size": str(beam), "length_penalty": f"{alpha:g}"}
        model_rows += [{**search, "metric": "bleu", "value": f"{score:.2f}", "bleu_signature": signature},
                       {**search, "metric": "bleu_tokenized",
                        "value": f"{evaluate.tokenized_bleu(hypotheses, references):.2f}"}]
        if not alpha:
            outputs[beam] = hypotheses
        scored[f"BLEU beam {beam}" + (f" alpha {alpha:g}" if alpha else "")] = score
    table = translations_table(evaluated["test"], source_vocabulary, outputs)
    atomic_write(run.results_file("translations", ".tsv.gz"),
                 lambda tmp: table.to_csv(tmp, sep="\t", index=False, compression="gzip"))
    if config.architecture == "deep_lstm":  # Fig. 2's sentence vectors (tables.py)
        texts, vectors = phrases.sentence_vectors(model, source_vocabulary, config.reverse_source)
        atomic_write(run.results_file("sentence_vectors", ".npz"),
                     lambda tmp: np.savez_compressed(tmp, phrases=np.array(texts), vectors=vectors.astype(np.float32)))
    for row in model_rows:
        row.update(experiment=config.dataset, variant=rows.variant(row))
    return lifecycle.Outcome(
        rows=model_rows,
        summary=f"{rows.variant(fields)}, best checkpoint {fitted.best_checkpoint} of {fitted.checkpoints}: "
                + ", ".join(f"{k} {v:.2f}" for k, v in scored.items()),
        epochs=f"{fitted.steps / per_epoch:.2f}", facts={"scores": scored})


EXPERIMENT = lifecycle.Experiment(paper="seq2seq", fields=rows.FIELDS, work=train_and_evaluate,
                                  workdir=workdir_for, validate=configs.validate)

if __name__ == "__main__":
    lifecycle.main(EXPERIMENT, "papers/seq2seq/configs.py:cpu")
