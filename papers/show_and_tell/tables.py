"""Our rows laid out like the paper's Table 1, the claims' comparisons and the caption grid, for `make results`.

Table 1 (LAYOUTS): a row per captioner and beam (NIC, the image fed every step, the encoder from scratch, the blind
model), then the random, nearest-neighbour and human rows; columns the COCO metrics x 100 (BLEU-1, BLEU-4, METEOR,
ROUGE-L, CIDEr-D), our tuple F1, the shares of distinct and of novel captions, validation perplexity, and the
paper's COCO BLEU-4 / METEOR / CIDEr for the same kind of row (orderings compare; on the scenes task values do
not). Rows are found by their fields (rows.py), never by their names.

Claims (SECTIONS): NIC against nearest neighbour, random and blind on every metric (the targets); beam 1 / 3 / 20;
the image once against every step; the pre-trained encoder against one from scratch; the encoder's pre-training.

Caption grid (FIGURES): the first test scenes of NIC's first seed with its captions at the widest beam and greedy.
"""

import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from common.report import latest_rows, mean_std, save_figure, select
from papers.show_and_tell import rows

SCORES = ("bleu_1", "bleu_4", "meteor", "rouge_l", "cider")  # x 100 in the tables, as the paper prints them
PAPER_SCORES = ("bleu_4", "meteor", "cider")
PAPER_BEAM = "20"  # the paper's beam; im2txt found 3 best
MODEL = ("method", "encoder", "feed_image", "units")
TARGETS = ("bleu_4", "meteor", "rouge_l", "cider", "tuple_f1")  # NIC must beat each baseline on every one
NIC = {"method": "nic", "encoder": "pretrained", "feed_image": "once"}
ORDER = {("nic", "pretrained", "once"): 0, ("nic", "pretrained", "every_step"): 1, ("nic", "scratch", "once"): 2,
         ("blind", "none", ""): 3, ("nearest_neighbour", "", ""): 4, ("random", "", ""): 5, ("human", "", ""): 6}


def _cell(block, key, metric, scale=1.0, digits=3) -> str:
    found = select(block, **key, metric=metric)
    if not len(found):
        return ""
    mean, std, n = found[["mean", "std", "n"]].iloc[0]
    return mean_std(scale * mean, scale * std, n, digits=digits)


def _paper(refs, key, metric) -> str:
    found = refs[(refs["kind"] == "paper") & (refs["metric"] == metric) & (refs["method"] == key["method"])]
    if key["method"] == "nic":  # the paper's NIC is the pre-trained encoder with the image fed once
        found = found[(found["encoder"] == key["encoder"]) & (found["feed_image"] == key["feed_image"])]
    return ", ".join(found["value"])


