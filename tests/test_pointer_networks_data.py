"""Pointer Networks' data and metrics: exact targets against brute force, heuristics' guarantees, hand-made metric
cases, and the cache."""

import itertools
import os
import re
import stat

import numpy as np
import pytest

from common.data import DataError
from papers.pointer_networks import data, geometry, heuristics, metrics, solvers
from papers.pointer_networks.christofides import christofides, eulerian_circuit, min_weight_perfect_matching
from papers.pointer_networks.tours import canonical_direction, is_valid_tour, signed_area, tour_length


def brute_force_tours(points: np.ndarray) -> np.ndarray:
    """The shortest tour of each instance over all (n - 1)! orders that start at city 0, canonical."""
    n = points.shape[1]
    orders = np.array([(0, *rest) for rest in itertools.permutations(range(1, n))])
    best = [orders[np.argmin(tour_length(np.broadcast_to(p, (len(orders), n, 2)), orders))] for p in points]
    return canonical_direction(points, np.array(best))


def assert_canonical_tours(points: np.ndarray, tours: np.ndarray, n: int) -> None:
    assert tours.shape[1] == n
    assert is_valid_tour(tours, n).all()
    assert (tours[:, 0] == 0).all()
    if n > 2:
        assert (signed_area(points, tours) > 0).all()  # counter-clockwise


# --- TSP ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [2, 3, 4, 5, 6, 7, 8])
def test_held_karp_equals_brute_force(n):
    points = geometry.random_points(12, n, seed=n)
    tours = solvers.held_karp(points)
    assert_canonical_tours(points, tours, n)
    expected = brute_force_tours(points)
    np.testing.assert_allclose(tour_length(points, tours), tour_length(points, expected), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(tours, expected)


def test_held_karp_chunks_give_the_same_tours():
    points = geometry.random_points(50, 7, seed=1)
    whole = solvers.held_karp(points)
    in_chunks = solvers.held_karp(points, max_bytes=8 * 64 * 6 * 7)  # 7 instances per chunk, the last one short
    np.testing.assert_array_equal(whole, in_chunks)
    with pytest.raises(ValueError, match="above the limit"):
        solvers.held_karp(geometry.random_points(1, 21, seed=0))


def test_canonical_direction_is_counter_clockwise():
    square = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])  # cities 0 .. 3 counter-clockwise
    shuffled = square[[0, 3, 2, 1]]  # the same square, its cities numbered clockwise
    points = np.stack([square, square, shuffled])
    tours = canonical_direction(points, [[0, 3, 2, 1], [0, 1, 2, 3], [0, 1, 2, 3]])
    np.testing.assert_array_equal(tours, [[0, 1, 2, 3], [0, 1, 2, 3], [0, 3, 2, 1]])
    np.testing.assert_allclose(signed_area(points, tours), 1.0)
    line = np.stack([np.linspace(0, 1, 4), np.zeros(4)], axis=1)[None]  # zero area: the smaller second city
    np.testing.assert_array_equal(canonical_direction(line, [[0, 3, 1, 2]]), [[0, 2, 1, 3]])


@pytest.mark.parametrize("n", [5, 8, 10])
def test_heuristics_are_valid_tours_no_shorter_than_the_optimum(n):
    points = geometry.random_points(40, n, seed=100 + n)
    optimum = tour_length(points, solvers.held_karp(points))
    solvers_to_check = {
        "nearest_neighbour": heuristics.nearest_neighbour,
        "nearest_neighbour_two_opt(all_starts)": lambda p: heuristics.nearest_neighbour_two_opt(p, all_starts=True),
        "christofides": christofides,
        **heuristics.HEURISTICS,
    }
    for name, solve in solvers_to_check.items():
        tours = solve(points)
        assert_canonical_tours(points, tours, n)
        assert (tour_length(points, tours) >= optimum - 1e-9).all(), name
    # Christofides' guarantee, with the exact matching; 2-opt after it only shortens the tour
    for solve in (christofides, heuristics.HEURISTICS["a3"]):
        assert (tour_length(points, solve(points)) <= 1.5 * optimum + 1e-9).all()


