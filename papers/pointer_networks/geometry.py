"""Points in the unit square and the two geometric targets of Pointer Networks (Vinyals et al. 2015, Sec. 3).

The inputs are planar point sets drawn uniformly from [0, 1] x [0, 1]. The outputs are sequences of
indices into the input. An output that is a set (a hull, a triangulation) has many orderings; we fix one
canonical ordering per task, so that exact-sequence accuracy is well defined:

* convex hull: the hull vertices counter-clockwise, starting at the hull vertex with the smallest index
  (the paper's own choice, Sec. 3.1: "we start from the point with the lowest index, and go counter-clockwise");
* Delaunay: the paper's own order (Sec. 3.2, "we order the triangles C_i by their incenter coordinates
  (lexicographic order) and choose the increasing triangle representation"): each triangle's indices
  ascending, the triangles sorted by incenter x, then y (until 2026-12-02 ours were sorted by their indices;
  README).

Indices are 0-based (the paper's files count from 1). Targets of variable length are padded with -1.
"""

import numpy as np
from scipy.spatial import ConvexHull, Delaunay

PAD = -1


def random_points(n_instances: int, n_points: int, seed) -> np.ndarray:
    """float32 array (n_instances, n_points, 2), uniform in the unit square, a pure function of `seed`.

    `seed` is anything `np.random.default_rng` takes (an int or a SeedSequence). Instances are drawn in
    order, so the first k instances of a larger draw with the same seed are the instances of a draw of k.
    """
    if n_instances < 0 or n_points < 1:
        raise ValueError(f"need n_instances >= 0 and n_points >= 1, got {n_instances} and {n_points}")
    return np.random.default_rng(seed).random((n_instances, n_points, 2), dtype=np.float32)


def signed_area(polygon: np.ndarray) -> float:
    """Shoelace formula: positive for a counter-clockwise polygon (vertices (k, 2), not closed)."""
    x, y = np.asarray(polygon, dtype=np.float64).T
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def _check_at_least_three(points: np.ndarray) -> np.ndarray:
    points = np.asarray(points)
    if points.ndim != 3 or points.shape[2] != 2:
        raise ValueError(f"points must have shape (N, n, 2), got {points.shape}")
    if points.shape[1] < 3:
        raise ValueError(f"a hull or a triangulation needs at least 3 points, got {points.shape[1]}")
    return points.astype(np.float64)


def convex_hull_order(points: np.ndarray) -> np.ndarray:
    """Indices of the hull vertices of one point set (n, 2): counter-clockwise from the smallest index.

    scipy's (Qhull's) 2-D hull lists its vertices counter-clockwise; we rotate the cycle so that it starts
    at its smallest index. Points in the interior of a hull edge (collinear) are not vertices.
    """
    vertices = ConvexHull(np.asarray(points, dtype=np.float64)).vertices
    return np.roll(vertices, -int(np.argmin(vertices))).astype(np.int32)


def convex_hull_targets(points: np.ndarray) -> np.ndarray:
    """Canonical hull sequences for a batch (N, n, 2): int32 (N, n), padded with -1 after the hull."""
    points = _check_at_least_three(points)
    out = np.full(points.shape[:2], PAD, dtype=np.int32)
    for i, p in enumerate(points):
        hull = convex_hull_order(p)
        out[i, : len(hull)] = hull
    return out


