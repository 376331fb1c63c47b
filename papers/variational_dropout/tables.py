"""Our rows laid out like the paper's Table 1, and its learning curves, for `make results` (common/report.py).

Table 1: a row per model (no dropout, Zaremba et al., variational tied / untied, without word dropout) and
estimator (the standard dropout approximation; MC dropout at each K), columns validation and test perplexity, ours
(mean ± std over seeds) and then the paper's PTB values for the same row at its medium (650 units) and large (1,500)
sizes: the paper's numbers are on PTB, ours on the experiment's data, so the columns compare orderings and gaps,
not values, unless the experiment is `ptb`. Rows are found by their fields (rows.py), never by their names.

Figure (claim 5): per experiment and preset, the training perplexity (dashed; with dropout on, as trained) and the
validation perplexity (bold; state carried, no dropout) per epoch of every model, the mean over seeds.
"""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from common.report import first, learning_curves, mean_std, save_figure, select, slug

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


LAYOUTS = {"bible": table1, "ptb": table1, "generated": table1}
FIGURES = [learning_curve_figures]
