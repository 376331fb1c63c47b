"""Decode the test set and measure it as the paper's tables do (Vinyals et al. 2015, Sec. 4).

The test set is decoded twice, each a row group (rows.py's `decoding`):

* beam search of width `beam_width` (the paper's decoding, Sec. 2.1; the paper states no width);
* greedy decoding.

Constraints on the search (constraints.py): the TSP's searches only consider valid tours (Sec. 4.4); convex hulls
never repeat a vertex; Delaunay triangles share vertices, so only whole triangles are constrained. For the TSP, the
share of greedy outputs that are not tours without that constraint is a row of its own (constrained False).

Metrics (metrics.py), as fractions (0.92, not 92%) like paper_results.csv: convex hull "accuracy" (the same
polygon, any start and direction), "area_coverage" (NaN when more than 1% of the outputs are not simple polygons:
the paper's FAIL) and "non_simple_share"; Delaunay "accuracy" (the same set of triangles) and "triangle_coverage";
TSP "tour_length" and "invalid_share".
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
                "triangle_coverage": metrics.triangle_coverage(outputs, targets)}
    tours = metrics.tour_metrics(points, outputs)
    return {"tour_length": tours.mean_length, "invalid_share": tours.invalid_share}


def evaluate(model, config: ml_collections.ConfigDict, points: np.ndarray, targets: np.ndarray | None) -> list[dict]:
    """Every measurement of the test set: rows of the paper's fields (rows.model_fields), metric and value."""
    task = "tsp" if config.task.startswith("tsp") else config.task
    rules = constraints.for_task(task, points.shape[1], no_repeats=True)
    measured = []
    for decoding, width in (("beam", config.beam_width), ("greedy", None)):
        values = task_metrics(task, points, targets, decode(model, points, rules, width, config.eval_batch_size))
        if task == "tsp":  # the constrained searches only return tours: their invalid share is 0 by construction
            del values["invalid_share"]
        fields = rows.model_fields(config, decoding, constrained=True)
        measured += [{**fields, "metric": metric, "value": value} for metric, value in values.items()]
    if task == "tsp":
        free = decode(model, points, constraints.TaskConstraint(points.shape[1]), None, config.eval_batch_size)
        measured.append({**rows.model_fields(config, "greedy", constrained=False), "metric": "invalid_share",
                         "value": task_metrics(task, points, None, free)["invalid_share"]})
    return measured


def format_rows(measured: list[dict]) -> str:
    """One line: "accuracy (beam) 0.9220, area_coverage (beam) FAIL, ..."."""
    def name(row):
        return f"{row['metric']} ({row['decoding']}{'' if row['constrained'] == 'True' else ', unconstrained'})"

    def value(row):
        return "FAIL" if math.isnan(row["value"]) else f"{row['value']:.4f}"

    return ", ".join(f"{name(r)} {value(r)}" for r in measured)