def test_two_opt_leaves_no_improving_exchange():
    points = geometry.random_points(20, 12, seed=3)
    tours = heuristics.two_opt(points, np.tile(np.arange(12), (20, 1)))
    lengths = tour_length(points, tours)
    for p, tour, length in zip(points, tours, lengths, strict=True):
        for i, j in itertools.combinations(range(1, 12), 2):
            moved = np.concatenate([tour[:i], tour[i : j + 1][::-1], tour[j + 1 :]])
            assert tour_length(p, moved) >= length - 1e-9


def test_greedy_edge_takes_the_shortest_edges_first():
    # greedy joins 2-3 (0.05), 0-1 (1.0), 0-2 (1.2) into the path 1-0-2-3; nearest neighbour goes 0-1-2-3
    points = np.array([[[0.0, 0.0], [1.0, 0.0], [-1.2, 0.0], [-1.25, 0.0]]])
    np.testing.assert_array_equal(heuristics.greedy_edge(points), [[0, 1, 3, 2]])
    np.testing.assert_array_equal(heuristics.nearest_neighbour(points), [[0, 1, 2, 3]])


def brute_force_matching_cost(w: np.ndarray) -> float:
    if len(w) == 0:
        return 0.0
    rest = list(range(1, len(w)))
    return min(w[0, j] + brute_force_matching_cost(w[np.ix_([k for k in rest if k != j], [k for k in rest if k != j])])
               for j in rest)


@pytest.mark.parametrize("k", [2, 4, 6, 8])
def test_matching_is_exact(k):
    rng = np.random.default_rng(k)
    w = rng.random((k, k))
    w = w + w.T
    for method in ("dp", "milp"):
        pairs = min_weight_perfect_matching(w, method)
        assert sorted(v for pair in pairs for v in pair) == list(range(k))
        assert sum(w[i, j] for i, j in pairs) == pytest.approx(brute_force_matching_cost(w), abs=1e-9)


def test_eulerian_circuit_uses_every_edge_once():
    edges = [(0, 1), (1, 2), (2, 0), (0, 3), (3, 4), (4, 0), (1, 2), (2, 1)]
    circuit = eulerian_circuit(5, edges)
    assert circuit[0] == circuit[-1] == 0
    walked = sorted(tuple(sorted(e)) for e in itertools.pairwise(circuit))
    assert walked == sorted(tuple(sorted(e)) for e in edges)


# --- convex hull and Delaunay -------------------------------------------------------------------------

def gift_wrapping_hull(points: np.ndarray) -> list[int]:
    """Jarvis' march, counter-clockwise from the leftmost point: an independent reference."""
    n = len(points)
    start = int(np.argmin(points[:, 0]))
    hull, current = [], start
    while True:
        hull.append(current)
        candidate = (current + 1) % n
        for other in range(n):
            a, b = points[candidate] - points[current], points[other] - points[current]
            if a[0] * b[1] - a[1] * b[0] < 0:  # `other` is to the right of current -> candidate: wrap tighter
                candidate = other
        current = candidate
        if current == start:
            return hull


def in_circle(a, b, c, d) -> float:
    """Positive when d lies inside the circle through the counter-clockwise triangle a, b, c."""
    return float(np.linalg.det(np.array([[*(v - d), (v - d) @ (v - d)] for v in (a, b, c)])))


