"""What a BLEU score means on our data: two translations that use no model, scored like the models' (evaluate.py).

    copy        the source sentence itself (shared names, numbers, placeholders and loan words score above zero)
    retrieval   the French side of the training pair whose English side is closest to the source: TF-IDF vectors
                of the lower-cased words, cosine similarity (scikit-learn); a translation memory, as a
                localisation team would use

    python -m papers.seq2seq.baselines --config=papers/seq2seq/configs.py:cpu

Rows go through the run lifecycle (common/lifecycle.py) with architecture "copy" or "retrieval".
"""

from pathlib import Path

import ml_collections
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from common import lifecycle
from papers.seq2seq import configs, data, evaluate, rows


def retrieve(train: list[data.Pair], sources: list[tuple[str, ...]]) -> list[list[str]]:
    """The target of the training pair with the most similar source (TF-IDF cosine) for every source."""
    vectorizer = TfidfVectorizer(analyzer=lambda tokens: [w.lower() for w in tokens])
    memory = vectorizer.fit_transform([p.source for p in train])
    similarity = vectorizer.transform(sources) @ memory.T  # rows are unit vectors: cosine
    nearest = np.asarray(similarity.argmax(axis=1)).reshape(-1)
    return [list(train[i].target) for i in nearest]


def score_baselines(config: ml_collections.ConfigDict, run: lifecycle.Run) -> lifecycle.Outcome:
    corpus = data.load_corpus(config.dataset, config.data_dir, config.max_length, seed=config.seed,
                              max_train_pairs=config.max_train_pairs)
    test = corpus.test[: config.eval_sentences or None]
    references = [list(p.target) for p in test]
    translations = {"copy": [list(p.source) for p in test],
                    "retrieval": retrieve(corpus.train, [p.source for p in test])}
    out, scored = [], {}
    for name, hypotheses in translations.items():
        fields = {field: "" for field in rows.FIELDS} | {"architecture": name}
        score, signature = evaluate.bleu(hypotheses, references)
        out += [{**fields, "metric": "bleu", "value": f"{score:.2f}", "bleu_signature": signature},
                {**fields, "metric": "bleu_tokenized",
                 "value": f"{evaluate.tokenized_bleu(hypotheses, references):.2f}"}]
        scored[name] = score
    for row in out:
        row.update(experiment=config.dataset, variant=rows.variant(row))
    return lifecycle.Outcome(rows=out, summary=f"{corpus.description}: test BLEU " + ", ".join(
        f"{name} {score:.2f}" for name, score in scored.items()), facts={"bleu": scored})


def workdir_for(config: ml_collections.ConfigDict) -> Path:
    return Path(config.workdir or f"runs/seq2seq/{config.preset}/baselines")


EXPERIMENT = lifecycle.Experiment(paper="seq2seq", fields=rows.FIELDS, work=score_baselines, workdir=workdir_for,
                                  validate=configs.validate)

if __name__ == "__main__":
    lifecycle.main(EXPERIMENT, "papers/seq2seq/configs.py:cpu")
