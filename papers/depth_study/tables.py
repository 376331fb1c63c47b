"""The depth study's tables and figures, for `make results` (common/report.py reads LAYOUTS and FIGURES).

Tables (LAYOUTS), found by the rows' fields (rows.py), never by their names:
* "<dataset>_depth": He et al. 2016's Table 6 with Huang et al. 2017's DenseNet rows: a row per net (ResNets, then
  plain nets, then DenseNets, by depth), ours (test, validation and final training error, mean ± std over seeds)
  beside the paper's CIFAR-10 test error and our target, with the training steps of our runs (a net whose seeds ran
  for different budgets lists each). On Fashion-MNIST the paper's column is CIFAR-10's, for reference only (another
  data set); where our net or recipe differs from the paper's, the paper's is named beside its number, e.g.
  "8.75 (w=16, pad-4 crops + flips)". The main table is the preset's current recipe; a superseded recipe
  (SUPERSEDED) gets its own titled table below it.
* "<dataset>_lesion": Veit et al. 2016's lesion in two tables, each net named with its recipe and training steps:
  single deleted blocks (intact error, the spread over the blocks that do not downsample, the downsampling blocks),
  and k blocks deleted at random; a superseded recipe's nets in their own pair of tables.

Figures (FIGURES), under results/plots:
* depth_study_<experiment>_<preset>_<augmentation>_degradation.png (He et al.'s Fig. 6): training error (thin,
  dashed) and validation error (bold) against iterations, plain nets left, ResNets right (DenseNets in a third panel
  when run), one colour per depth, mean over seeds; from the histories the rows name.
* depth_study_<experiment>_<preset>.png for a lesion experiment (Veit et al.'s Figs. 3 and 5a): the test error with
  each single block deleted (downsampling blocks shaded, the intact error dashed), ResNet beside its plain twin; and
  the error against the number of blocks deleted at random (mean ± std over the draws).
Errors are percentages throughout, as the papers' tables.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from common.report import (  # noqa: E402
    first,
    latest_rows,
    learning_curves,
    mean_std,
    references,
    save_figure,
    select,
    slug,
)
from papers.depth_study.rows import AUGMENTATIONS, NETS, net_name  # noqa: E402

PAPER = "depth_study"
NET = ("net", "depth", "width", "growth_rate", "augmentation", "dropout_rate")  # the fields that name a trained net
NOTES = {"width": "w={}", "growth_rate": "k={}", "augmentation": "{}", "dropout_rate": "dropout {}"}
# (preset, augmentation) of recipes that a later one replaced, with the title of their own table
SUPERSEDED = {("cpu", "pad-4 crops + flips"): "Superseded `cpu` recipe: He et al.'s pad-4 crops and flips, 3,000 or "
              "6,000 steps (replaced on 2026-12-01 by flips only, chosen on ResNet-20's validation error: README, "
              "Deviations)"}
CURRENT = {"cpu": "Current `cpu` recipe: flips only; ResNets and plain nets (width 8) 6,000 steps of 128, DenseNets "
           "(k = 6) 12,000 steps of 64 (configs.CPU_SIZING)"}
PLOT_HISTORIES = False  # the degradation figure draws the learning curves


def nets(block: pd.DataFrame) -> list[dict]:
    """The trained nets of a block, a dict of NET fields each, in first-seen order."""
    found = block.drop_duplicates(list(NET))[list(NET)]
    return [dict(zip(NET, values, strict=True)) for values in found.values]


def by_recipe(block: pd.DataFrame) -> list[tuple[str, list[dict]]]:
    """(title, nets): the current recipes' nets first (title ""), then each superseded recipe's."""
    preset = first(block, "preset")
    groups: dict[str, list[dict]] = {}
    for net in nets(block):
        groups.setdefault(SUPERSEDED.get((preset, net["augmentation"]), ""), []).append(net)
    return sorted(groups.items(), key=lambda item: item[0] != "")


def order(net: dict) -> tuple:
    """ResNets, plain nets, then DenseNets; by augmentation, depth, width or growth rate."""
    return (net["net"].startswith("DenseNet"), AUGMENTATIONS.index(net["augmentation"]), NETS.index(net["net"]),
            int(net["depth"]), int(net["width"] or net["growth_rate"] or 0))


def label(net: dict, steps: str) -> str:
    """A lesioned net with its recipe and training steps: "ResNet-56 (w=8), flips, 6000 steps"."""
    return f"{net_name(net)}, {net['augmentation']}, {steps} steps"


def format_params(count: float) -> str:
    return f"{count / 1e6:.2f}M" if count >= 1e5 else f"{count / 1e3:.1f}k"


def paper_cell(refs: pd.DataFrame, net: dict) -> str:
    """The paper's CIFAR-10 test error of the same net and depth, with (without) augmentation as ours; the paper's
    width, growth rate, augmentation or dropout named beside it where ours differ."""
    papers = refs[(refs["experiment"] == "cifar10_depth") & (refs["kind"] == "paper") & (refs["metric"] == "test_error")
                  & (refs["net"] == net["net"]) & (refs["depth"] == net["depth"])
                  & ((refs["augmentation"] == "none") == (net["augmentation"] == "none"))]
    same = papers[(papers["width"] == net["width"]) & (papers["growth_rate"] == net["growth_rate"])]
    theirs = same if len(same) else papers
    if not len(theirs):
        return ""
    row = theirs.iloc[0]
    notes = [form.format(row[f]) for f, form in NOTES.items() if row[f] and row[f] != net[f]]
    return row["value"] + (f" ({', '.join(notes)})" if notes else "")


def depth_rows(block: pd.DataFrame, refs: pd.DataFrame, found: list[dict]) -> list[str]:
    experiment = first(block, "experiment")
    head = ["network", "params", "steps", "test error % (ours)", "validation error %", "final training error %",
            "CIFAR-10 test error % (paper)", "test error % (target)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for net in sorted(found, key=order):
        rows = select(block, **net)
        params = select(rows, metric="params")
        cells = [first(rows, "variant"), format_params(params["mean"].iloc[0]) if len(params) else "",
                 first(select(rows, metric="test_error"), "steps")]
        for metric in ("test_error", "valid_error", "train_error"):
            mine = select(rows, metric=metric)
            cells.append(mean_std(*mine[["mean", "std", "n"]].iloc[0], digits=2) if len(mine) else "")
        target = references(refs, net, experiment=experiment, kind="target", metric="test_error")
        cells += [paper_cell(refs, net), f"≤ {float(target['value'].iloc[0]):g}" if len(target) else ""]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def depth_table(block: pd.DataFrame, refs: pd.DataFrame) -> str:
    """The depth table (module docstring): a row per net of ours, the paper's CIFAR-10 error and our target beside."""
    lines = []
    for title, found in by_recipe(block):
        lines += [f"**{title}**", ""] if title else ([CURRENT[first(block, "preset")], ""]
                                                     if first(block, "preset") in CURRENT else [])
        lines += depth_rows(block, refs, found) + [""]
        if not title and first(block, "experiment") != "cifar10_depth":  # the report lists cifar10_depth's sources
            papers = refs[(refs["experiment"] == "cifar10_depth") & (refs["kind"] == "paper")]
            lines += [f"- paper values (CIFAR-10, for reference): {s}" for s in papers["source"].drop_duplicates()]
        if not title and any(net["net"] == "plain" for net in found):
            lines += ["- He et al. 2016 give no table of plain-net errors, only their curves (Fig. 6): see the "
                      "degradation figure.", ""]
    return "\n".join(lines).rstrip("\n")