@pytest.mark.parametrize("n", [3, 5, 8, 12, 30])
def test_convex_hull_targets_are_counter_clockwise_from_the_smallest_index(n):
    points = geometry.random_points(25, n, seed=n)
    targets = geometry.convex_hull_targets(points)
    assert targets.shape == (25, n) and targets.dtype == np.int32
    for p, row in zip(points.astype(np.float64), targets, strict=True):
        hull = row[row != -1]
        assert (row[len(hull) :] == -1).all()
        assert hull[0] == hull.min()
        assert geometry.signed_area(p[hull]) > 0
        reference = gift_wrapping_hull(p)
        start = reference.index(min(reference))
        np.testing.assert_array_equal(hull, reference[start:] + reference[:start])


def _incenters(points: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    sides = [np.linalg.norm(points[triangles[:, (k + 1) % 3]] - points[triangles[:, (k + 2) % 3]], axis=1)
             for k in range(3)]
    return sum(s[:, None] * points[triangles[:, k]] for k, s in enumerate(sides)) / sum(sides)[:, None]


def test_paper_triangle_order_ignores_the_order_it_is_given():
    points = geometry.random_points(1, 12, seed=2)[0].astype(np.float64)
    targets = geometry.delaunay_targets(points[None])[0]
    real = targets[(targets != -1).all(axis=1)]
    shuffled = np.random.default_rng(0).permuted(real[::-1], axis=1)  # triangles reversed, vertices shuffled
    np.testing.assert_array_equal(geometry.paper_triangle_order(points, shuffled), real)
    padded = geometry.paper_triangle_order(points, targets)  # -1 rows stay last
    np.testing.assert_array_equal(padded, targets)


def test_delaunay_targets_are_the_papers_order_and_empty_circle():
    """Sec. 3.2: "we order the triangles by their incenter coordinates (lexicographic order) and choose the
    increasing triangle representation"; and each triangle is Delaunay (no point inside its circumcircle)."""
    n = 9
    points = geometry.random_points(10, n, seed=5)
    targets = geometry.delaunay_targets(points)
    assert targets.shape == (10, 2 * n - 5, 3)
    hulls = geometry.convex_hull_targets(points)
    for p, tri, hull in zip(points.astype(np.float64), targets, hulls, strict=True):
        real = tri[(tri != -1).all(axis=1)]
        assert (tri[len(real) :] == -1).all()
        assert len(real) == 2 * n - 2 - (hull != -1).sum()  # Euler's formula for a triangulation
        assert (np.diff(real, axis=1) > 0).all()  # increasing representation
        assert (np.diff(_incenters(p, real)[:, 0]) > 0).all()  # by incenter x (ties have probability zero)
        for a, b, c in real:
            # empty circumcircle: no other point strictly inside (the in-circle determinant, counter-clockwise)
            a, b, c = (a, b, c) if geometry.signed_area(p[[a, b, c]]) > 0 else (a, c, b)
            for k in set(range(n)) - {a, b, c}:
                assert in_circle(p[a], p[b], p[c], p[k]) <= 1e-12


# --- metrics ------------------------------------------------------------------------------------------

SQUARE = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.5, 0.4]])


def test_square_hull_predicted_exactly():
    target = geometry.convex_hull_targets(SQUARE[None])
    np.testing.assert_array_equal(target, [[0, 1, 2, 3, -1]])
    assert metrics.sequence_accuracy(target, [[0, 1, 2, 3]]) == 1.0
    assert metrics.polygon_accuracy(target, [[0, 1, 2, 3]]) == 1.0
    result = metrics.hull_area_coverage(SQUARE[None], target)
    assert result.coverage == 1.0 and result.non_simple_share == 0.0 and not result.fail
    assert str(result) == "100.0%"
    # the same polygon from another vertex, or clockwise: the paper's accuracy counts it, exact sequence does not
    assert metrics.polygon_accuracy([[2, 3, 0, 1], [0, 3, 2, 1]], [[0, 1, 2, 3]] * 2) == 1.0
    assert metrics.sequence_accuracy([[2, 3, 0, 1], [0, 1, 2, 3, 4]], [[0, 1, 2, 3]] * 2) == 0.0
    assert metrics.polygon_accuracy([[0, 1, 2, 4, 3]], [[0, 1, 2, 3]]) == 0.0
    # a polygon through the inner point covers less than the hull
    assert metrics.hull_area_coverage(SQUARE[None], [[0, 1, 2, 4]]).coverage == pytest.approx(0.5 - 0.05)