def table1(block: pd.DataFrame, refs: pd.DataFrame) -> str:
    captioner = block["method"].isin(["nic", "blind"])  # their perplexity rows have no beam: shown in every beam's row
    keys = block[(block["method"] != "item_classifier") & ~(captioner & (block["beam_size"] == ""))]
    keys = keys.drop_duplicates([*MODEL, "beam_size"])
    keys = sorted((k for _, k in keys.iterrows()), key=lambda k: (
        ORDER.get((k["method"], k["encoder"], k["feed_image"]), 9), k["units"], int(k["beam_size"] or 0)))
    if not keys:
        return "No captioner or baseline rows yet."
    head = ["Captions", "BLEU-1", "BLEU-4", "METEOR", "ROUGE-L", "CIDEr-D", "tuple F1", "distinct", "novel",
            "valid ppl", "paper: BLEU-4", "paper: METEOR", "paper: CIDEr"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key in keys:
        model = {f: key[f] for f in MODEL}
        at = model | {"beam_size": key["beam_size"]}
        cells = [rows.variant(at)] + [_cell(block, at, m, 100, 1) for m in SCORES]
        cells += [_cell(block, at, m, 100, 1) for m in ("tuple_f1", "distinct_share", "novel_share")]
        cells.append(_cell(block, model | {"beam_size": ""}, "valid_perplexity", digits=2))
        shown = key["beam_size"] in ("", PAPER_BEAM)  # the paper's numbers beside its own beam only
        cells += [_paper(refs, key, m) if shown else "" for m in PAPER_SCORES]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n\nScores x 100 (COCO caption evaluation, PTB-tokenised; SPICE needs a download " \
        "and is left out; tuple F1 is our exact stand-in). distinct / novel: the share of distinct test captions " \
        "and of those not copied from a training reference."


LAYOUTS = {"scenes": table1, "coco": table1, "generated": table1}


def _values(frame, metric, **fields) -> np.ndarray:
    return select(latest_rows(frame), metric=metric, **fields)["value"].astype(float).to_numpy()


def _mean(values: np.ndarray, scale: float = 100.0) -> str:
    return f"{scale * values.mean():.1f}" if len(values) else "-"


def _versus(block, ours: dict, other: dict, what: str) -> str:
    """Whether `ours` is above `other` on every target metric, with both means."""
    pairs = [(m, _values(block, m, **ours), _values(block, m, **other)) for m in TARGETS]
    pairs = [(m, a, b) for m, a, b in pairs if len(a) and len(b)]
    if not pairs:
        return ""
    above = all(a.mean() > b.mean() for _, a, b in pairs)
    detail = ", ".join(f"{m} {_mean(a)} vs {_mean(b)}" for m, a, b in pairs)
    return f"- NIC (beam {PAPER_BEAM}) above {what} on every metric: **{'yes' if above else 'no'}** ({detail})."


def claims(frame: pd.DataFrame, results_dir: Path) -> str:
    out = []
    for (experiment, preset), block in frame.groupby(["experiment", "preset"], sort=False):
        nic = NIC | {"beam_size": PAPER_BEAM}
        lines = [line for line in (
            _versus(block, nic, {"method": "nearest_neighbour"}, "nearest neighbour"),
            _versus(block, nic, {"method": "random"}, "random captions"),
            _versus(block, nic, {"method": "blind", "beam_size": PAPER_BEAM}, "the blind model")) if line]
        for name, model in (("NIC", NIC), ("Blind", {"method": "blind"})):
            by_beam = {b: _values(block, "cider", **model, beam_size=b) for b in ("1", "3", PAPER_BEAM)}
            if sum(len(v) > 0 for v in by_beam.values()) > 1:
                lines.append(f"- Beam (claim 2), {name}, CIDEr-D at beams 1 / 3 / {PAPER_BEAM}: "
                             + " / ".join(_mean(v) for v in by_beam.values()) + ".")
        for claim, other, label in (("3", {"feed_image": "every_step"}, "the image fed at every step"),
                                    ("4", {"encoder": "scratch"}, "the encoder trained from scratch")):
            variant = NIC | other
            ppl = [_values(block, "valid_perplexity", **m, beam_size="") for m in (NIC, variant)]
            cider, f1 = ([_values(block, metric, **m, beam_size=PAPER_BEAM) for m in (NIC, variant)]
                         for metric in ("cider", "tuple_f1"))
            if all(len(v) for v in ppl + cider + f1):
                lines.append(f"- Claim {claim}, NIC against {label}: valid perplexity {ppl[0].mean():.2f} vs "
                             f"{ppl[1].mean():.2f}; beam {PAPER_BEAM}: CIDEr-D {_mean(cider[0])} vs "
                             f"{_mean(cider[1])}, tuple F1 {_mean(f1[0])} vs {_mean(f1[1])}.")
        distinct = [_values(block, "distinct_share", **m, beam_size=PAPER_BEAM) for m in (NIC, {"method": "blind"})]
        if all(len(v) for v in distinct):
            lines.append(f"- Distinct test captions (claim 5's failure mode: one caption for every image), NIC vs "
                         f"blind: {_mean(distinct[0])}% vs {_mean(distinct[1])}%.")
        accuracy = _values(block, "test_accuracy", method="item_classifier")
        if len(accuracy):
            lines.append(f"- The encoder's pre-training: test accuracy on single items {accuracy.mean():.2f}%.")
        if lines:
            out += [f"**Claims, {experiment}, preset `{preset}`**", "", *lines, ""]
    return "\n".join(out)


SECTIONS = [claims]


def caption_grid(frame: pd.DataFrame, results_dir: Path) -> list[Path]:
    """The first test scenes of NIC's first seed, each with its captions at the widest beam searched and greedy."""
    found = select(latest_rows(frame), **NIC, metric="cider")
    for _, row in found[found["history"] != ""].sort_values("seed").iterrows():
        stem = (Path(results_dir) / Path(row["history"]).with_suffix("")).as_posix()
        captions = Path(stem.replace("/histories/", "/captions/", 1) + ".tsv")
        scenes = Path(stem.replace("/histories/", "/scenes/", 1) + ".npz")
        if captions.exists() and scenes.exists():
            break
    else:
        return []
    table = pd.read_csv(captions, sep="\t", keep_default_na=False)
    beam = max(int(c.removeprefix("beam")) for c in table.columns if c.startswith("beam"))
    images = np.load(scenes)["images"]
    columns = 4
    fig, axes = plt.subplots(-(-len(images) // columns), columns, figsize=(13, 4.3 * -(-len(images) // columns)),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i], cmap="gray", vmin=0, vmax=255)
            lines = (f"beam {beam}: {table[f'beam{beam}'][i]}", f"greedy: {table['beam1'][i]}")
            ax.set_title("\n".join(part for line in lines for part in textwrap.wrap(line, 48)), fontsize=7)
    fig.suptitle(f"Test scenes and NIC's captions ({row['experiment']}, preset {row['preset']}, seed {row['seed']})")
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return [save_figure(fig, results_dir, "show_and_tell-captions")]


FIGURES = [caption_grid]
