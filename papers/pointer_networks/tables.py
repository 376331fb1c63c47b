"""Our rows laid out like the paper's tables, for `make results` (common/report.py reads LAYOUTS).

Table 1 (convex hull) and the Delaunay numbers: a row per model, trained n and test n, with the paper's
value beside ours in each metric. Table 2 (TSP): a row per test n (and the models' training sizes), a
column per solver (Optimal, A1, A2, A3) and per model (the paper's has the Ptr-Net only), each cell
"ours (paper)". Ours is the mean ± std over seeds (number of seeds), as everywhere in the report; an empty
value of ours is the paper's FAIL.
"""

import math
import re

import pandas as pd

MODEL_VARIANT = re.compile(  # train.variant_name: "Ptr-Net n=5-50 -> 10", "Ptr-Net n=50 (A1 tours) -> 50"
    r"^(?P<method>.+?) n=(?P<train>\d+(?:-\d+)?)(?: \((?P<tours>A\d) tours\))? -> (?P<test>\d+)$")
SOLVER_VARIANT = re.compile(r"^(?P<solver>Optimal|A1|A2|A3) n=(?P<test>\d+)$")
SOLVERS = ("Optimal", "A1", "A2", "A3")
METHODS = ("LSTM", "+Attention", "Ptr-Net")  # Table 1's order within a test n (train.MODEL_NAMES' names)


def ours(block: pd.DataFrame, variant: str, metric: str) -> str:
    row = block[(block["variant"] == variant) & (block["metric"] == metric)]
    if not len(row):
        return ""
    mean, std, n = row[["mean", "std", "n"]].iloc[0]
    if math.isnan(mean):
        return "FAIL"
    return f"{mean:.3f} ± {std:.3f} ({int(n)})" if n > 1 and not math.isnan(std) else f"{mean:.3f}"


def reference(refs: pd.DataFrame, variant: str, metric: str, kind: str = "paper") -> str:
    row = refs[(refs["variant"] == variant) & (refs["metric"] == metric) & (refs["kind"] == kind)]
    return str(row["value"].iloc[0]) if len(row) else ""


def table1_order(match: re.Match) -> tuple:
    """Rows by test n, then the paper's order of methods (LSTM, +Attention, Ptr-Net), then training sizes."""
    method = METHODS.index(match["method"]) if match["method"] in METHODS else len(METHODS)
    return int(match["test"]), method, int(match["train"].split("-")[0]), match["train"], match["tours"] or ""


def model_rows(block: pd.DataFrame, refs: pd.DataFrame, metrics: dict[str, str]) -> str:
    """Table 1's layout: method, trained n, test n, then per metric ours, the paper's and our target where
    the paper or the issue gives that metric."""
    kinds = {m: [k for k in ("paper", "target") if ((refs["metric"] == m) & (refs["kind"] == k)).any()]
             for m in metrics}
    header = ["Method", "Trained n", "Test n"]
    for metric, title in metrics.items():
        header += [f"{title} (ours)"] + [f"{title} ({kind})" for kind in kinds[metric]]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    matches = [m for m in map(MODEL_VARIANT.match, dict.fromkeys(block["variant"])) if m]
    for match in sorted(matches, key=table1_order):
        variant = match.string
        trained = match["train"] + (f" ({match['tours']} tours)" if match["tours"] else "")
        cells = [match["method"], trained, match["test"]]
        for metric in metrics:
            cells += [ours(block, variant, metric)] + [reference(refs, variant, metric, k) for k in kinds[metric]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def table1_convex_hull(block: pd.DataFrame, refs: pd.DataFrame) -> str:
    return model_rows(block, refs, {"accuracy": "Accuracy", "area_coverage": "Area",
                                    "accuracy (greedy)": "Accuracy, greedy", "non_simple_share": "Not simple"})


def delaunay(block: pd.DataFrame, refs: pd.DataFrame) -> str:
    return model_rows(block, refs, {"accuracy": "Accuracy", "triangle_coverage": "Triangle coverage",
                                    "accuracy (greedy)": "Accuracy, greedy"})


def table2_tsp(block: pd.DataFrame, refs: pd.DataFrame) -> str:
    """Table 2: a row per (test n, training sizes), solver columns, then a column per model that has rows (LSTM,
    +Attention, Ptr-Net: the paper's Table 2 has the Ptr-Net only), cells "ours (paper)"."""
    def cell(variant: str | None) -> str:
        if variant is None:
            return ""
        mine, theirs = ours(block, variant, "tour_length"), reference(refs, variant, "tour_length")
        return f"{mine or '-'} ({theirs})" if theirs else mine

    rows = {}  # (test n, trained) -> {method: variant}; empty where only the solvers ran
    for variant in dict.fromkeys(block["variant"]):
        if match := MODEL_VARIANT.match(variant):
            trained = match["train"] + (f" ({match['tours']} tours)" if match["tours"] else "")
            rows.setdefault((int(match["test"]), trained), {})[match["method"]] = variant
        elif match := SOLVER_VARIANT.match(variant):
            rows.setdefault((int(match["test"]), ""), {})
    methods = [m for m in METHODS if m == "Ptr-Net" or any(m in models for models in rows.values())]
    covered = {n for (n, trained), models in rows.items() if models}
    header = ["n", "Trained on n", *SOLVERS, *methods, "Ptr-Net target"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for (n, trained), models in sorted(rows.items()):
        if not models and n in covered:
            continue  # the solvers of this n already stand beside a model row
        cells = [str(n), trained or "-", *(cell(f"{s} n={n}") for s in SOLVERS)]
        cells += [cell(models.get(m)) for m in methods]
        ptr_net = models.get("Ptr-Net")
        cells.append(reference(refs, ptr_net, "tour_length", "target") if ptr_net else "")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


LAYOUTS = {"table1_convex_hull": table1_convex_hull, "delaunay": delaunay, "table2_tsp": table2_tsp}