def test_non_simple_polygons():
    assert geometry.is_simple_polygon(SQUARE, [0, 1, 2, 3])
    assert geometry.is_simple_polygon(SQUARE, [3, 2, 1, 0])  # clockwise is still simple
    assert not geometry.is_simple_polygon(SQUARE, [0, 2, 1, 3])  # bow-tie: edges 0-2 and 1-3 cross
    assert not geometry.is_simple_polygon(SQUARE, [0, 1, 2, 1])  # a repeated vertex
    assert not geometry.is_simple_polygon(SQUARE, [0, 1])  # fewer than 3 vertices
    line = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [1.0, 1.0]])
    assert not geometry.is_simple_polygon(line, [0, 2, 1])  # collinear: the edges fold back on each other
    assert not geometry.is_simple_polygon(line, [0, 3, 2, 1, 3])  # touches itself at a vertex (and repeats it)
    touching = np.array([[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [1.0, 0.0], [0.0, 2.0]])
    assert not geometry.is_simple_polygon(touching, [0, 1, 2, 3, 4])  # vertex 3 lies on edge 0-1
    result = metrics.hull_area_coverage(SQUARE[None], [[0, 2, 1, 3]])
    assert result.non_simple_share == 1.0 and result.fail and np.isnan(result.coverage) and str(result) == "FAIL"


@pytest.mark.parametrize(("n_bad", "n_total", "fails"), [(1, 100, False), (2, 100, True), (2, 200, False),
                                                          (3, 200, True), (0, 1, False), (1, 1, True)])
def test_fail_rule_is_more_than_one_percent(n_bad, n_total, fails):
    predictions = [[0, 2, 1, 3]] * n_bad + [[0, 1, 2, 3]] * (n_total - n_bad)
    result = metrics.hull_area_coverage(np.broadcast_to(SQUARE, (n_total, 5, 2)), predictions)
    assert result.fail == fails
    assert result.non_simple_share == n_bad / n_total
    if n_bad < n_total:
        assert result.coverage == 1.0  # the mean is over the simple polygons only


def test_triangle_coverage_and_accuracy():
    true = [[[0, 1, 2], [0, 2, 3], [-1, -1, -1]]]
    assert metrics.triangle_coverage([[[2, 0, 1], [3, 2, 0]]], true) == 1.0  # any order, any rotation
    assert metrics.triangulation_accuracy([[[2, 0, 1], [3, 2, 0]]], true) == 1.0
    assert metrics.triangle_coverage([[[0, 1, 2], [1, 2, 3]]], true) == 0.5
    assert metrics.triangulation_accuracy([[[0, 1, 2], [1, 2, 3]]], true) == 0.0
    assert metrics.triangle_coverage([[[0, 1, 3]], [[0, 1, 2]]], true * 2) == pytest.approx(0.25)
    assert metrics.sequence_accuracy([[[0, 1, 2], [0, 2, 3]]], true) == 1.0


def test_triangle_precision_and_recall():
    """Coverage is recall: the true set plus a wrong triangle scores 1.0; precision counts the wrong one."""
    true = [[[0, 1, 2], [0, 2, 3], [-1, -1, -1]]]
    extra = [[[0, 1, 2], [0, 2, 3], [1, 2, 3]]]
    assert metrics.triangle_coverage(extra, true) == 1.0
    assert metrics.triangle_precision(extra, true) == pytest.approx(2 / 3)
    assert metrics.triangulation_accuracy(extra, true) == 0.0
    assert metrics.triangle_precision([[[2, 0, 1], [3, 2, 0]]], true) == 1.0
    repeated = [[[0, 1, 2], [2, 1, 0]]]  # a true triangle twice: found once, the copy is wrong
    assert metrics.triangle_coverage(repeated, true) == metrics.triangle_precision(repeated, true) == 0.5
    assert metrics.triangulation_accuracy(repeated, true) == 0.0
    same_count = [[[0, 1, 2], [1, 2, 3]]]  # as many triangles as the truth: precision equals recall
    assert metrics.triangle_precision(same_count, true) == metrics.triangle_coverage(same_count, true) == 0.5
    assert metrics.triangle_precision([[]], true) == metrics.triangle_coverage([[]], true) == 0.0  # EOS at once
    assert metrics.triangle_precision([[[0, 1, 2]], [[0, 2, 3], [1, 2, 3]]], true * 2) == pytest.approx(0.75)


def test_triangle_metrics_score_unconstrained_sequences():
    """An unconstrained decoder's flat output: a length that is not a multiple of 3 ends in a torn triangle,
    which is wrong (`triangles_of` counts it); a repeated vertex makes a triangle that is never true."""
    true = [[[0, 1, 2], [0, 2, 3], [-1, -1, -1]]]
    torn = [[2, 0, 1, 3, 2, 0, 1, -1, -1, -1]]  # both true triangles, then a torn one, then padding
    assert metrics.triangles_of(torn[0]) == ([(0, 1, 2), (0, 2, 3)], 1)
    assert metrics.triangle_coverage(torn, true) == 1.0
    assert metrics.triangle_precision(torn, true) == pytest.approx(2 / 3)
    assert metrics.triangulation_accuracy(torn, true) == 0.0
    assert metrics.triangulation_accuracy([[2, 0, 1, 3, 2, 0, -1]], true) == 1.0  # whole: exact
    degenerate = [[0, 1, 2, 3, 3, 3]]
    assert metrics.triangle_precision(degenerate, true) == metrics.triangle_coverage(degenerate, true) == 0.5


def test_hull_metrics_score_outputs_that_repeat_a_vertex_or_never_stop():
    """An unconstrained hull output of n + 1 indices (no EOS) repeats a vertex: not simple, not the target; so is
    the closed polygon of the paper's Fig. 2(a) targets, which ours do not use (README "Deviations")."""
    target = geometry.convex_hull_targets(SQUARE[None])
    closed = [[0, 1, 2, 3, 0]]
    assert not geometry.is_simple_polygon(SQUARE, closed[0])
    result = metrics.hull_area_coverage(SQUARE[None], closed)
    assert result.fail and result.non_simple_share == 1.0
    assert metrics.polygon_accuracy(closed, target) == metrics.sequence_accuracy(closed, target) == 0.0
    outputs = [[0, 1, 2, 3, -1, -1], [1, 2, 1, 2, 1, 2], [-1] * 6]  # exact; repeats without EOS; EOS at once
    result = metrics.hull_area_coverage(np.broadcast_to(SQUARE, (3, 5, 2)), outputs)
    assert result.non_simple_share == pytest.approx(2 / 3) and result.fail
    assert metrics.polygon_accuracy(outputs, np.repeat(target, 3, axis=0)) == pytest.approx(1 / 3)


def test_tour_metrics_count_invalid_tours():
    points = np.broadcast_to(SQUARE[:4], (3, 4, 2))
    result = metrics.tour_metrics(points, [[0, 1, 2, 3], [0, 1, 1, 3], [0, 1, 2, -1]])
    assert result.invalid_share == pytest.approx(2 / 3)
    assert result.mean_length == pytest.approx(4.0)
    assert metrics.tour_metrics(points[:1], [[0, 2, 1, 3]]).mean_length == pytest.approx(2 + 2 * np.sqrt(2))


# --- the cache ----------------------------------------------------------------------------------------

def test_cache_is_deterministic_and_splits_differ(tmp_path):
    first = data.load_or_generate("convex_hull", 6, 30, "train", 0, tmp_path / "a")
    again = data.load_or_generate("convex_hull", 6, 30, "train", 0, tmp_path / "b")
    assert first.path.name == "convex_hull_n6_train_30_s0.npz"
    np.testing.assert_array_equal(first.points, again.points)
    np.testing.assert_array_equal(first.targets, again.targets)
    np.testing.assert_array_equal(first.targets, geometry.convex_hull_targets(first.points))
    other_splits = [data.load_or_generate("convex_hull", 6, 30, s, 0, tmp_path / "a").points for s in ("valid", "test")]
    other_seed = data.load_or_generate("convex_hull", 6, 30, "train", 1, tmp_path / "a").points
    for points in [*other_splits, other_seed]:
        assert (points != first.points).any(axis=(1, 2)).all()  # no instance repeats
    smaller = data.load_or_generate("tsp", 6, 10, "train", 0, tmp_path / "a")
    np.testing.assert_array_equal(smaller.points, first.points[:10])  # same points for every task; a prefix
    assert [p.name for p in (tmp_path / "a").iterdir() if p.suffix != ".npz"] == []  # no temporary files left


def test_cache_files_get_the_umask_mode_not_mkstemps_private_one(tmp_path):
    old_umask = os.umask(0o022)
    try:
        path = data.load_or_generate("convex_hull", 5, 4, "valid", 0, tmp_path).path
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_cache_is_loaded_not_regenerated(tmp_path, monkeypatch):
    made = data.load_or_generate("delaunay", 7, 5, "valid", 3, tmp_path)
    assert made.targets.shape == (5, 9, 3)
    monkeypatch.setattr(data, "make_targets", lambda *a: pytest.fail("regenerated instead of loading"))
    loaded = data.load_or_generate("delaunay", 7, 5, "valid", 3, tmp_path)
    np.testing.assert_array_equal(made.targets, loaded.targets)
    np.testing.assert_array_equal(made.points, loaded.points)


def test_corrupt_or_mismatched_cache_is_one_clear_error(tmp_path):
    path = data.load_or_generate("tsp", 5, 8, "test", 0, tmp_path).path
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.truncate(size // 2)
    with pytest.raises(DataError, match=f"{re.escape(str(path))}.*delete it"):
        data.load_or_generate("tsp", 5, 8, "test", 0, tmp_path)
    path.write_bytes(b"not a zip file")
    with pytest.raises(DataError, match="corrupt.*delete it"):
        data.load_or_generate("tsp", 5, 8, "test", 0, tmp_path)
    # a readable file that holds other data than its name says
    os.replace(data.load_or_generate("tsp", 5, 9, "test", 0, tmp_path).path, path)
    with pytest.raises(DataError, match="does not hold what its name says.*delete it"):
        data.load_or_generate("tsp", 5, 8, "test", 0, tmp_path)
    with pytest.raises(ValueError, match="unknown task"):
        data.load_or_generate("sorting", 5, 8, "test", 0, tmp_path)
    with pytest.raises(ValueError, match="unknown split"):
        data.load_or_generate("tsp", 5, 8, "validation", 0, tmp_path)


def test_cache_of_an_older_target_convention_is_reported_stale(tmp_path, monkeypatch):
    """TSP tours changed direction (FORMATS 2: counter-clockwise): an older file must not train a model silently."""
    monkeypatch.setitem(data.FORMATS, "tsp", 1)
    path = data.load_or_generate("tsp", 5, 8, "test", 0, tmp_path).path
    monkeypatch.setitem(data.FORMATS, "tsp", 2)
    with pytest.raises(DataError, match=f"{re.escape(str(path))} does not hold .*format is 1, expected 2.*delete it"):
        data.load_or_generate("tsp", 5, 8, "test", 0, tmp_path)
    assert data.FORMATS["convex_hull"] == 1  # the hull's and Delaunay's cached targets stay valid
