"""Tours of the planar symmetric TSP (Vinyals et al. 2015, Sec. 3.3): lengths, validity, one canonical form.

A tour is a sequence of the n city indices (0-based), each once; it closes by returning to its first city.
The paper "always start[s] in the first city"; a cycle can still be read in two directions, so we also fix
the direction: counter-clockwise (the polygon's signed area is positive), as the convex hull's targets. With
that, one cycle has exactly one sequence, and a solver's output can be compared with the optimum city by city.
The paper does not say which direction its targets took. A rule on the cities' indices (the direction whose
second city has the smaller index) is one too, and our first TSP runs used it; but a network has to learn to
compare indices to follow it, and at n = 5 the Ptr-Net stalled on it (papers/pointer_networks/README.md). A
tour of zero signed area (collinear cities) keeps that index rule.
"""

import numpy as np


def pairwise_distances(points: np.ndarray) -> np.ndarray:
    """Euclidean distances, float64 (..., n, n), for points (..., n, 2)."""
    p = np.asarray(points, dtype=np.float64)
    return np.sqrt(np.sum((p[..., :, None, :] - p[..., None, :, :]) ** 2, axis=-1))


def tour_length(points: np.ndarray, tour: np.ndarray) -> np.ndarray:
    """Length of the closed tour(s), float64: points (N, n, 2) and tours (N, n) give (N,); one of each, a scalar.

    Tours must hold valid indices (check with `is_valid_tour` first); the closing edge back to the first
    city is included.
    """
    p = np.asarray(points, dtype=np.float64)
    t = np.asarray(tour, dtype=np.int64)
    visited = np.take_along_axis(p, t[..., None], axis=-2)
    steps = visited - np.roll(visited, -1, axis=-2)
    return np.sqrt(np.sum(steps**2, axis=-1)).sum(axis=-1)


def is_valid_tour(tours, n_points: int) -> np.ndarray:
    """Boolean (N,): whether each tour is a permutation of 0 .. n_points - 1.

    `tours` is an int array (N, L), where -1 entries are padding and do not count as cities, or a list of
    sequences of any lengths. A tour with a repeated, missing or out-of-range city is invalid.
    """
    rows = list(tours)
    valid = np.zeros(len(rows), dtype=bool)
    for i, row in enumerate(rows):
        row = np.asarray(row, dtype=np.int64).ravel()
        row = row[row != -1]
        valid[i] = len(row) == n_points and np.array_equal(np.sort(row), np.arange(n_points))
    return valid


def signed_area(points: np.ndarray, tours: np.ndarray) -> np.ndarray:
    """The shoelace area (N,) of each tour's polygon: positive when it runs counter-clockwise."""
    p = np.asarray(points, dtype=np.float64)
    visited = np.take_along_axis(p, np.asarray(tours, dtype=np.int64)[..., None], axis=-2)
    x, y = visited[..., 0], visited[..., 1]
    return 0.5 * np.sum(x * np.roll(y, -1, axis=-1) - np.roll(x, -1, axis=-1) * y, axis=-1)


def canonical_direction(points: np.ndarray, tours: np.ndarray) -> np.ndarray:
    """Tours (N, n) that start at city 0, each read counter-clockwise (module docstring) for points (N, n, 2)."""
    tours = np.array(tours, dtype=np.int64)
    if tours.shape[-1] > 2:
        area = signed_area(points, tours)
        flip = (area < 0) | ((area == 0) & (tours[:, 1] > tours[:, -1]))
        tours[flip, 1:] = tours[flip, 1:][:, ::-1]
    return tours


def rotate_to_city_zero(tours: np.ndarray) -> np.ndarray:
    """Tours (N, n), each rotated (as a cycle) so that it starts at city 0."""
    tours = np.asarray(tours, dtype=np.int64)
    start = np.argmax(tours == 0, axis=1)
    n = tours.shape[1]
    return np.take_along_axis(tours, (start[:, None] + np.arange(n)) % n, axis=1)
