"""The metrics of Pointer Networks' Tables 1 and 2 and its Delaunay results (Vinyals et al. 2015, Sec. 4.2-4.4).

Predictions and targets are sequences of 0-based input indices, given either as an int array (N, L, ...)
padded with -1 after each sequence, or as a list of N sequences of any lengths. Entries equal to -1 are
padding: `[3, 1, -1]` is the sequence `[3, 1]`. Trailing axes are flattened, so Delaunay triangles
(N, T, 3) compare as sequences of 3T indices. Every metric scores any such output, as an unconstrained decoder
(constraints.py) emits them: repeated indices, no EOS (the output runs to the search's maximum length), and for
Delaunay a length that is not a multiple of 3 (the torn last triangle counts as a wrong one).

* `sequence_accuracy`: the predicted sequence equals the target exactly (the convention of our targets).
* `polygon_accuracy`: the paper's convex-hull accuracy, "two output sequences ... are the same if they
  represent the same polygon" -- equal up to the starting vertex and the direction.
* `hull_area_coverage`: area of the predicted polygon / area of the true hull, averaged over the
  predictions that are simple polygons, or FAIL when more than 1% of them are not (Sec. 4.2).
* `triangle_coverage` (recall): the share of the true triangles that the output contains (Sec. 4.3's
  "triangle coverage", our reading; README "Deviations"); `triangle_precision`: the share of the output's
  triangles that are true ones; `triangulation_accuracy`: the output's triangles are exactly the true ones.
* `tour_metrics`: mean tour length over the valid tours, and the share of invalid tours (Table 2).
"""

from dataclasses import dataclass

import numpy as np
from scipy.spatial import ConvexHull

from papers.pointer_networks.geometry import PAD, is_simple_polygon, signed_area
from papers.pointer_networks.tours import is_valid_tour, tour_length


def strip_padding(sequences) -> list[np.ndarray]:
    """The sequences without their -1 padding, each flattened to one int64 array."""
    rows = []
    for row in sequences:
        row = np.asarray(row, dtype=np.int64).ravel()
        rows.append(row[row != PAD])
    return rows


def pad_sequences(sequences, width: int | None = None) -> np.ndarray:
    """int64 array (N, width): the sequences (without padding) left-aligned and padded with -1."""
    rows = strip_padding(sequences)
    width = max([len(r) for r in rows] + [0]) if width is None else width
    out = np.full((len(rows), width), PAD, dtype=np.int64)
    for i, row in enumerate(rows):
        if len(row) > width:
            raise ValueError(f"sequence {i} has {len(row)} entries, more than the width {width}")
        out[i, : len(row)] = row
    return out


def _check_same_count(predictions, targets) -> None:
    if len(predictions) != len(targets):
        raise ValueError(f"{len(predictions)} predictions for {len(targets)} targets")


def sequence_accuracy(predictions, targets) -> float:
    """Share of instances whose prediction, without padding, equals the target exactly (same length too)."""
    _check_same_count(predictions, targets)
    p, t = strip_padding(predictions), strip_padding(targets)
    width = max([len(r) for r in p + t] + [0])
    return float(np.mean(np.all(pad_sequences(p, width) == pad_sequences(t, width), axis=1)))


def same_polygon(prediction, target) -> bool:
    """Whether two vertex sequences are the same closed polygon: equal up to rotation and reversal."""
    p, t = (np.asarray(x, dtype=np.int64).ravel() for x in (prediction, target))
    if len(p) != len(t) or len(t) == 0 or t[0] not in p:
        return False
    p = np.roll(p, -int(np.flatnonzero(p == t[0])[0]))
    return bool(np.array_equal(p, t) or np.array_equal(np.roll(p[::-1], 1), t))


def polygon_accuracy(predictions, targets) -> float:
    """The paper's convex-hull accuracy: share of predictions that are the target polygon (any start, any direction)."""
    _check_same_count(predictions, targets)
    p, t = strip_padding(predictions), strip_padding(targets)
    return float(np.mean([same_polygon(a, b) for a, b in zip(p, t, strict=True)]))


@dataclass(frozen=True)
class HullCoverage:
    """Area coverage of the true convex hulls, with the paper's FAIL rule."""

    coverage: float  # mean over the simple predicted polygons; nan when none is simple
    non_simple_share: float  # share of predictions that are not simple polygons
    fail: bool  # more than `fail_percent` percent are not simple: the paper reports FAIL

    def __str__(self) -> str:
        return "FAIL" if self.fail else f"{100 * self.coverage:.1f}%"


