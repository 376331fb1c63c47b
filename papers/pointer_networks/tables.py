"""Our rows laid out like the paper's tables, for `make results` (common/report.py reads LAYOUTS).

Table 1 (convex hull) and the Delaunay numbers: a row per model, trained n and test n. The headline columns are the
paper's protocol, the unconstrained decoder (Sec. 4.4; evaluate.py), with the paper's value and our target beside
ours in each metric of beam search, then greedy decoding's accuracy; the constrained searches' columns follow, ours
only. Table 2 (TSP): a row per test n (and the models' training sizes), a column per solver (Optimal, A1, A2, A3) and
per model (the paper's has the Ptr-Net only), each cell "ours (paper)" of the constrained beam search, the paper's
protocol there. Ours is the mean ± std over seeds (number of seeds), as everywhere in the report; an empty value of
ours is the paper's FAIL, an empty cell a search not run (rows measured before the unconstrained searches have the
constrained ones only). Rows are found by their fields (rows.py), never by their names.
"""

import pandas as pd

from common.report import first, mean_std, references, select
from papers.pointer_networks.rows import METHODS, SOLVERS, solver_fields, trained_on

MODEL = ("task", "method", "n_min", "n_max", "n_test")  # the fields that name a trained model and its test n
HEADLINE = "False"  # the hull's and Delaunay's protocol: "the decoder was unconstrained" (Sec. 4.4)


def models(block: pd.DataFrame) -> list[dict]:
    """The models of a block (not the solvers), by test n, then the paper's order of methods (LSTM, +Attention,
    Ptr-Net), then training sizes."""
    found = block[block["method"].isin(METHODS)].drop_duplicates(list(MODEL))
    keys = [dict(zip(MODEL, values, strict=True)) for values in found[list(MODEL)].values]
    return sorted(keys, key=lambda k: (int(k["n_test"]), METHODS.index(k["method"]), int(k["n_min"]),
                                       int(k["n_max"]), k["task"]))


def ours(block: pd.DataFrame, key: dict, metric: str, decoding: str = "beam",
         constrained: str = "True") -> tuple[str, dict]:
    """Ours for a model under a decoding and its constraints ("True", "False"), or for a solver, and the fields of
    that row."""
    if key["method"] in SOLVERS:
        rows = select(block, **key, metric=metric)
    else:
        rows = select(block, **key, metric=metric, decoding=decoding, constrained=constrained)
    if not len(rows):
        return "", {**key, "decoding": decoding, "constrained": constrained}
    return mean_std(*rows[["mean", "std", "n"]].iloc[0], missing="FAIL"), rows.iloc[0]


def reference(refs: pd.DataFrame, fields, experiment: str, metric: str, kind: str = "paper") -> str:
    return first(references(refs, fields, experiment=experiment, metric=metric, kind=kind), "value")


def model_rows(block: pd.DataFrame, refs: pd.DataFrame, columns: dict[tuple[str, str, str], str]) -> str:
    """Table 1's layout: method, trained n, test n, then per (metric, decoding, constrained) column ours, and, in the
    paper's protocol (constrained == HEADLINE), the paper's value and our target where the paper or the issue gives
    that metric for that decoding."""
    experiment = first(block, "experiment")
    own = refs[refs["experiment"] == experiment]
    kinds = {(m, d, c): [k for k in ("paper", "target") if c == HEADLINE and len(
                 own[(own["metric"] == m) & (own["kind"] == k) & own["decoding"].isin(("", d))])]
             for m, d, c in columns}
    head = ["Method", "Trained n", "Test n"]
    for column, title in columns.items():
        head += [f"{title} (ours)"] + [f"{title} ({kind})" for kind in kinds[column]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key in models(block):
        cells = [key["method"], trained_on(key), key["n_test"]]
        for column in columns:
            metric = column[0]
            mine, fields = ours(block, key, *column)
            cells += [mine] + [reference(refs, fields, experiment, metric, k) for k in kinds[column]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def headline_and_constrained(columns: dict[tuple[str, str], str]) -> dict[tuple[str, str, str], str]:
    """The (metric, decoding) columns under the paper's protocol, then the same under our constraints."""
    return {**{(m, d, HEADLINE): title for (m, d), title in columns.items()},
            **{(m, d, "True"): f"{title}, constrained" for (m, d), title in columns.items()}}


def table1_convex_hull(block: pd.DataFrame, refs: pd.DataFrame) -> str:
    return model_rows(block, refs, headline_and_constrained({
        ("accuracy", "beam"): "Accuracy", ("area_coverage", "beam"): "Area", ("accuracy", "greedy"): "Accuracy, greedy",
        ("non_simple_share", "beam"): "Not simple"}))


def delaunay(block: pd.DataFrame, refs: pd.DataFrame) -> str:
    """Triangle coverage is recall, the metric the paper's number stands beside (README "Deviations")."""
    return model_rows(block, refs, headline_and_constrained({
        ("accuracy", "beam"): "Accuracy", ("triangle_coverage", "beam"): "Triangle coverage",
        ("triangle_precision", "beam"): "Triangle precision", ("accuracy", "greedy"): "Accuracy, greedy"}))


def table2_tsp(block: pd.DataFrame, refs: pd.DataFrame) -> str:
    """Table 2: a row per (test n, training sizes), solver columns, then a column per model that has rows (LSTM,
    +Attention, Ptr-Net: the paper's Table 2 has the Ptr-Net only), cells "ours (paper)"."""
    experiment = first(block, "experiment")

    def cell(key: dict | None) -> str:
        if key is None:
            return ""
        mine, fields = ours(block, key, "tour_length")
        theirs = reference(refs, fields, experiment, "tour_length")
        return f"{mine or '-'} ({theirs})" if theirs else mine

    rows: dict[tuple[int, str], dict[str, dict]] = {}  # (test n, trained) -> {method: model}; {} for solvers alone
    for key in models(block):
        rows.setdefault((int(key["n_test"]), trained_on(key)), {})[key["method"]] = key
    for n in block.loc[block["method"].isin(SOLVERS), "n_test"]:
        rows.setdefault((int(n), ""), {})
    methods = [m for m in METHODS if m == "Ptr-Net" or any(m in found for found in rows.values())]
    covered = {n for (n, _), found in rows.items() if found}
    head = ["n", "Trained on n", *SOLVERS, *methods, "Ptr-Net target"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for (n, trained), found in sorted(rows.items()):
        if not found and n in covered:
            continue  # the solvers of this n already stand beside a model row
        solvers = [{k: v for k, v in solver_fields(s, n).items() if k in MODEL} for s in SOLVERS]
        cells = [str(n), trained or "-", *(cell(s) for s in solvers), *(cell(found.get(m)) for m in methods)]
        ptr_net = found.get("Ptr-Net")
        cells.append(reference(refs, ours(block, ptr_net, "tour_length")[1], experiment, "tour_length", "target")
                     if ptr_net else "")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


LAYOUTS = {"table1_convex_hull": table1_convex_hull, "delaunay": delaunay, "table2_tsp": table2_tsp}
