"""The output rules of Pointer Networks' three tasks (Vinyals et al. 2015), as constraints for the searches
(`common/beam_search.py`).

The output classes are the models' (model.py): class j < n is input point j, the last class is EOS. Every search,
constrained or not, emits only real input points (index < n; < the instance's length in a padded batch) and EOS.
`for_task(task, n, constrained=True)`, the rules we add on top:

* convex hull: no vertex twice (`no_repeats`);
* TSP (Sec. 4.4: the beam search considers only valid tours): city 0 first, every city exactly once, no EOS; the
  search stops when every city is in the tour (it closes on its own, as the data layer's TSP targets);
* Delaunay: vertices repeat across triangles; EOS only after a whole triangle, at most 2n - 5 triangles (the most a
  triangulation of n points has), returned as triples.

`constrained=False` is the paper's protocol for the hull and Delaunay (Sec. 4.4: "the decoder was unconstrained"):
any point or EOS at every step, up to one output past the longest valid one, so that an output that never stops is
visibly wrong (metrics.py scores it): a hull of n + 1 outputs repeats a vertex, a triangulation of 3 (2n - 5) + 1
ends in a torn triangle. The TSP's unconstrained search stops after n outputs (a tour is complete there).

`search` decodes a batch of point sets under one of these (greedy or beam) and returns the outputs shaped as the
data layer's targets: convex hull and TSP (B, L), constrained Delaunay (B, 2n - 5, 3), unconstrained Delaunay the
flat (B, 3 (2n - 5) + 1) sequence; int32 padded with -1, with their log p.
"""

from dataclasses import dataclass

import numpy as np

from common.beam_search import beam_search, greedy_decode
from papers.pointer_networks.geometry import max_triangles


@dataclass(frozen=True, eq=False)  # eq=False: `lengths` is an array
class TaskConstraint:
    """The rules for a batch of point sets of `n_points` points (`lengths`: the real number of each, if they vary).

    Implements the searches' constraint interface (common/beam_search.py). Its record is bool (R, n_out - 1), the
    points each hypothesis may still emit: the real ones, less (with `no_repeats` or `tour`) those it has emitted;
    classes past n (the baselines' dictionary is n_max wide) are never allowed. `TaskConstraint(n)` allows any real
    point and EOS. `max_outputs` caps the outputs (None: the task's own cap, `max_length`).
    """

    n_points: int
    lengths: np.ndarray | None = None
    no_repeats: bool = False
    tour: bool = False
    triangles: bool = False
    max_outputs: int | None = None

    @property
    def max_length(self) -> int:
        """The most outputs a search emits: `max_outputs` if given, else 3 (2n - 5) for triangles, n otherwise."""
        if self.max_outputs is not None:
            return self.max_outputs
        return 3 * max_triangles(self.n_points) if self.triangles else self.n_points

    def start(self, batch: int, n_out: int) -> np.ndarray:
        if n_out - 1 < self.n_points:
            raise ValueError(f"the model has {n_out} classes, too few for {self.n_points} points and EOS")
        available = np.zeros((batch, n_out - 1), dtype=bool)
        if self.lengths is None:
            available[:, : self.n_points] = True
        else:
            lengths = np.asarray(self.lengths).reshape(-1)
            if len(lengths) != batch:
                raise ValueError(f"{len(lengths)} lengths for a batch of {batch}")
            available[:, : self.n_points] = np.arange(self.n_points)[None, :] < lengths[:, None]
        return available

    def allowed(self, available: np.ndarray, step: int) -> np.ndarray:
        points = available.copy()
        if self.tour and step == 0:
            points[:, 1:] = False  # the tour starts at city 0
        eos = not self.tour and (not self.triangles or step % 3 == 0)  # a tour never stops; triangles stop whole
        return np.concatenate([points, np.full((len(points), 1), eos)], axis=1)

    def update(self, available: np.ndarray, step: int, emitted: np.ndarray) -> np.ndarray:
        if not (self.no_repeats or self.tour):
            return available
        rows = np.flatnonzero(emitted >= 0)
        available = available.copy()
        available[rows, emitted[rows]] = False
        return available

    def complete(self, available: np.ndarray) -> np.ndarray:
        """A tour is complete when no city is left (without EOS); the other tasks end at EOS."""
        if not self.tour:
            return np.zeros(len(available), dtype=bool)
        return ~available.any(axis=1)

    def as_targets(self, sequences: np.ndarray) -> np.ndarray:
        """Search outputs (..., max_length) shaped as the data layer's targets: triangles as (..., 2n - 5, 3)."""
        return sequences.reshape(*sequences.shape[:-1], -1, 3) if self.triangles else sequences


def unconstrained_length(task: str, n_points: int) -> int:
    """The most outputs of an unconstrained search: one past the longest valid output (n + 1 for a hull, 3 (2n - 5)
    + 1 for a triangulation), so that one which never emits EOS cannot pass for a valid one; n for a tour."""
    if task == "convex_hull":
        return n_points + 1
    if task == "delaunay":
        return 3 * max_triangles(n_points) + 1
    return n_points


def for_task(task: str, n_points: int, lengths=None, constrained: bool = True) -> TaskConstraint:
    """The rules of "convex_hull", "delaunay" or "tsp*" (module docstring); `constrained=False`: any real point or
    EOS at every step, up to `unconstrained_length` outputs."""
    if task not in ("convex_hull", "delaunay") and not task.startswith("tsp"):
        raise ValueError(f"unknown task {task!r}; choose convex_hull, delaunay or tsp")
    if not constrained:
        return TaskConstraint(n_points, lengths, max_outputs=unconstrained_length(task, n_points))
    if task == "convex_hull":
        return TaskConstraint(n_points, lengths, no_repeats=True)
    if task == "delaunay":
        return TaskConstraint(n_points, lengths, triangles=True)
    return TaskConstraint(n_points, lengths, tour=True)


def search(model, points, constraint: TaskConstraint, beam_width: int | None = None,
           **beam_options) -> tuple[np.ndarray, np.ndarray]:
    """Greedy (`beam_width` None) or beam search of `model` over point sets (B, n, 2) under `constraint`.

    Returns (outputs int32 padded with -1, shaped as the data layer's targets; log p float64 (B,)); `beam_options`
    go to `common.beam_search.beam_search` (length_penalty, return_all: then (B, beam_width, ...) outputs, best
    first; finished).
    """
    points = np.asarray(points, dtype=np.float32)
    if points.shape[1] != constraint.n_points:
        raise ValueError(f"the constraint is for {constraint.n_points} points; got {points.shape[1]}")
    encoded = model.encode(points, constraint.lengths)
    if beam_width is None:
        sequences, scores = greedy_decode(model, encoded, constraint.max_length, constraint)
    else:
        sequences, scores = beam_search(model, encoded, beam_width, constraint.max_length, constraint, **beam_options)
    return constraint.as_targets(sequences), scores