def lesion_table(block: pd.DataFrame, refs: pd.DataFrame) -> str:
    """Veit et al.'s lesion as two tables per recipe (module docstring); Veit et al. publish figures only."""
    del refs
    lines = []
    for title, found in by_recipe(block):
        lines += [f"**{title}**", ""] if title else []
        rows = {label(net, first(select(block, **net), "steps")): select(block, **net) for net in found}
        head = ["network", "intact", "one block deleted, not downsampling: mean (min - max)",
                "one downsampling block deleted"]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for name, net_rows in rows.items():
            intact = select(net_rows, lesion="intact", metric="test_error")
            single = select(net_rows, lesion="one block", metric="test_error")
            kept = single.loc[single["downsampling"] == "False", "mean"]
            spread = f"{kept.mean():.2f} ({kept.min():.2f} - {kept.max():.2f})" if len(kept) else ""
            down = single[single["downsampling"] == "True"]
            down_cells = ", ".join(f"block {b}: {v:.2f}" for b, v in zip(down["deleted"], down["mean"], strict=True))
            intact_cell = mean_std(*intact[["mean", "std", "n"]].iloc[0], digits=2) if len(intact) else ""
            lines.append(f"| {name} | {intact_cell} | {spread} | {down_cells} |")
        random = {name: select(net_rows, lesion="random blocks") for name, net_rows in rows.items()}
        ks = sorted({int(k) for r in random.values() for k in r["deleted"]})
        if ks:
            lines += ["", "| blocks deleted at random | " + " | ".join(rows) + " |", "|" + "---|" * (len(rows) + 1)]
            for k in ks:
                cells = []
                for r in random.values():
                    mean, std = (select(r, deleted=k, metric=m)["mean"] for m in ("test_error", "test_error_std"))
                    cells.append(f"{mean.iloc[0]:.2f} ± {std.iloc[0]:.2f}" if len(mean) and len(std) else "")
                lines.append(f"| {k} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["- errors in %; random deletions: mean ± std over the draws (blocks that do not downsample, the same "
              "sets for both nets); Veit et al. 2016 publish the lesion as figures only (Figs. 3, 5)"]
    return "\n".join(lines)


# --- figures -------------------------------------------------------------------------------------------------------


def degradation_figures(rows: pd.DataFrame, results_dir: Path) -> list[Path]:
    """He et al.'s Fig. 6 per experiment, preset and augmentation (module docstring)."""
    figures: dict[tuple[str, str, str], dict[str, dict[tuple[int, str], list[pd.DataFrame]]]] = {}
    for group in learning_curves(rows, results_dir):
        fields = group["fields"]
        histories = [h for h in group["seeds"].values() if {"step", "error", "val_error"} <= set(h.columns)]
        if not histories or fields.get("lesion") or "augmentation" not in fields:
            continue
        panel = fields["net"] if fields["net"] in ("ResNet", "plain") else "DenseNet"
        key = (group["experiment"], group["preset"], fields["augmentation"])
        figures.setdefault(key, {}).setdefault(panel, {})[int(fields["depth"]), group["label"]] = histories
    written = []
    for (experiment, preset, augmentation), curves in sorted(figures.items()):
        title = f"{experiment}, preset {preset}, {augmentation}"
        title += " (superseded recipe)" if (preset, augmentation) in SUPERSEDED else ""
        name = f"{PAPER}_{experiment}_{preset}_{slug(augmentation)}_degradation"
        written.append(_degradation_figure(curves, results_dir, name, title))
    return written


def _degradation_figure(curves: dict, results_dir: Path, name: str, title: str) -> Path:
    """One Fig. 6: a panel per family (plain, ResNet, DenseNet), a colour per depth."""
    panels = [p for p in ("plain", "ResNet", "DenseNet") if p in curves]
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4), squeeze=False, sharey=True)
    finals = []
    for ax, panel in zip(axes[0], panels, strict=True):
        colours = plt.cm.viridis_r([0.15 + 0.7 * i / max(1, len(curves[panel]) - 1)
                                    for i in range(len(curves[panel]))])
        for colour, ((_, net), histories) in zip(colours, sorted(curves[panel].items()), strict=True):
            mean = pd.concat(histories).groupby("step")[["error", "val_error"]].mean().reset_index()
            seeds = f" ({len(histories)} seeds)" if len(histories) > 1 else ""
            ax.plot(mean["step"], mean["error"], "--", lw=1, color=colour)
            ax.plot(mean["step"], mean["val_error"], "-", lw=2.2, color=colour, label=f"{net}{seeds}")
            finals += [mean["error"].iloc[-1], mean["val_error"].iloc[-1]]
        ax.set_title({"plain": "plain nets", "ResNet": "ResNets", "DenseNet": "DenseNets"}[panel])
        ax.set_xlabel("iterations")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, title="bold: validation, dashed: training", title_fontsize=7)
    axes[0][0].set_ylabel("error (%)")
    axes[0][0].set_ylim(0, min(100.0, 3.0 * max(finals)))
    fig.suptitle(f"{PAPER}: {title} - training error (dashed) and validation error (bold), mean over seeds")
    fig.tight_layout()
    return save_figure(fig, results_dir, name)


