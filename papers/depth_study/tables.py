"""The depth study's tables and figures, for `make results` (common/report.py reads LAYOUTS and FIGURES).

Tables (LAYOUTS):
* "<dataset>_depth": He et al. 2016's Table 6 with Huang et al. 2017's DenseNet rows: a row per net (ResNets, then
  plain nets, then DenseNets, by depth), ours (test, validation and final training error, mean ± std over seeds)
  beside the paper's CIFAR-10 test error and our target, with the training steps of our runs (a net whose seeds ran
  for different budgets lists each). On Fashion-MNIST the paper's column is CIFAR-10's, for
  reference only (another data set); a narrower net than the paper's says so beside it, e.g. "8.75 (w=16)".
* "<dataset>_lesion": Veit et al. 2016's lesion in two tables: single deleted blocks (intact error, the spread over
  the blocks that do not downsample, the downsampling blocks), and k blocks deleted at random.

Figures (FIGURES), under results/plots:
* depth_study_<dataset>_<scale>_degradation.png (He et al.'s Fig. 6): training error (thin, dashed) and validation
  error (bold) against iterations, plain nets left, ResNets right (DenseNets in a third panel when run), one colour
  per depth, mean over seeds; from results/histories/depth_study/<dataset>_<scale>/*.csv.
* depth_study_<dataset>_lesion_<scale>.png (Veit et al.'s Figs. 3 and 5a): the test error with each single block
  deleted (downsampling blocks shaded, the intact error dashed), ResNet beside its plain twin; and the error
  against the number of blocks deleted at random (mean ± std over the draws).
Errors are percentages throughout, as the papers' tables.
"""

import math
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from common.report import save_figure  # noqa: E402

PAPER = "depth_study"
PAPER_RESULTS = Path(__file__).resolve().parent / "paper_results.csv"
# train.variant_name: "ResNet-20", "plain-56 (w=8)", "DenseNet-40 (k=6)", "DenseNet-BC-100 (k=12), no augmentation"
VARIANT = re.compile(r"^(?P<kind>ResNet|plain|DenseNet-BC|DenseNet)-(?P<depth>\d+)"
                     r"(?: \((?P<size>[wk])=(?P<value>\d+)\))?"
                     r"(?:(?P<noaug>, no augmentation)|, (?P<crops>flips only|pad-\d+ crops))?$")
KIND_ORDER = {"ResNet": 0, "plain": 1, "DenseNet": 2, "DenseNet-BC": 3}
PAPER_SIZE = {"w": 16, "k": 12}  # the papers' ResNet width and DenseNet growth rate
SINGLE = re.compile(r"^test_error \(block (?P<block>\d+) deleted(?P<down>, downsampling)?\)$")
RANDOM = re.compile(r"^test_error(?P<std> std)? \((?P<k>\d+) random blocks? deleted\)$")
HISTORY = re.compile(r"^(?P<kind>resnet|plain|densenet-bc|densenet)-(?P<depth>\d+)(?P<rest>.*)_seed(?P<seed>\d+)$")
AUGMENTATION = re.compile(r"-(?P<recipe>no-augmentation|flips-only|pad-\d+-crops)$")  # in a history's file name


def paper_references() -> pd.DataFrame:
    return pd.read_csv(PAPER_RESULTS, dtype={"value": str})


def cell(block: pd.DataFrame, variant: str, metric: str, digits: int = 2) -> str:
    """Ours: the mean ± std over seeds (number of seeds), or the mean of one seed; "" when not measured."""
    row = block[(block["variant"] == variant) & (block["metric"] == metric)]
    if not len(row):
        return ""
    mean, std, n = row[["mean", "std", "n"]].iloc[0]
    if n > 1 and not math.isnan(std):
        return f"{mean:.{digits}f} ± {std:.{digits}f} ({int(n)})"
    return f"{mean:.{digits}f}"


def format_params(count: float) -> str:
    return f"{count / 1e6:.2f}M" if count >= 1e5 else f"{count / 1e3:.1f}k"


def paper_variant(match: re.Match) -> tuple[str, str]:
    """The paper's name of the net that `match` (VARIANT) names, and a note when ours is narrower or wider."""
    kind, depth, size, value = match["kind"], match["depth"], match["size"], match["value"]
    noaug = match["noaug"] or ""
    letter = "w" if kind in ("ResNet", "plain") else "k"
    name = f"{kind}-{depth}{noaug}" if letter == "w" else f"{kind}-{depth} (k={PAPER_SIZE['k']}){noaug}"
    notes = [f"{letter}={PAPER_SIZE[letter]}"] if size == letter and int(value) != PAPER_SIZE[letter] else []
    notes += ["pad-4 crops"] if match["crops"] else []
    return name, f" ({', '.join(notes)})" if notes else ""


