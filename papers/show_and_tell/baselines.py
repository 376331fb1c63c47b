"""Table 1's rows without a captioner, scored like NIC's captions (metrics.py), on the same test images.

    random             a training caption drawn at random for each test image
    nearest_neighbour  a reference of the training image closest to the test image in the frozen encoder's feature
                       space (cosine), as the paper's "Nearest Neighbor" row
    human              one of the image's own references (the first) scored against the other four; the metrics of
                       the other rows keep all five references, so this row is a little pessimistic (the paper's
                       human row is measured the same way)

    python -m papers.show_and_tell.baselines --config=papers/show_and_tell/configs.py:cpu

Needs the pre-training run (pretrain.py) for the nearest neighbour's features (coco: InceptionV3's, cached by
inception.py). Tuple F1 only on the scene tasks (COCO has no scene truth). Rows through the run lifecycle.
"""

from pathlib import Path

import ml_collections
import numpy as np

from common import lifecycle
from papers.show_and_tell import configs, data, metrics, rows, train


def workdir_for(config: ml_collections.ConfigDict) -> Path:
    return Path(config.workdir or f"runs/show_and_tell/{config.preset}/baselines/seed{config.seed}")


def nearest(train_features: np.ndarray, test_features: np.ndarray) -> np.ndarray:
    """The index of the most cosine-similar training image for every test image."""
    unit = lambda x: x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)  # noqa: E731
    return (unit(test_features) @ unit(train_features).T).argmax(axis=1)


def score_baselines(config: ml_collections.ConfigDict, run: lifecycle.Run) -> lifecycle.Outcome:
    captions = data.load_captions(config.dataset, tuple(config.sizes), config.seed, config.data_dir)
    features = train.image_features(config, captions)
    rng = np.random.default_rng(config.seed)
    train_refs, test_refs = captions.train.references, captions.test.references
    pool = [c for refs in train_refs for c in refs]
    training_captions = {" ".join(data.words(c)) for c in pool}
    candidates = {
        "random": ([pool[i] for i in rng.integers(len(pool), size=len(test_refs))], test_refs),
        "nearest_neighbour": ([train_refs[i][0] for i in nearest(features["train"], features["test"])], test_refs),
        "human": ([refs[0] for refs in test_refs], [refs[1:] for refs in test_refs]),
    }
    coco = metrics.coco_scores_of_sets(candidates, config.meteor)
    out, summary = [], []
    for method, (generated, refs) in candidates.items():
        tuples = {} if config.dataset == "coco" else metrics.tuple_scores(generated, refs)  # no scene truth in COCO
        found = {**coco[method], **tuples, **metrics.diversity(generated, training_captions)}
        fields = rows.empty() | {"method": method}
        out += [{**fields, "experiment": config.dataset, "variant": rows.variant(fields), "metric": k,
                 "value": f"{v:.4f}"} for k, v in found.items()]
        summary.append(f"{method} CIDEr {found['cider']:.3f}, BLEU-4 {found['bleu_4']:.3f}")
    return lifecycle.Outcome(rows=out, summary=f"{captions.description}: " + "; ".join(summary))


EXPERIMENT = lifecycle.Experiment(paper="show_and_tell", fields=rows.FIELDS, work=score_baselines,
                                  workdir=workdir_for, validate=configs.validate)

if __name__ == "__main__":
    lifecycle.main(EXPERIMENT, "papers/show_and_tell/configs.py:cpu")
