"""Decoding Pointer Networks' models (Vinyals et al. 2015): greedy and beam search, with output constraints.

Works with any model of `model.py` through its per-step interface: `memory, state = model.encode(points,
lengths)` and `logits, state = model.decode_step(memory, state, previous)`; the last output class is the
end of sequence (EOS). The search itself is NumPy over the models' logits, batched over instances (and
beams). Scores are the model's own log-probabilities, log p(C | P) = sum_i log softmax(logits_i)[C_i]:
a constraint removes outputs from the search but does not renormalise the distribution, so a score is
always the probability the model gives the sequence (`sequence_log_prob` computes the same by teacher
forcing).

Constraints (`Constraints`; the paper's Sec. 4.4 restricts TSP's beam search to valid tours):

* always: only real input points (index < n, < the instance's length with padded inputs) and EOS;
* `no_repeats`: no index twice;
* `tour` (TSP): exactly one step per city, every city once, starting at city 0, no EOS; decoding stops when
  every city is in the tour (the tour closes on its own, as the data layer's TSP targets);
* `group` (Delaunay: 3): EOS only after a whole number of groups, and the output is returned as (B, T, group),
  triangles as triples.

A sequence ends at EOS (which is not returned; convex hulls close on their own) or after `max_length` indices.
The results are int32 arrays padded with -1, shaped as the data layer's targets: convex hull and TSP (B, n),
Delaunay (B, 2n - 5, 3).
"""

from dataclasses import dataclass

import numpy as np
from keras import ops

from papers.pointer_networks.geometry import max_triangles

PAD = -1


