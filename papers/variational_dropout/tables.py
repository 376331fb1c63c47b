"""Our rows laid out like the paper's Table 1, and its learning curves, for `make results` (common/report.py).

Table 1: a row per model (no dropout, Zaremba et al., variational tied / untied, without word dropout) and
estimator (the standard dropout approximation; MC dropout at each K), columns validation and test perplexity, ours
(mean ± std over seeds) and then the paper's PTB values for the same row at its medium (650 units) and large (1,500)
sizes: the paper's numbers are on PTB, ours on the experiment's data, so the columns compare orderings and gaps,
not values, unless the experiment is `ptb`. Rows are found by their fields (rows.py), never by their names.

Paired comparisons (SECTIONS): where two models' perplexities are close, the seeds' spread says little; the same
test words scored by both say more. For each comparison and seed, the mean difference of the words' negative
log-probabilities (nats per word, A - B: below 0, A predicts better) and its standard error over blocks of 500
consecutive words (neighbouring words' scores are correlated; blocks keep the error honest). The per-word scores
are the runs' results/test_words/ files (train.py). Where a model ran with several dropout rates, the one of the
lowest mean validation perplexity stands for it.

Figure (claim 5): per experiment and preset, the training perplexity (dashed; with dropout on, as trained) and the
validation perplexity (bold; state carried, no dropout) per epoch of every model, the mean over seeds.
"""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from common.report import first, latest_rows, learning_curves, mean_std, save_figure, select, slug
from papers.variational_dropout.rows import model_name

MODEL = ("dropout", "tied", "p_embed", "p_input", "p_recurrent", "p_output", "units", "num_layers")
ORDER = {"none": 0, "zaremba": 1, "variational": 2}
PAPER_SIZES = {"650": "medium", "1500": "large"}
PLOT_HISTORIES = False  # the figure below draws them


def _paper_value(refs: pd.DataFrame, row: pd.Series, metric: str, units: str) -> str:
    """The paper's value for the row's kind of model and estimator at a size (tied masks only where it says so)."""
    found = refs[(refs["kind"] == "paper") & (refs["metric"] == metric) & (refs["units"] == units)
                 & (refs["dropout"] == row["dropout"]) & (refs["estimator"] == row["estimator"])
                 & refs["tied"].isin(("", row["tied"]))]
    if row["dropout"] == "variational" and float(row["p_embed"]) == 0:
        return ""  # the paper's variational rows all drop words
    return first(found, "value")


def table1(block: pd.DataFrame, refs: pd.DataFrame) -> str:
    keys = block.drop_duplicates([*MODEL, "estimator", "mc_samples"])
    keys = keys.assign(_order=[(ORDER[d], t, -float(e), s != "standard", int(k or 0)) for d, t, e, s, k in
                               keys[["dropout", "tied", "p_embed", "estimator", "mc_samples"]].values])
    sizes = [u for u in PAPER_SIZES if (refs["units"] == u).any()]
    head = ["Model", "units", "valid (ours)", "test (ours)"]
    head += [f"{split} (paper, PTB {PAPER_SIZES[u]})" for u in sizes for split in ("valid", "test")]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, key in keys.sort_values("_order", kind="stable").iterrows():
        rows = select(block, **{f: key[f] for f in (*MODEL, "estimator", "mc_samples")})
        cells = [key["variant"], key["units"]]
        for metric in ("valid_perplexity", "test_perplexity"):
            found = rows[rows["metric"] == metric]
            cells.append(mean_std(*found[["mean", "std", "n"]].iloc[0], digits=2) if len(found) else "")
        cells += [_paper_value(refs, key, f"{split}_perplexity", u) for u in sizes for split in ("valid", "test")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def learning_curve_figures(rows: pd.DataFrame, results_dir: Path) -> list[Path]:
    panels: dict[tuple[str, str], list[tuple[str, list[pd.DataFrame]]]] = {}
    for group in learning_curves(rows, results_dir):
        histories = [h for h in group["seeds"].values() if {"nats", "val_perplexity"} <= set(h.columns)]
        if histories:
            panels.setdefault((group["experiment"], group["preset"]), []).append((group["label"], histories))
    written = []
    for (experiment, preset), curves in sorted(panels.items()):
        fig, ax = plt.subplots(figsize=(7.5, 4.5))
        for colour, (label, histories) in zip(plt.cm.tab10(np.arange(len(curves))), curves, strict=True):
            mean = pd.concat(histories).groupby("checkpoint")[["nats", "val_perplexity"]].mean().reset_index()
            seeds = f" ({len(histories)} seeds)" if len(histories) > 1 else ""
            ax.plot(mean["checkpoint"], np.exp(mean["nats"]), "--", lw=1, color=colour)
            ax.plot(mean["checkpoint"], mean["val_perplexity"], "-", lw=2.2, color=colour, label=label + seeds)
        ax.set_xlabel("epoch")
        ax.set_ylabel("perplexity")
        ax.set_yscale("log")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8, title="bold: validation, dashed: training (dropout on)", title_fontsize=7)
        ax.set_title(f"variational_dropout: {experiment}, preset {preset}")
        fig.tight_layout()
        written.append(save_figure(fig, results_dir, f"variational_dropout_{slug(experiment)}_{preset}_curves"))
    return written


