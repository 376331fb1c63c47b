"""Christofides' algorithm (1976), the O(n^3) core of heuristic A3 in Pointer Networks' Table 2 (Sec. 3.3).

1. a minimum spanning tree T (scipy.sparse.csgraph.minimum_spanning_tree);
2. a minimum-weight perfect matching M on the vertices of odd degree in T (there is an even number of them);
3. an Eulerian circuit of the multigraph T + M (Hierholzer), from city 0;
4. shortcutting: keep each city's first visit.

With an exact matching in step 2 the tour is at most 1.5 times the optimum (metric TSP). Our matching is
exact: dynamic programming over subsets for up to `MAX_DP_MATCHING` odd vertices (2^k entries), and above
that an integer program solved to optimality by scipy's HiGHS (`scipy.optimize.milp`, relative gap 0),
which is exact up to the solver's absolute tolerance (1e-6 by default).
"""

import functools

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse.csgraph import minimum_spanning_tree

from papers.pointer_networks.tours import canonical_direction, pairwise_distances, rotate_to_city_zero

MAX_DP_MATCHING = 16  # odd vertices; 2^16 table entries. Random uniform points: about 40% of n are odd.


def _lowest_bit(masks: np.ndarray) -> np.ndarray:
    return np.bitwise_count((masks & -masks) - 1).astype(np.int64)


@functools.lru_cache(maxsize=MAX_DP_MATCHING)
def _matching_plan(k: int) -> list[tuple[np.ndarray, np.ndarray, int, np.ndarray]]:
    """(subsets S, lowest vertex i of S, partner j, S without i and j), by increasing even size of S."""
    masks = np.arange(1 << k, dtype=np.int64)
    size = np.bitwise_count(masks)
    plan = []
    for s in range(2, k + 1, 2):
        of_size = masks[size == s]
        low = _lowest_bit(of_size)
        for j in range(1, k):
            pick = ((of_size >> j) & 1 == 1) & (low < j)
            subsets, lows = of_size[pick], low[pick]
            plan.append((subsets, lows, j, subsets ^ (1 << lows) ^ (1 << j)))
    return plan


def _matching_dp(w: np.ndarray) -> list[tuple[int, int]]:
    """Exact minimum-weight perfect matching of a complete graph (k even, k <= MAX_DP_MATCHING).

    best[S] = min over j in S of w[i, j] + best[S - {i, j}], where i is the lowest vertex of S: the lowest
    vertex must be matched to someone, so this enumerates every matching once.
    """
    k = len(w)
    best = np.full(1 << k, np.inf)
    best[0] = 0.0
    for subsets, lows, j, rest in _matching_plan(k):
        best[subsets] = np.minimum(best[subsets], best[rest] + w[lows, j])
    pairs, subset = [], (1 << k) - 1
    while subset:
        i = int(_lowest_bit(np.array([subset]))[0])
        partners = np.array([j for j in range(i + 1, k) if subset >> j & 1])
        rest = subset ^ (1 << i) ^ (1 << partners)
        j = int(partners[np.argmin(best[rest] + w[i, partners])])
        pairs.append((i, j))
        subset ^= (1 << i) | (1 << j)
    return pairs


def _matching_milp(w: np.ndarray) -> list[tuple[int, int]]:
    """Exact minimum-weight perfect matching as a 0/1 integer program: each vertex in exactly one chosen edge."""
    k = len(w)
    i, j = np.triu_indices(k, 1)
    incidence = np.zeros((k, len(i)))
    incidence[i, np.arange(len(i))] = 1
    incidence[j, np.arange(len(i))] = 1
    result = milp(w[i, j], constraints=LinearConstraint(incidence, 1, 1), integrality=np.ones(len(i)),
                  bounds=Bounds(0, 1), options={"mip_rel_gap": 0})
    if not result.success:
        raise RuntimeError(f"the matching integer program failed: {result.message}")
    chosen = result.x > 0.5
    return list(zip(i[chosen].tolist(), j[chosen].tolist(), strict=True))


def min_weight_perfect_matching(w: np.ndarray, method: str = "auto") -> list[tuple[int, int]]:
    """Pairs (i, j), i < j, of an exact minimum-weight perfect matching of the complete graph with weights w (k, k).

    method: "dp" (k <= MAX_DP_MATCHING), "milp", or "auto" (dp when k allows it, else milp).
    """
    w = np.asarray(w, dtype=np.float64)
    k = len(w)
    if k % 2:
        raise ValueError(f"a perfect matching needs an even number of vertices, got {k}")
    if k == 0:
        return []
    if method == "auto":
        method = "dp" if k <= MAX_DP_MATCHING else "milp"
    if method == "dp":
        if k > MAX_DP_MATCHING:
            raise ValueError(f"the subset dynamic programme is limited to {MAX_DP_MATCHING} vertices, got {k}")
        return _matching_dp(w)
    if method == "milp":
        return _matching_milp(w)
    raise ValueError(f"unknown matching method {method!r}; choose 'auto', 'dp' or 'milp'")


def eulerian_circuit(n: int, edges: list[tuple[int, int]], start: int = 0) -> list[int]:
    """Hierholzer's algorithm on a connected multigraph whose degrees are all even: the vertex sequence."""
    neighbours = [[] for _ in range(n)]
    for e, (u, v) in enumerate(edges):
        neighbours[u].append((v, e))
        neighbours[v].append((u, e))
    used = [False] * len(edges)
    cursor = [0] * n
    stack, circuit = [start], []
    while stack:
        v = stack[-1]
        while cursor[v] < len(neighbours[v]) and used[neighbours[v][cursor[v]][1]]:
            cursor[v] += 1
        if cursor[v] == len(neighbours[v]):
            circuit.append(stack.pop())
        else:
            u, e = neighbours[v][cursor[v]]
            used[e] = True
            stack.append(u)
    return circuit[::-1]


def christofides_tour(points: np.ndarray, matching: str = "auto") -> np.ndarray:
    """Christofides' tour (n,) of one point set (n, 2), starting at city 0 (not yet in canonical direction)."""
    d = pairwise_distances(points)
    n = len(d)
    if n <= 3:
        return np.arange(n)
    # csgraph reads zeros as missing edges: give coincident points a tiny positive distance instead
    tree = minimum_spanning_tree(np.where((d == 0) & ~np.eye(n, dtype=bool), np.finfo(float).tiny, d)).tocoo()
    edges = list(zip(tree.row.tolist(), tree.col.tolist(), strict=True))
    degree = np.bincount(np.concatenate([tree.row, tree.col]), minlength=n)
    odd = np.flatnonzero(degree % 2)
    edges += [(int(odd[i]), int(odd[j])) for i, j in min_weight_perfect_matching(d[np.ix_(odd, odd)], matching)]
    tour = np.array(list(dict.fromkeys(eulerian_circuit(n, edges))))
    return rotate_to_city_zero(tour[None])[0]


def christofides(points: np.ndarray, matching: str = "auto") -> np.ndarray:
    """Christofides' tours (N, n) for points (N, n, 2): from city 0, in the canonical direction."""
    points = np.asarray(points, dtype=np.float64)
    return canonical_direction(points, np.stack([christofides_tour(p, matching) for p in points]))