def depth_table(block: pd.DataFrame, refs: pd.DataFrame) -> str:
    """The depth table (module docstring): a row per net of ours, the paper's CIFAR-10 error and our target beside."""
    papers = paper_references()
    cifar = papers[(papers["experiment"] == "cifar10_depth") & (papers["kind"] == "paper")]
    targets = refs[refs["kind"] == "target"] if "kind" in refs else refs.iloc[0:0]
    variants = [(v, m) for v in dict.fromkeys(block["variant"]) if (m := VARIANT.match(v))]
    variants.sort(key=lambda vm: (vm[1]["kind"].startswith("DenseNet"), bool(vm[1]["noaug"]), vm[1]["crops"] or "",
                                  KIND_ORDER[vm[1]["kind"]], int(vm[1]["depth"]), int(vm[1]["value"] or 0)))
    header = ["network", "params", "steps", "test error % (ours)", "validation error %", "final training error %",
              "CIFAR-10 test error % (paper)", "test error % (target)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for variant, match in variants:
        name, note = paper_variant(match)
        theirs = cifar[cifar["variant"] == name]["value"]
        target = targets[targets["variant"].isin([name, variant])]["value"]
        params = block[(block["variant"] == variant) & (block["metric"] == "params")]["mean"]
        steps = block[(block["variant"] == variant) & (block["metric"] == "test_error")]["steps"]
        lines.append("| " + " | ".join([
            variant, format_params(params.iloc[0]) if len(params) else "", steps.iloc[0] if len(steps) else "",
            *(cell(block, variant, metric) for metric in ("test_error", "valid_error", "train_error")),
            f"{theirs.iloc[0]}{note}" if len(theirs) else "", f"≤ {float(target.iloc[0]):g}" if len(target) else "",
        ]) + " |")
    lines.append("")
    if not (block["experiment"] == "cifar10_depth").all():  # the report lists the sources of cifar10_depth itself
        sources = papers[papers["kind"] == "paper"].drop_duplicates("source")["source"]
        lines += [f"- paper values (CIFAR-10, for reference): {s}" for s in sources]
    if block["variant"].str.startswith("plain").any():
        lines.append("- He et al. 2016 give no table of plain-net errors, only their curves (Fig. 6): see the "
                     "degradation figure.")
    return "\n".join(lines)


def lesion_table(block: pd.DataFrame, refs: pd.DataFrame) -> str:
    """Veit et al.'s lesion as two tables (module docstring); Veit et al. publish figures only, no numbers."""
    del refs
    nets = list(dict.fromkeys(block["variant"]))
    header = ["network", "intact", "one block deleted, not downsampling: mean (min - max)",
              "one downsampling block deleted"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for net in nets:
        rows = block[block["variant"] == net]
        single = [(int(m["block"]), bool(m["down"]), value) for metric, value in zip(rows["metric"], rows["mean"],
                                                                                      strict=True)
                  if (m := SINGLE.match(metric))]
        plain = [v for _, down, v in single if not down]
        spread = f"{sum(plain) / len(plain):.2f} ({min(plain):.2f} - {max(plain):.2f})" if plain else ""
        down = ", ".join(f"block {b}: {v:.2f}" for b, is_down, v in single if is_down)
        lines.append(f"| {net} | {cell(block, net, 'test_error (intact)')} | {spread} | {down} |")
    ks = sorted({int(m["k"]) for metric in block["metric"] if (m := RANDOM.match(metric))})
    if ks:
        lines += ["", "| blocks deleted at random | " + " | ".join(nets) + " |", "|" + "---|" * (len(nets) + 1)]
        for k in ks:
            what = f"{k} random block{'s' if k > 1 else ''} deleted"
            cells = []
            for net in nets:
                mean = block[(block["variant"] == net) & (block["metric"] == f"test_error ({what})")]["mean"]
                std = block[(block["variant"] == net) & (block["metric"] == f"test_error std ({what})")]["mean"]
                cells.append(f"{mean.iloc[0]:.2f} ± {std.iloc[0]:.2f}" if len(mean) and len(std) else "")
            lines.append(f"| {k} | " + " | ".join(cells) + " |")
        lines += ["", "- errors in %; random deletions: mean ± std over the draws (blocks that do not downsample, the "
                      "same sets for both nets); Veit et al. 2016 publish the lesion as figures only (Figs. 3, 5)"]
    return "\n".join(lines)


# --- figures -------------------------------------------------------------------------------------------------------


NAMES = {"resnet": "ResNet", "plain": "plain", "densenet": "DenseNet", "densenet-bc": "DenseNet-BC"}


def _label(kind: str, depth: str) -> str:
    return f"{NAMES[kind]}-{depth}"


def _recipe_label(recipe: str) -> str:
    """A history file's augmentation as train.variant_name writes it: "pad-2-crops" -> "pad-2 crops"."""
    return re.sub(r"-(?!\d)", " ", recipe)


def degradation_figures(rows: pd.DataFrame, results_dir: Path) -> list[Path]:
    """He et al.'s Fig. 6 per study folder of histories and augmentation recipe (module docstring)."""
    del rows
    written = []
    for folder in sorted(p for p in (Path(results_dir) / "histories" / PAPER).glob("*") if p.is_dir()):
        # recipe -> panel -> (depth, label) -> histories of the seeds
        curves: dict[str, dict[str, dict[tuple[int, str], list[pd.DataFrame]]]] = {}
        for path in sorted(folder.glob("*.csv")):
            match = HISTORY.match(path.stem)
            if not match:
                continue
            history = pd.read_csv(path)
            if "step" not in history or "error" not in history or "val_error" not in history:
                continue
            augmentation = AUGMENTATION.search(match["rest"])
            recipe = augmentation["recipe"] if augmentation else ""
            size = match["rest"][:augmentation.start()] if augmentation else match["rest"]
            label = _label(match["kind"], match["depth"]) + re.sub(r"-([wk])-(\d+)", r" (\1=\2)", size)
            label += ", " + _recipe_label(recipe) if recipe else ""
            panel = {"resnet": "ResNet", "plain": "plain"}.get(match["kind"], "DenseNet")
            panels = curves.setdefault(recipe, {})
            panels.setdefault(panel, {}).setdefault((int(match["depth"]), label), []).append(history)
        for recipe, by_panel in sorted(curves.items()):
            name = f"{PAPER}_{folder.name}{'_' + recipe if recipe else ''}_degradation"
            title = f"{folder.name}, {_recipe_label(recipe)}" if recipe else folder.name
            written.append(_degradation_figure(by_panel, results_dir, name, title))
    return written


def _degradation_figure(curves: dict, results_dir: Path, name: str, title: str) -> Path:
    """One Fig. 6: a panel per family (plain, ResNet, DenseNet), a colour per depth."""
    panels = [p for p in ("plain", "ResNet", "DenseNet") if p in curves]
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4), squeeze=False, sharey=True)
    finals = []
    for ax, panel in zip(axes[0], panels, strict=True):
        colours = plt.cm.viridis_r([0.15 + 0.7 * i / max(1, len(curves[panel]) - 1)
                                    for i in range(len(curves[panel]))])
        for colour, ((_, label), histories) in zip(colours, sorted(curves[panel].items()), strict=True):
            mean = pd.concat(histories).groupby("step")[["error", "val_error"]].mean().reset_index()
            seeds = f" ({len(histories)} seeds)" if len(histories) > 1 else ""
            ax.plot(mean["step"], mean["error"], "--", lw=1, color=colour)
            ax.plot(mean["step"], mean["val_error"], "-", lw=2.2, color=colour, label=f"{label}{seeds}")
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
    """Veit et al.'s Figs. 3 and 5a per lesion experiment and scale, from the rows (mean over seeds)."""
    from common.report import latest_rows

    if rows is None or not len(rows):
        return []
    lesion = latest_rows(rows[rows["experiment"].astype(str).str.endswith("_lesion")])
    written = []
    for (experiment, preset), block in lesion.groupby(["experiment", "preset"], sort=False):
        means = block.groupby(["variant", "metric"], sort=False)["value"].mean()
        nets = list(dict.fromkeys(block["variant"]))
        fig, (single_ax, random_ax) = plt.subplots(1, 2, figsize=(12, 4.2))
        shaded = set()
        for net, colour in zip(nets, ("tab:blue", "tab:red", "tab:green", "tab:purple"), strict=False):
            single = sorted((int(m["block"]), bool(m["down"]), v) for (n, metric), v in means.items()
                            if n == net and (m := SINGLE.match(metric)))
            if single:
                blocks, downs, values = zip(*single, strict=True)
                single_ax.plot(blocks, values, "o-", color=colour, ms=4, label=net)
                for b, down in zip(blocks, downs, strict=True):
                    if down and b not in shaded:
                        single_ax.axvspan(b - 0.5, b + 0.5, color="0.85", zorder=0)
                        shaded.add(b)
            if (net, "test_error (intact)") in means:
                single_ax.axhline(means[net, "test_error (intact)"], ls="--", color=colour, lw=1)
            random = {}
            for (n, metric), v in means.items():
                if n == net and (m := RANDOM.match(metric)):
                    random.setdefault(int(m["k"]), {})["std" if m["std"] else "mean"] = v
            if random:
                ks = sorted(random)
                random_ax.errorbar([0, *ks], [means.get((net, "test_error (intact)"), float("nan")),
                                              *(random[k].get("mean", float("nan")) for k in ks)],
                                   yerr=[0.0, *(random[k].get("std", 0.0) for k in ks)], fmt="o-", ms=4, capsize=3,
                                   color=colour, label=net)
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
