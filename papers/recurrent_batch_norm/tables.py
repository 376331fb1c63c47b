"""Our rows laid out like the paper's Tables 1 and 2, and its learning curves, for `make results` (common/report.py).

Table 1 (pixels): a row per model (LSTM, BN-LSTM, and the BN-LSTM's test-time statistics ablation and gamma
comparison), a column pair per task (ordered, permuted): ours (mean ± std over seeds) and the paper's MNIST value
for that model (ours are on the experiment's data, so compare orderings and gaps unless it is `mnist`).
Table 2 (characters): a row per model, columns validation and test bits per character on sequences as long as in
training, test on longer sequences, and the paper's PTB value.
Figures: validation accuracy (or bits per character) against updates and against wall-clock seconds, LSTM and
BN-LSTM, per task: the paper's Fig. 1-style curves and the honest CPU cost (claim 2).
"""

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from common.report import first, learning_curves, mean_std, save_figure, select, slug

PIXEL_TASKS = {"pixels": "ordered", "pixels_permuted": "permuted"}
MODEL_KEYS = ("model", "gamma_init", "statistics")
PLOT_HISTORIES = False  # the figures below draw them


def _ours(block: pd.DataFrame, metric: str, digits: int, **fields) -> str:
    rows = select(block, metric=metric, **fields)
    return mean_std(*rows[["mean", "std", "n"]].iloc[0], digits=digits) if len(rows) else ""


def _paper(refs: pd.DataFrame, metric: str, key: dict, **fields) -> str:
    if key["gamma_init"] not in ("", "0.1") or key["statistics"] not in ("", "per_step"):
        return ""  # the paper's rows are its BN-LSTM with gamma 0.1 and per-step statistics
    return first(select(refs, kind="paper", metric=metric, model=key["model"], **fields), "value")


def _models(block: pd.DataFrame) -> list[dict]:
    keys = block.drop_duplicates(list(MODEL_KEYS))[list(MODEL_KEYS)].to_dict("records")
    order = {"": 0, "per_step": 0, "shared": 1, "batch": 2}
    return sorted(keys, key=lambda k: (k["model"] == "BN-LSTM", k["gamma_init"] != "0.1", order[k["statistics"]]))


def _label(key: dict) -> str:
    label = key["model"] + (f" (gamma {key['gamma_init']})" if key["gamma_init"] not in ("", "0.1") else "")
    return label + (f", {key['statistics'].replace('_', ' ')} statistics" if key["statistics"] not in
                    ("", "per_step") else "")


def pixel_table(block: pd.DataFrame, refs: pd.DataFrame) -> str:
    tasks = [t for t in PIXEL_TASKS if (block["task"] == t).any()]
    head = ["Model"] + [f"{PIXEL_TASKS[t]}: {c}" for t in tasks for c in ("valid % (ours)", "test % (ours)",
                                                                           "test % (paper, MNIST)")]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key in _models(block):
        cells = [_label(key)]
        for task in tasks:
            cells += [_ours(block, m, 2, task=task, **key) for m in ("valid_accuracy", "test_accuracy")]
            cells.append(_paper(refs, "test_accuracy", key, task=task))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def char_table(block: pd.DataFrame, refs: pd.DataFrame) -> str:
    lengths = sorted({int(v) for v in block["test_length"] if v})
    trained, longer = str(lengths[0]), [str(n) for n in lengths[1:]]
    head = ["Model", f"valid bpc, length {trained} (ours)", f"test bpc, length {trained} (ours)",
            *[f"test bpc, length {n} (ours)" for n in longer], "test bpc (paper, PTB)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key in _models(block):
        cells = [_label(key), _ours(block, "valid_bpc", 3, test_length=trained, **key),
                 _ours(block, "test_bpc", 3, test_length=trained, **key),
                 *[_ours(block, "test_bpc", 3, test_length=n, **key) for n in longer],
                 _paper(refs, "test_bpc", key, task="chars")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def learning_curve_figures(rows: pd.DataFrame, results_dir: Path) -> list[Path]:
    panels: dict[tuple, list] = {}
    for group in learning_curves(rows, results_dir):
        fields = group["fields"]
        metric = "val_error" if fields.get("task") in PIXEL_TASKS else "val_bpc"
        histories = [h for h in group["seeds"].values() if {"step", "wall_seconds", metric} <= set(h.columns)]
        if histories:
            key = (group["experiment"], group["preset"], fields.get("task", ""), metric)
            label = fields.get("model", "") + (f" (gamma {fields['gamma_init']})" if fields.get("gamma_init") not in
                                               (None, "", "0.1") else "")
            panels.setdefault(key, []).append((label, histories))
    written = []
    for (experiment, preset, task, metric), curves in sorted(panels.items()):
        fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
        for label, histories in curves:
            mean = pd.concat(histories).groupby("step")[[metric, "wall_seconds"]].mean().reset_index()
            seeds = f" ({len(histories)} seeds)" if len(histories) > 1 else ""
            value = 100.0 - mean[metric] if metric == "val_error" else mean[metric]  # accuracy (%) or bpc
            axes[0].plot(mean["step"], value, lw=2, label=label + seeds)
            axes[1].plot(mean["wall_seconds"] / 60, value, lw=2, label=label + seeds)
        axes[0].set_xlabel("updates")
        axes[1].set_xlabel("wall-clock minutes (2-core CPU)")
        axes[0].set_ylabel("validation accuracy (%)" if metric == "val_error" else "validation bits per character")
        for ax in axes:
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
        fig.suptitle(f"recurrent_batch_norm: {experiment}, {task}, preset {preset}")
        fig.tight_layout()
        written.append(save_figure(fig, results_dir, f"recurrent_batch_norm_{slug(experiment)}_{task}_{preset}"))
    return written


LAYOUTS = {"fashion_mnist": pixel_table, "mnist": pixel_table, "bible": char_table, "ptb": char_table}
FIGURES = [learning_curve_figures]
