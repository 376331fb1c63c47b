"""The exact TSP solver of Pointer Networks (Vinyals et al. 2015, Sec. 3.3): Held-Karp dynamic programming.

The paper labelled its TSP data with "the Held-Karp algorithm [17] which finds the optimal solution in
O(2^n n^2) (we used it up to n = 20)". `held_karp` is that algorithm, vectorised over instances (a chunk of
them at a time, so memory stays bounded) and over the subsets of one size. The heuristics A1, A2, A3 of
Table 2 are in `heuristics.py` and `christofides.py`.

Every solver returns int64 tours (N, n) that start at city 0 in the canonical direction of `tours.py`.

    python -m papers.pointer_networks.solvers --bench    # Held-Karp instances per second at n = 5 and 10
"""

import argparse
import functools
import time

import numpy as np

from papers.pointer_networks.tours import canonical_direction, pairwise_distances, tour_length

MAX_HELD_KARP_CITIES = 20  # the paper's limit; the table holds 2^19 x 19 floats (80 MB) per instance there


@functools.lru_cache(maxsize=2)  # at n = 20 a plan holds 80 MB of indices
def _held_karp_plan(m: int) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """For m cities besides city 0: (j, subsets S that hold j, S without j), by increasing subset size.

    Subsets are bit masks over cities 1 .. m (bit j is city j + 1). Each subset's entries depend only on
    smaller subsets, so one size is computed at a time, vectorised over all subsets of that size.
    """
    masks = np.arange(1 << m, dtype=np.int64)
    size = np.bitwise_count(masks)
    plan = []
    for s in range(2, m + 1):
        of_size = masks[size == s]
        for j in range(m):
            holds_j = of_size[(of_size >> j) & 1 == 1]
            plan.append((j, holds_j, holds_j ^ (1 << j)))
    return plan


def _held_karp_chunk(points: np.ndarray) -> np.ndarray:
    """Optimal tours (B, n) for one chunk of instances; n >= 3."""
    batch, n = points.shape[:2]
    m = n - 1
    d = np.moveaxis(pairwise_distances(points), 0, -1)  # (n, n, B): the batch is the fastest axis
    # cost[S, j, b]: the shortest path that leaves city 0, visits exactly the cities in S, and ends at j + 1
    cost = np.full((1 << m, m, batch), np.inf)
    for j in range(m):
        cost[1 << j, j] = d[0, j + 1]
    into = d[1:, 1:]  # into[k, j]: from city k + 1 to city j + 1
    for j, subsets, without_j in _held_karp_plan(m):
        cost[subsets, j] = np.min(cost[without_j] + into[None, :, j], axis=1)
    # close the cycle, then walk back through the table to recover the path
    full = (1 << m) - 1
    last = np.argmin(cost[full] + d[1:, 0], axis=0)
    rows = np.arange(batch)
    path = [last]
    subset = np.full(batch, full)
    for _ in range(m - 1):
        subset = subset ^ (1 << path[-1])
        previous = cost[subset, :, rows] + into[:, path[-1], rows].T  # (B, m)
        path.append(np.argmin(previous, axis=1))
    return np.concatenate([np.zeros((batch, 1), np.int64), np.stack(path[::-1], axis=1) + 1], axis=1)


def held_karp(points: np.ndarray, max_bytes: int = 1 << 22) -> np.ndarray:
    """Optimal tours (N, n) for points (N, n, 2): exact, from city 0, in the canonical direction.

    Instances are solved in chunks whose dynamic-programming table stays under `max_bytes` (float64,
    2^(n-1) x (n-1) entries per instance; at least one instance), so memory is bounded for any N. The
    default 4 MB keeps a chunk in cache: at n = 10, 113 instances a chunk ran 2.5x faster than 7,000.
    n <= 20 (at n = 20 a chunk is one instance, about a second each).
    """
    points = np.asarray(points, dtype=np.float64)
    n_instances, n = points.shape[:2]
    if n > MAX_HELD_KARP_CITIES:
        raise ValueError(f"Held-Karp needs 2^(n-1) (n-1) floats per instance; n = {n} is above the limit of "
                         f"{MAX_HELD_KARP_CITIES}. Use a heuristic (heuristics.HEURISTICS) for larger n.")
    if n <= 3:  # one cycle only
        return canonical_direction(points, np.tile(np.arange(n), (n_instances, 1)))
    per_instance = 8 * (1 << (n - 1)) * (n - 1)
    chunk = max(1, max_bytes // per_instance)
    tours = np.empty((n_instances, n), dtype=np.int64)
    for start in range(0, n_instances, chunk):
        tours[start : start + chunk] = _held_karp_chunk(points[start : start + chunk])
    return canonical_direction(points, tours)


def bench(n_instances: int = 10_000, seed: int = 0) -> dict[int, float]:
    """Held-Karp instances per second at n = 5 and n = 10 (printed); a benchmark, never a test."""
    rates = {}
    for n in (5, 10):
        points = np.random.default_rng(seed).random((n_instances, n, 2), dtype=np.float32)
        held_karp(points[:100])  # warm-up
        start = time.perf_counter()
        tours = held_karp(points)
        seconds = time.perf_counter() - start
        rates[n] = n_instances / seconds
        print(f"Held-Karp n={n:2d}: {n_instances} instances in {seconds:.2f} s = {rates[n]:,.0f} instances/s, "
              f"mean optimal tour length {tour_length(points, tours).mean():.4f}")
    return rates


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", action="store_true", help="time Held-Karp at n = 5 and n = 10")
    parser.add_argument("--instances", type=int, default=10_000, help="instances per benchmark")
    args = parser.parse_args(argv)
    if not args.bench:
        parser.error("nothing to do: pass --bench")
    bench(args.instances)


if __name__ == "__main__":
    main()