@dataclass(frozen=True)
class Constraints:
    """Which outputs a step may choose; `allowed` gives the mask for every row of a batch.

    Presets: `Constraints.for_task("convex_hull" | "delaunay" | "tsp")`.
    """

    no_repeats: bool = False
    tour: bool = False
    group: int = 1

    @classmethod
    def for_task(cls, task: str, no_repeats: bool = False) -> "Constraints":
        if task == "convex_hull":
            return cls(no_repeats=no_repeats)
        if task == "delaunay":
            return cls(no_repeats=False, group=3)
        if task.startswith("tsp"):
            return cls(tour=True)
        raise ValueError(f"unknown task {task!r}; choose convex_hull, delaunay or tsp")

    def default_max_length(self, n_points: int) -> int:
        return self.group * max_triangles(n_points) if self.group == 3 else n_points

    def allowed(self, step: int, visited: np.ndarray, valid: np.ndarray, n_out: int) -> np.ndarray:
        """bool (R, n_out): the outputs allowed at `step` (0-based) given the points `visited` (R, n) so far.

        `valid` (R, n) marks the real points of each row; the last class (n_out - 1) is EOS.
        """
        rows, n = visited.shape
        allowed = np.zeros((rows, n_out), dtype=bool)
        allowed[:, :n] = valid
        if self.no_repeats or self.tour:
            allowed[:, :n] &= ~visited
        if self.tour and step == 0:
            allowed[:, 1:n] = False  # the tour starts at city 0
        allowed[:, -1] = not self.tour and step % self.group == 0
        allowed[~allowed.any(axis=1), -1] = True  # nothing left to choose: stop
        return allowed

    def complete(self, visited: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """bool (R,): rows that are finished without EOS (a tour that holds every city)."""
        if not self.tour:
            return np.zeros(len(visited), dtype=bool)
        return (visited | ~valid).all(axis=1)


def _log_softmax(logits) -> np.ndarray:
    x = np.asarray(ops.convert_to_numpy(logits), dtype=np.float64)
    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def _valid_points(points, lengths) -> np.ndarray:
    batch, n = np.shape(points)[:2]
    if lengths is None:
        return np.ones((batch, n), dtype=bool)
    return np.arange(n)[None, :] < np.asarray(lengths).reshape(-1, 1)


def _finish(sequences: np.ndarray, constraints: Constraints) -> np.ndarray:
    sequences = sequences.astype(np.int32)
    if constraints.group > 1:
        sequences = sequences.reshape(*sequences.shape[:-1], -1, constraints.group)
    return sequences


def _setup(points, lengths, constraints, max_length):
    points = np.asarray(points, dtype=np.float32)
    constraints = constraints or Constraints()
    if max_length is None:
        max_length = constraints.default_max_length(points.shape[1])
    if max_length % constraints.group:
        raise ValueError(f"max_length={max_length} is not a multiple of group={constraints.group}")
    return points, constraints, max_length, _valid_points(points, lengths)


def greedy_decode(model, points, lengths=None, constraints: Constraints | None = None,
                  max_length: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The most likely output at every step. Returns (indices int32 padded with -1, log p float64 (B,))."""
    points, constraints, max_length, valid = _setup(points, lengths, constraints, max_length)
    batch, n = points.shape[:2]
    memory, state = model.encode(points, lengths)
    sequences = np.full((batch, max_length), PAD, dtype=np.int64)
    visited = np.zeros((batch, n), dtype=bool)
    finished = np.zeros(batch, dtype=bool)
    scores = np.zeros(batch)
    previous = np.full(batch, PAD, dtype=np.int32)
    rows = np.arange(batch)
    for step in range(max_length):
        if finished.all():
            break
        logits, state = model.decode_step(memory, state, previous)
        log_p = _log_softmax(logits)
        eos = log_p.shape[1] - 1
        log_p = np.where(constraints.allowed(step, visited, valid, log_p.shape[1]), log_p, -np.inf)
        choice = log_p.argmax(axis=1)
        live = ~finished
        scores[live] += log_p[rows, choice][live]
        emit = live & (choice != eos)
        sequences[emit, step] = choice[emit]
        visited[rows[emit], choice[emit]] = True
        finished |= (live & (choice == eos)) | constraints.complete(visited, valid)
        previous = choice.astype(np.int32)
    return _finish(sequences, constraints), scores


def beam_search(model, points, beam_width: int, lengths=None, constraints: Constraints | None = None,
                max_length: int | None = None, length_penalty: float = 0.0,
                return_all: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Beam search, batched over instances: keeps the `beam_width` best prefixes of every instance.

    Candidates are ranked by log p / L^length_penalty (L: outputs so far, EOS included); 0, the default,
    ranks by log p. A finished hypothesis keeps its place in the beam (its one continuation costs 0)
    until every beam is finished or `max_length` is reached. Returns the best hypothesis per instance
    (indices int32 padded with -1, log p float64 (B,)), or with `return_all` every beam, best first:
    (B, beam_width, ...) and (B, beam_width). Beam search is not exact: a wider beam usually, but not
    always, finds a more likely sequence; a beam as wide as the number of valid sequences is exhaustive.
    """
    if beam_width < 1:
        raise ValueError(f"beam_width must be >= 1, got {beam_width}")
    points, constraints, max_length, valid = _setup(points, lengths, constraints, max_length)
    batch, n = points.shape[:2]
    k = beam_width
    memory, state = model.encode(points, lengths)
    # row b * k + j is beam j of instance b
    memory = {key: ops.repeat(value, k, axis=0) for key, value in memory.items()}
    state = [ops.repeat(s, k, axis=0) for s in state]
    valid = np.repeat(valid, k, axis=0).reshape(batch, k, n)
    sequences = np.full((batch, k, max_length), PAD, dtype=np.int64)
    visited = np.zeros((batch, k, n), dtype=bool)
    finished = np.zeros((batch, k), dtype=bool)
    scores = np.full((batch, k), -np.inf)
    scores[:, 0] = 0.0  # one live hypothesis at the start, so no beam is a copy of another
    lengths_so_far = np.zeros((batch, k))
    previous = np.full(batch * k, PAD, dtype=np.int32)
    instance = np.arange(batch)[:, None]
    for step in range(max_length):
        if finished.all():
            break
        logits, state = model.decode_step(memory, state, previous)
        log_p = _log_softmax(logits)
        n_out = log_p.shape[1]
        eos = n_out - 1
        allowed = constraints.allowed(step, visited.reshape(batch * k, n), valid.reshape(batch * k, n), n_out)
        log_p = np.where(allowed, log_p, -np.inf).reshape(batch, k, n_out)
        log_p[finished] = -np.inf
        log_p[finished, eos] = 0.0  # a finished hypothesis stays as it is
        total = scores[:, :, None] + log_p
        length = lengths_so_far + ~finished
        rank = total / length[:, :, None] ** length_penalty if length_penalty else total
        best = np.argsort(-rank.reshape(batch, k * n_out), axis=1, kind="stable")[:, :k]
        source, choice = best // n_out, best % n_out
        scores = total.reshape(batch, k * n_out)[instance, best]
        sequences, visited = sequences[instance, source], visited[instance, source]
        was_finished, lengths_so_far = finished[instance, source], length[instance, source]
        emit = ~was_finished & (choice != eos)
        sequences[emit, step] = choice[emit]
        b, j = np.nonzero(emit)
        visited[b, j, choice[emit]] = True
        finished = was_finished | (~was_finished & (choice == eos))
        finished |= constraints.complete(visited.reshape(batch * k, n), valid.reshape(batch * k, n)).reshape(batch, k)
        state = [ops.take(s, (instance * k + source).reshape(-1), axis=0) for s in state]
        previous = choice.reshape(-1).astype(np.int32)
    if return_all:
        return _finish(sequences, constraints), scores
    return _finish(sequences[:, 0], constraints), scores[:, 0]


def sequence_log_prob(model, points, sequences, lengths=None, eos=True) -> np.ndarray:
    """log p(C | P) (B,) of given index sequences (int, padded with -1) by teacher forcing.

    `eos` (a bool, or one per sequence): whether the EOS class after the sequence counts too, as for the
    sequences a decoder stopped at EOS; not for tours, nor for sequences cut at `max_length`.
    """
    sequences = np.asarray(sequences).reshape(len(sequences), -1)
    points = np.asarray(points, dtype=np.float32)
    eos = np.broadcast_to(np.asarray(eos, dtype=bool), (len(sequences),))
    eos_class = model.eos_index(points.shape[1])
    targets = np.full((len(sequences), sequences.shape[1] + 1), PAD, dtype=np.int32)
    for i, row in enumerate(sequences):
        row = row[row != PAD]
        targets[i, : len(row)] = row
        if eos[i]:
            targets[i, len(row)] = eos_class
    inputs = {"points": points, "targets": targets}
    if lengths is not None:
        inputs["lengths"] = np.asarray(lengths, dtype=np.int32)
    log_p = _log_softmax(model(inputs))
    picked = np.take_along_axis(log_p, np.maximum(targets, 0)[..., None], axis=-1)[..., 0]
    return np.where(targets != PAD, picked, 0.0).sum(axis=1)