def hull_area_coverage(points: np.ndarray, predictions, fail_percent: float = 1.0) -> HullCoverage:
    """Area of each predicted polygon over the area of its point set's convex hull (Sec. 4.2).

    "We only computed the area coverage for the test examples in which the output represents a simple
    polygon ... If an algorithm fails to produce a simple polygon in more than 1% of the cases, we simply
    reported FAIL." A simple polygon on the points lies inside their hull, so its area ratio is its
    coverage. Not simple: see `geometry.is_simple_polygon` (fewer than 3 vertices, a repeated vertex,
    crossing or touching edges). Exactly `fail_percent` percent non-simple is not FAIL.
    """
    points = np.asarray(points, dtype=np.float64)
    rows = strip_padding(predictions)
    _check_same_count(rows, points)
    simple = np.array([is_simple_polygon(p, r) for p, r in zip(points, rows, strict=True)], dtype=bool)
    ratios = [abs(signed_area(p[r])) / ConvexHull(p).volume  # in 2-D, scipy's "volume" is the area
              for p, r, ok in zip(points, rows, simple, strict=True) if ok]
    n_bad = int((~simple).sum())
    return HullCoverage(
        coverage=float(np.mean(ratios)) if ratios else float("nan"),
        non_simple_share=n_bad / len(rows),
        fail=n_bad * 100 > fail_percent * len(rows),
    )


def triangles_of(sequence) -> tuple[list[tuple[int, ...]], int]:
    """An output's triangles as vertex sets: (the whole triples, each sorted; 1 if the sequence ends in a torn
    triangle of 1 or 2 indices, else 0). `sequence` is a (T, 3) array or list of triples, or a flat sequence,
    padded with -1; a triple with a repeated vertex stays (no true triangle has one)."""
    flat = strip_padding([sequence])[0]
    whole = len(flat) - len(flat) % 3
    return [tuple(sorted(t)) for t in flat[:whole].reshape(-1, 3).tolist()], int(whole < len(flat))


def _triangle_pairs(predictions, targets):
    _check_same_count(predictions, targets)
    for pred, true in zip(predictions, targets, strict=True):
        found, torn = triangles_of(pred)
        yield found, torn, set(triangles_of(true)[0])


def triangle_coverage(predictions, targets) -> float:
    """Recall: the share of the true triangles that appear (as vertex sets) among the output's, averaged over
    instances. Order, vertex order inside a triangle, extra and repeated output triangles do not matter: the true
    set plus one wrong triangle scores 1.0 (`triangle_precision` counts those)."""
    shares = [len(wanted & set(found)) / len(wanted) if wanted else 1.0
              for found, _, wanted in _triangle_pairs(predictions, targets)]
    return float(np.mean(shares))


def triangle_precision(predictions, targets) -> float:
    """Precision: the share of the output's triangles that are true triangles, averaged over instances. Each true
    triangle counts once (a repeat of it is wrong), a torn last triangle is wrong, an empty output scores 0."""
    shares = [len(wanted & set(found)) / (len(found) + torn) if found or torn else 0.0
              for found, torn, wanted in _triangle_pairs(predictions, targets)]
    return float(np.mean(shares))


def triangulation_accuracy(predictions, targets) -> float:
    """Share of instances whose output is exactly the true triangles, as vertex sets, each once, in any order, and
    nothing else (no torn triangle)."""
    return float(np.mean([not torn and sorted(found) == sorted(wanted)
                          for found, torn, wanted in _triangle_pairs(predictions, targets)]))


@dataclass(frozen=True)
class TourMetrics:
    mean_length: float  # over the valid tours; nan when none is valid
    invalid_share: float  # tours that are not a permutation of all n cities


def tour_metrics(points: np.ndarray, tours) -> TourMetrics:
    """Table 2's tour length (closed tours), averaged over the valid predictions, and the share of invalid ones.

    A tour is valid when it is a permutation of all n cities (see `tours.is_valid_tour`); the length of
    an invalid tour is not defined, so it is left out of the mean and counted in `invalid_share`.
    """
    points = np.asarray(points, dtype=np.float64)
    rows = strip_padding(tours)
    _check_same_count(rows, points)
    valid = is_valid_tour(rows, points.shape[1])
    good = np.array([r for r, ok in zip(rows, valid, strict=True) if ok], dtype=np.int64).reshape(-1, points.shape[1])
    lengths = tour_length(points[valid], good)
    return TourMetrics(
        mean_length=float(lengths.mean()) if valid.any() else float("nan"),
        invalid_share=float(1 - valid.mean()),
    )