def paper_triangle_order(points: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """The paper's Delaunay sequence for one point set (Sec. 3.2): the training targets' order of its triangles.

    "We order the triangles C_i by their incenter coordinates (lexicographic order) and choose the
    increasing triangle representation": each triangle's indices ascending (so not always
    counter-clockwise), the triangles sorted by incenter x, then y. `triangles` are (T, 3) in any order and
    any vertex order (scipy's simplices, a model's output); rows with a -1 (padding) stay last.
    """
    points = np.asarray(points, dtype=np.float64)
    tri = np.asarray(triangles, dtype=np.int64).reshape(-1, 3)
    real = np.all(tri != PAD, axis=1)
    kept = np.sort(tri[real], axis=1)
    corners = points[kept]  # (T, 3, 2)
    opposite = np.linalg.norm(corners[:, [1, 2, 0]] - corners[:, [2, 0, 1]], axis=2)  # side opposite each corner
    incenter = np.sum(opposite[:, :, None] * corners, axis=1) / opposite.sum(axis=1, keepdims=True)
    out = np.full_like(tri, PAD)
    out[: len(kept)] = kept[np.lexsort((incenter[:, 1], incenter[:, 0]))]
    return out.astype(np.int32)


def max_triangles(n_points: int) -> int:
    """The most triangles a triangulation of n points in general position has: 2n - 5 (a triangular hull)."""
    return max(1, 2 * n_points - 5)


def delaunay_targets(points: np.ndarray) -> np.ndarray:
    """Canonical Delaunay triangulations for a batch (N, n, 2): int32 (N, 2n - 5, 3), padded with -1 rows.

    The triangles come from scipy's Delaunay (Qhull), in the paper's order (`paper_triangle_order`); a
    triangulation of n points with h on the hull has 2n - 2 - h triangles, so the rows after them are -1.
    """
    points = _check_at_least_three(points)
    out = np.full((len(points), max_triangles(points.shape[1]), 3), PAD, dtype=np.int32)
    for i, p in enumerate(points):
        tri = paper_triangle_order(p, Delaunay(p).simplices)
        out[i, : len(tri)] = tri
    return out


def _cross(o: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """z of (a - o) x (b - o), broadcast over leading axes; > 0 when o, a, b turn counter-clockwise."""
    return (a[..., 0] - o[..., 0]) * (b[..., 1] - o[..., 1]) - (a[..., 1] - o[..., 1]) * (b[..., 0] - o[..., 0])


def _on_segment(p: np.ndarray, q: np.ndarray, r: np.ndarray) -> np.ndarray:
    """For r collinear with segment pq: whether r lies on it (inside its bounding box)."""
    return ((np.minimum(p[..., 0], q[..., 0]) <= r[..., 0]) & (r[..., 0] <= np.maximum(p[..., 0], q[..., 0]))
            & (np.minimum(p[..., 1], q[..., 1]) <= r[..., 1]) & (r[..., 1] <= np.maximum(p[..., 1], q[..., 1])))


def segments_intersect(p1: np.ndarray, p2: np.ndarray, q1: np.ndarray, q2: np.ndarray) -> np.ndarray:
    """Whether the closed segments p1p2 and q1q2 share a point (crossing, touching or overlapping).

    The orientation test of CLRS (Sec. 33.1), broadcast over leading axes; exact for exact coordinates.
    """
    d1, d2 = _cross(q1, q2, p1), _cross(q1, q2, p2)
    d3, d4 = _cross(p1, p2, q1), _cross(p1, p2, q2)
    proper = (((d1 > 0) & (d2 < 0)) | ((d1 < 0) & (d2 > 0))) & (((d3 > 0) & (d4 < 0)) | ((d3 < 0) & (d4 > 0)))
    touching = ((d1 == 0) & _on_segment(q1, q2, p1)) | ((d2 == 0) & _on_segment(q1, q2, p2)) \
        | ((d3 == 0) & _on_segment(p1, p2, q1)) | ((d4 == 0) & _on_segment(p1, p2, q2))
    return proper | touching


def is_simple_polygon(points: np.ndarray, order) -> bool:
    """Whether the closed polygon points[order] is simple.

    Not simple: fewer than 3 vertices, a repeated vertex, an index outside the point set, two
    non-adjacent edges that share a point, or two adjacent edges that fold back onto each other.
    """
    order = np.asarray(order, dtype=np.int64).ravel()
    k = len(order)
    if k < 3 or len(np.unique(order)) != k or order.min() < 0 or order.max() >= len(points):
        return False
    v = np.asarray(points, dtype=np.float64)[order]
    nxt = np.roll(v, -1, axis=0)
    # adjacent edges (v[i-1], v[i]) and (v[i], v[i+1]) overlap when they are collinear and turn back
    before, after = v - np.roll(v, 1, axis=0), nxt - v
    cross = before[:, 0] * after[:, 1] - before[:, 1] * after[:, 0]
    if np.any((cross == 0) & (np.sum(before * after, axis=1) < 0)):
        return False
    i, j = np.triu_indices(k, 2)
    keep = (j - i) != k - 1  # edges 0 and k-1 are adjacent too
    i, j = i[keep], j[keep]
    return not bool(np.any(segments_intersect(v[i], nxt[i], v[j], nxt[j])))