BLOCK = 500  # words per block of the paired standard error
COMPARISONS = (  # (A, B): model names (rows.model_name) and estimators ("mc": the run's largest K)
    (("zaremba", "standard"), ("none", "standard")),
    (("variational", "standard"), ("zaremba", "standard")),
    (("variational", "mc"), ("variational", "standard")),
    (("variational_tied", "mc"), ("variational_tied", "standard")),
    (("variational", "standard"), ("variational_tied", "standard")),
    (("variational", "standard"), ("variational_no_embed", "standard")),
)


def paired_difference(a: np.ndarray, b: np.ndarray, block: int = BLOCK) -> tuple[float, float, int]:
    """Mean of (-log p_A) - (-log p_B) over the words and its standard error over blocks of `block` words."""
    difference = b.astype(np.float64) - a.astype(np.float64)
    blocks = difference[: len(difference) // block * block].reshape(-1, block).mean(axis=1)
    return float(difference.mean()), float(blocks.std(ddof=1) / np.sqrt(len(blocks))), len(blocks)


def _chosen_runs(rows: pd.DataFrame) -> dict[tuple[str, str, str], pd.DataFrame]:
    """Per experiment, preset and model name, the latest test rows of its rate setting of lowest mean validation
    perplexity (the standard estimator), one per seed."""
    latest = latest_rows(rows)
    latest = latest.assign(model=[model_name(r) for _, r in latest.iterrows()])
    chosen = {}
    for (experiment, preset, model), group in latest.groupby(["experiment", "preset", "model"], sort=False):
        valid = select(group, metric="valid_perplexity", estimator="standard")
        best = valid.groupby(list(MODEL), sort=False)["value"].mean().idxmin()
        chosen[experiment, preset, model] = select(group, **dict(zip(MODEL, best, strict=True)),
                                                   metric="test_perplexity", estimator="standard")
    return chosen


def _scores(results_dir: Path, history: str, estimator: str) -> np.ndarray | None:
    path = Path(results_dir) / Path(history.replace("histories/", "test_words/", 1)).with_suffix(".npz")
    if not history or not path.exists():
        return None
    with np.load(path) as scores:
        keys = [k for k in scores.files if k == estimator or (estimator == "mc" and k.startswith("mc"))]
        return scores[keys[0]] if keys else None


def paired_comparisons(rows: pd.DataFrame, results_dir: Path) -> str:
    chosen = _chosen_runs(rows)
    lines = []
    for experiment, preset in dict.fromkeys((e, p) for e, p, _ in chosen):
        table = []
        for (model_a, estimator_a), (model_b, estimator_b) in COMPARISONS:
            runs_a, runs_b = chosen.get((experiment, preset, model_a)), chosen.get((experiment, preset, model_b))
            if runs_a is None or runs_b is None:
                continue
            label_a, label_b = (f"{first(r, 'variant')}{', MC' if e == 'mc' else ''}"
                                for r, e in ((runs_a, estimator_a), (runs_b, estimator_b)))
            for seed in sorted(set(runs_a["seed"]) & set(runs_b["seed"]), key=int):
                a = _scores(results_dir, first(select(runs_a, seed=seed), "history"), estimator_a)
                b = _scores(results_dir, first(select(runs_b, seed=seed), "history"), estimator_b)
                if a is None or b is None or len(a) != len(b):
                    continue
                mean, error, blocks = paired_difference(a, b)
                table.append(f"| {label_a} | {label_b} | {seed} | {np.exp(-a.mean()):.2f} | {np.exp(-b.mean()):.2f} "
                             f"| {mean:+.4f} ± {error:.4f} ({blocks}) |")
        if table:
            lines += [f"Paired comparisons on the test words, **{experiment}**, preset `{preset}` (A - B in nats per "
                      f"word, ± one standard error over blocks of {BLOCK} words (their number); below 0: A predicts "
                      "better):", "", "| A | B | seed | perplexity A | perplexity B | A - B |",
                      "|---|---|---|---|---|---|", *table, ""]
    return "\n".join(lines)


LAYOUTS = {"bible": table1, "ptb": table1, "generated": table1}
SECTIONS = [paired_comparisons]
FIGURES = [learning_curve_figures]