def lesion_figures(rows: pd.DataFrame, results_dir: Path) -> list[Path]:
    """Veit et al.'s Figs. 3 and 5a per lesion experiment and preset, from the rows (mean over seeds)."""
    if rows is None or not len(rows):
        return []
    lesion = latest_rows(rows[rows["lesion"] != ""])
    written = []
    for (experiment, preset), block in lesion.groupby(["experiment", "preset"], sort=False):
        fig, (single_ax, random_ax) = plt.subplots(1, 2, figsize=(12, 4.2))
        shaded = set()
        colours = ("tab:blue", "tab:red", "tab:green", "tab:purple", "tab:orange", "tab:brown")
        for net, colour in zip(nets(block), colours, strict=False):
            net_rows = select(block, **net)
            name = label(net, ", ".join(sorted(set(net_rows["steps"]))))
            means = net_rows.groupby(["lesion", "deleted", "downsampling", "metric"])["value"].mean()
            intact = means.get(("intact", "", "", "test_error"), float("nan"))
            single = sorted((int(d), down == "True", v) for (kind, d, down, m), v in means.items()
                            if kind == "one block" and m == "test_error")
            if single:
                blocks, downs, values = zip(*single, strict=True)
                single_ax.plot(blocks, values, "o-", color=colour, ms=4, label=name)
                for b, down in zip(blocks, downs, strict=True):
                    if down and b not in shaded:
                        single_ax.axvspan(b - 0.5, b + 0.5, color="0.85", zorder=0)
                        shaded.add(b)
            single_ax.axhline(intact, ls="--", color=colour, lw=1)
            random = {int(d): means.get(("random blocks", d, "", "test_error_std"), 0.0)
                      for (kind, d, _, m) in means.index if kind == "random blocks" and m == "test_error"}
            if random:
                ks = sorted(random)
                random_ax.errorbar([0, *ks], [intact, *(means["random blocks", str(k), "", "test_error"] for k in ks)],
                                   yerr=[0.0, *(random[k] for k in ks)], fmt="o-", ms=4, capsize=3, color=colour,
                                   label=name)
        single_ax.set_xlabel("deleted block (shaded: downsampling)")
        single_ax.set_ylabel("test error (%)")
        single_ax.set_title("one block deleted (dashed: nothing deleted)")
        random_ax.set_xlabel("number of blocks deleted at random")
        random_ax.set_title("k random blocks deleted (mean ± std over draws)")
        for ax in (single_ax, random_ax):
            ax.set_ylim(0, 100)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
        fig.suptitle(f"{PAPER}: {experiment}, preset {preset} (Veit et al. 2016's lesion, ResNet vs its plain twin)")
        fig.tight_layout()
        written.append(save_figure(fig, results_dir, f"{PAPER}_{experiment}_{preset}"))
    return written


LAYOUTS = {"fashion_mnist_depth": depth_table, "cifar10_depth": depth_table,
           "fashion_mnist_lesion": lesion_table, "cifar10_lesion": lesion_table}
FIGURES = [degradation_figures, lesion_figures]
