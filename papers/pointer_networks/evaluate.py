"""Decode the test set and measure it as the paper's tables do (Vinyals et al. 2015, Sec. 4).

Each search is a row group (rows.py's `decoding` and `constrained`): beam search of width `beam_width` (the paper's
decoding, Sec. 2.1; the paper states no width) and greedy decoding, each under the rules of `constrained`
(constraints.py). The paper's protocol (Sec. 4.4) is the headline of each task:

* convex hull and Delaunay: "the decoder was unconstrained" (constrained False): any point or EOS at every step, up
  to one output past the longest valid one; the FAIL rule is measured on these outputs. The constrained searches
  (no repeated hull vertex; whole Delaunay triangles, at most 2n - 5) are reported beside them (constrained True);
* TSP: the searches consider only valid tours (constrained True); the share of unconstrained greedy outputs that
  are not tours is a row of its own (constrained False).

Metrics (metrics.py), as fractions (0.92, not 92%) like paper_results.csv: convex hull "accuracy" (the same
polygon, any start and direction), "area_coverage" (NaN when more than 1% of the outputs are not simple polygons:
the paper's FAIL) and "non_simple_share"; Delaunay "accuracy" (the same set of triangles), "triangle_coverage"
(recall: the paper's number stands beside it, README "Deviations") and "triangle_precision"; TSP "tour_length"
and "invalid_share".
"""

import math

import ml_collections
import numpy as np

from papers.pointer_networks import constraints, metrics, rows


def decode(model, points: np.ndarray, rules: constraints.TaskConstraint, beam_width: int | None,
           batch_size: int) -> np.ndarray:
    """Greedy (beam_width None) or beam-search outputs for every test instance, in chunks of `batch_size`."""
    outputs = [constraints.search(model, points[start : start + batch_size], rules, beam_width)[0]
               for start in range(0, len(points), batch_size)]
    return np.concatenate(outputs)


def task_metrics(task: str, points: np.ndarray, targets: np.ndarray | None, outputs: np.ndarray) -> dict:
    """The paper's metrics of one decoding of the test set, as fractions; area_coverage NaN on FAIL."""
    if task == "convex_hull":
        coverage = metrics.hull_area_coverage(points, outputs)
        return {"accuracy": metrics.polygon_accuracy(outputs, targets),
                "area_coverage": math.nan if coverage.fail else coverage.coverage,
                "non_simple_share": coverage.non_simple_share}
    if task == "delaunay":
        return {"accuracy": metrics.triangulation_accuracy(outputs, targets),
                "triangle_coverage": metrics.triangle_coverage(outputs, targets),
                "triangle_precision": metrics.triangle_precision(outputs, targets)}
    tours = metrics.tour_metrics(points, outputs)
    return {"tour_length": tours.mean_length, "invalid_share": tours.invalid_share}


def searches(task: str) -> list[tuple[bool, str]]:
    """(constrained, decoding) of each search of the test set, the paper's protocol first (module docstring)."""
    if task == "tsp":
        return [(True, "beam"), (True, "greedy"), (False, "greedy")]
    return [(False, "beam"), (False, "greedy"), (True, "beam"), (True, "greedy")]


def evaluate(model, config: ml_collections.ConfigDict, points: np.ndarray, targets: np.ndarray | None) -> list[dict]:
    """Every measurement of the test set: rows of the paper's fields (rows.model_fields), metric and value."""
    task = "tsp" if config.task.startswith("tsp") else config.task
    measured = []
    for constrained, decoding in searches(task):
        rules = constraints.for_task(task, points.shape[1], constrained=constrained)
        width = config.beam_width if decoding == "beam" else None
        values = task_metrics(task, points, targets, decode(model, points, rules, width, config.eval_batch_size))
        if task == "tsp":  # constrained searches return only tours (invalid share 0); unconstrained: only that share
            kept = "tour_length" if constrained else "invalid_share"
            values = {kept: values[kept]}
        fields = rows.model_fields(config, decoding, constrained=constrained)
        measured += [{**fields, "metric": metric, "value": value} for metric, value in values.items()]
    return measured


def format_rows(measured: list[dict]) -> str:
    """One line: "accuracy (beam) 0.9220, area_coverage (beam) FAIL, ..."."""
    def name(row):
        return f"{row['metric']} ({row['decoding']}{'' if row['constrained'] == 'True' else ', unconstrained'})"

    def value(row):
        return "FAIL" if math.isnan(row["value"]) else f"{row['value']:.4f}"

    return ", ".join(f"{name(r)} {value(r)}" for r in measured)
