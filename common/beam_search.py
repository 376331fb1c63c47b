"""Greedy and beam search over an encoder-decoder that emits one class per step, with constraints passed in as data.

Used by Pointer Networks (Vinyals et al. 2015, Sec. 2.1, 4.4) and sequence to sequence (Sutskever et al. 2014,
Sec. 3.2; Bahdanau et al. 2014). The search knows a model only through one decoder step:

    logits, state = model.decode_step(memory, state, previous)

`memory, state` are what the model's encoder returned for a batch (e.g. `model.encode(...)`): any nesting of
tensors whose first axis is the batch; the search repeats both for its beams and reorders `state` as it keeps
hypotheses. `previous` (R,) int32 holds each row's previous output class, -1 at the first step (the model reads
its start symbol there); `logits` is (R, n_out). One class, `eos` (the last one unless given), ends a sequence
and is not returned. Everything else about the task is the constraint's.

Scores are the model's own log-probabilities, log p(C | X) = sum_i log softmax(logits_i)[C_i]: a constraint
removes outputs from the search but does not renormalise the distribution, so a score is always the probability
the model gives the sequence.

A constraint says which classes a hypothesis may emit next. It keeps a record per hypothesis: a NumPy array (or
a tuple or dict of them) with one row per hypothesis, which the search copies along when it repeats and reorders
hypotheses. Its four methods:

    record = constraint.start(batch, n_out)          the record of each instance before its first output
    allowed = constraint.allowed(record, step)       bool (R, n_out): what each row may emit at `step` (0-based)
    record = constraint.update(record, step, emitted)  after row r emitted class emitted[r] at `step`;
                                                     emitted[r] is -1 where the row emitted nothing (it had ended)
    complete = constraint.complete(record)           bool (R,): rows that are finished without emitting EOS

`Unconstrained` allows every class. A row that a constraint leaves with nothing to emit ends (EOS). A sequence
ends at EOS or after `max_length` outputs. The searches return int32 (B, max_length) class sequences padded
with -1 (EOS removed) and their float64 log-probabilities (B,).

Beam search keeps finished hypotheses in one of two ways (`finished`):

* "slot" (the default; Pointer Networks' numbers were made with it): a finished hypothesis keeps its place in the
  beam, its score frozen (its one continuation, EOS, costs 0), until every beam of every instance is finished or
  `max_length` is reached. A beam holds at most `beam_width` hypotheses, finished or not.
* "set" (Sutskever et al. 2014, Sec. 3.2: "we discard all but the B most likely hypotheses ... As soon as the
  EOS symbol is appended to a hypothesis, it is removed from the beam and is added to the set of complete
  hypotheses"): every step keeps the `beam_width` most likely candidates, those ending in EOS among them; these
  leave the beam for the instance's finished set (and so does a live hypothesis the constraint calls complete), so
  the beam shrinks as hypotheses finish and holds only what is still open. A beam of 1 is therefore greedy decoding
  (tested). An instance stops when no live hypothesis is left, or as soon as its best finished hypothesis ranks at
  least as high as anything a live one could still become (`_reachable`), which is exact: the best is the one a
  search run to `max_length` would return (tested). At `max_length` the live hypotheses count as finished too.

Both rank by log p, or with `length_penalty` alpha > 0 by log p / L^alpha (L: outputs, EOS included), which
favours longer outputs (Wu et al. 2016, Sec. 7, use a smoothed L); the score returned stays log p.
"""

import keras
import numpy as np
from keras import ops

PAD = -1
FINISHED = ("slot", "set")


class Unconstrained:
    """Every class at every step: the record is the mask of allowed classes, all True."""

    def start(self, batch: int, n_out: int) -> np.ndarray:
        return np.ones((batch, n_out), dtype=bool)

    def allowed(self, record: np.ndarray, step: int) -> np.ndarray:
        return record

    def update(self, record: np.ndarray, step: int, emitted: np.ndarray) -> np.ndarray:
        return record

    def complete(self, record: np.ndarray) -> np.ndarray:
        return np.zeros(len(record), dtype=bool)


def log_softmax(logits) -> np.ndarray:
    """float64 log softmax over the last axis, in place on one float64 copy of the logits (R, n_out)."""
    x = np.array(ops.convert_to_numpy(logits), dtype=np.float64)  # a copy: the caller's array is never changed
    x -= x.max(axis=-1, keepdims=True)
    x -= np.log(np.exp(x).sum(axis=-1, keepdims=True))
    return x


def top_k(values: np.ndarray, k: int) -> np.ndarray:
    """Indices (R, k) of the k largest of each row of `values` (R, N), largest first, ties to the lower index.

    The same as `np.argsort(-values, axis=1, kind="stable")[:, :k]`, which the searches used first (so their
    results are unchanged), in O(N) passes instead of a sort of N: `np.argpartition` finds the k largest; where the
    k-th value ties with one left out, every value above it is kept and, of those equal to it, the first ones; only
    the k kept are sorted. With N = beam 12 x 8,000 words that is a sort of 96,000 values per step against a few
    passes (about 10x faster).
    """
    n = values.shape[1]
    if k >= n or np.isnan(values).any():  # (NaN, a broken model's, sorts last in the sort; the partition differs)
        return np.argsort(-values, axis=1, kind="stable")[:, :k]
    part = np.argpartition(values, n - k, axis=1)
    kept, kth = part[:, n - k:], np.take_along_axis(values, part[:, n - k:n - k + 1], axis=1)
    shared = np.flatnonzero((values >= kth).sum(axis=1) > k)  # rows where the k-th value ties with one left out
    if len(shared):  # keep every value above it and, of those equal to it, the first ones
        row_values, row_kth = values[shared], kth[shared]
        above, tied = row_values > row_kth, row_values == row_kth
        tied &= np.cumsum(tied, axis=1) <= (k - above.sum(axis=1))[:, None]
        kept[shared] = np.nonzero(above | tied)[1].reshape(len(shared), k)
    kept = np.sort(kept, axis=1)  # index order, so that the stable sort below puts the lower index first
    order = np.argsort(-np.take_along_axis(values, kept, axis=1), axis=1, kind="stable")
    return np.take_along_axis(kept, order, axis=1)


def _rows(structure, index):
    """Every array of a record or state, rows picked by `index` (NumPy arrays stay NumPy, tensors tensors)."""
    def take(x):
        return x[index] if isinstance(x, np.ndarray) else ops.take(x, index, axis=0)
    return keras.tree.map_structure(take, structure)


def _allowed(constraint, record, step: int, n_out: int, eos: int) -> np.ndarray:
    allowed = np.asarray(constraint.allowed(record, step), dtype=bool)
    if allowed.shape[1] != n_out:
        raise ValueError(f"the constraint allows {allowed.shape[1]} classes; the model has {n_out}")
    stuck = ~allowed.any(axis=1)
    if stuck.any():  # nothing left to emit: the row ends (a copy, for the record may be the constraint's own)
        allowed = allowed.copy()
        allowed[stuck, eos] = True
    return allowed


def _batch_size(state) -> int:
    return int(ops.shape(keras.tree.flatten(state)[0])[0])


def _step_log_p(model, memory, state, previous, constraint, record, step, eos, batch, copies=None):
    """One decoder step: (log p (R, n_out), -inf where the constraint forbids, the new state, record, EOS class)."""
    logits, state = model.decode_step(memory, state, previous)
    log_p = log_softmax(logits)
    n_out = log_p.shape[1]
    end = n_out - 1 if eos is None else eos
    if record is None:
        record = constraint.start(batch, n_out)
        record = record if copies is None else _rows(record, copies)
    np.copyto(log_p, -np.inf, where=~_allowed(constraint, record, step, n_out, end))  # one pass, no index list
    return log_p, state, record, end


def greedy_decode(model, encoded, max_length: int, constraint=None,
                  eos: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The most likely allowed class at every step. Returns (classes int32 (B, max_length), log p float64 (B,)).

    `encoded` = (memory, state) of a batch of B inputs, as the model's encoder returns them.
    """
    memory, state = encoded
    constraint = constraint or Unconstrained()
    batch = _batch_size(state)
    sequences = np.full((batch, max_length), PAD, dtype=np.int64)
    finished = np.zeros(batch, dtype=bool)
    scores = np.zeros(batch)
    previous = np.full(batch, PAD, dtype=np.int32)
    rows = np.arange(batch)
    record = None
    for step in range(max_length):
        if finished.all():
            break
        log_p, state, record, end = _step_log_p(model, memory, state, previous, constraint, record, step, eos, batch)
        choice = log_p.argmax(axis=1)
        live = ~finished
        scores[live] += log_p[rows, choice][live]
        emit = live & (choice != end)
        sequences[emit, step] = choice[emit]
        record = constraint.update(record, step, np.where(emit, choice, PAD))
        finished |= (live & (choice == end)) | constraint.complete(record)
        previous = choice.astype(np.int32)
    return sequences.astype(np.int32), scores


def beam_search(model, encoded, beam_width: int, max_length: int, constraint=None, eos: int | None = None,
                length_penalty: float = 0.0, return_all: bool = False, finished: str = "slot",
                early_stopping: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Beam search, batched over instances: keeps the `beam_width` best prefixes of every instance.

    `encoded` = (memory, state) of a batch of B inputs, as the model's encoder returns them. `finished` is "slot"
    (Pointer Networks' search) or "set" (Sutskever et al. 2014, Sec. 3.2); the module docstring says how they keep
    finished hypotheses, and how `length_penalty` ranks them. `early_stopping=False` runs a "set" search to
    `max_length` (a check of the exact stop: the result is the same). Returns the best hypothesis per instance
    (classes int32 (B, max_length), log p float64 (B,)), or with `return_all` `beam_width` of them, best first:
    (B, beam_width, max_length) and (B, beam_width) ("slot": every beam; "set": the best finished, -inf scores
    where fewer finished). Beam search is not exact: a wider beam usually, but not always, finds a more likely
    sequence; a beam as wide as the number of allowed prefixes is exhaustive.
    """
    if beam_width < 1:
        raise ValueError(f"beam_width must be >= 1, got {beam_width}")
    if finished not in FINISHED:
        raise ValueError(f"finished must be one of {FINISHED}, got {finished!r}")
    search = _beam_slots if finished == "slot" else _beam_set
    sequences, scores = search(model, encoded, beam_width, max_length, constraint or Unconstrained(), eos,
                               length_penalty, early_stopping)
    if return_all:
        return sequences.astype(np.int32), scores
    return sequences[:, 0].astype(np.int32), scores[:, 0]


def _start(encoded, beam_width: int, max_length: int):
    """Row b * k + j is beam j of instance b: memory and state repeated, one live hypothesis (score 0) per instance,
    so that no beam is a copy of another."""
    memory, state = encoded
    batch, k = _batch_size(state), beam_width
    copies = np.repeat(np.arange(batch), k)
    sequences = np.full((batch, k, max_length), PAD, dtype=np.int64)
    scores = np.full((batch, k), -np.inf)
    scores[:, 0] = 0.0
    return _rows(memory, copies), _rows(state, copies), copies, sequences, scores


def _beam_slots(model, encoded, k, max_length, constraint, eos, length_penalty, early_stopping):
    """"slot": a finished hypothesis keeps its beam, its score frozen, until all are finished (module docstring)."""
    memory, state, copies, sequences, scores = _start(encoded, k, max_length)
    batch = len(scores)
    finished = np.zeros((batch, k), dtype=bool)
    lengths_so_far = np.zeros((batch, k))
    previous = np.full(batch * k, PAD, dtype=np.int32)
    instance = np.arange(batch)[:, None]
    record = None
    for step in range(max_length):
        if finished.all():
            break
        log_p, state, record, end = _step_log_p(model, memory, state, previous, constraint, record, step, eos,
                                                batch, copies)
        n_out = log_p.shape[1]
        total = log_p.reshape(batch, k, n_out)
        total[finished] = -np.inf
        total[finished, end] = 0.0  # a finished hypothesis stays as it is
        total += scores[:, :, None]
        length = lengths_so_far + ~finished
        rank = total / length[:, :, None] ** length_penalty if length_penalty else total
        best = top_k(rank.reshape(batch, k * n_out), k)
        source, choice = best // n_out, best % n_out
        kept = (instance * k + source).reshape(-1)  # the rows the new beams continue
        scores = total.reshape(batch, k * n_out)[instance, best]
        sequences = sequences[instance, source]
        was_finished, lengths_so_far = finished[instance, source], length[instance, source]
        emit = ~was_finished & (choice != end)
        sequences[emit, step] = choice[emit]
        record = constraint.update(_rows(record, kept), step, np.where(emit, choice, PAD).reshape(-1))
        finished = was_finished | (~was_finished & (choice == end))
        finished |= constraint.complete(record).reshape(batch, k)
        state = _rows(state, kept)
        previous = choice.reshape(-1).astype(np.int32)
    return sequences, scores


def _ranked(scores, lengths, length_penalty: float):
    return scores / np.asarray(lengths, dtype=np.float64) ** length_penalty if length_penalty else scores


def _reachable(live_scores, max_length: int, length_penalty: float) -> np.ndarray:
    """(B,) the best rank any live hypothesis of an instance can still finish with, -inf without one.

    A continuation only adds log-probabilities <= 0, so log p can only fall: the best live log p bounds every
    finished one. Divided by L^alpha, log p <= 0 is highest at the longest L, so with a length penalty the bound is
    the best live log p / max_length^alpha: still exact, but looser, so those searches stop later.
    """
    best = live_scores.max(axis=1)
    return best / float(max_length) ** length_penalty if length_penalty else best


def _beam_set(model, encoded, k, max_length, constraint, eos, length_penalty, early_stopping):
    """"set": a kept candidate that ends in EOS leaves the beam for a finished set (module docstring)."""
    memory, state, copies, sequences, scores = _start(encoded, k, max_length)
    batch = len(scores)
    done_seq = np.full_like(sequences, PAD)  # each instance's k best finished, by rank, best first
    done_scores, done_rank = np.full((batch, k), -np.inf), np.full((batch, k), -np.inf)
    instance = np.arange(batch)[:, None]

    def finish(candidates, candidate_scores, length):
        """Merge finished candidates into the finished set; ties keep the earlier, then the lower beam."""
        nonlocal done_seq, done_scores, done_rank
        all_rank = np.concatenate([done_rank, _ranked(candidate_scores, length, length_penalty)], axis=1)
        best = np.argsort(-all_rank, axis=1, kind="stable")[:, :k]
        done_rank = np.take_along_axis(all_rank, best, axis=1)
        done_scores = np.take_along_axis(np.concatenate([done_scores, candidate_scores], axis=1), best, axis=1)
        done_seq = np.concatenate([done_seq, candidates], axis=1)[instance, best]

    previous = np.full(batch * k, PAD, dtype=np.int32)
    record = None
    for step in range(max_length):
        log_p, state, record, end = _step_log_p(model, memory, state, previous, constraint, record, step, eos,
                                                batch, copies)
        n_out = log_p.shape[1]
        total = log_p.reshape(batch, k, n_out)
        total += scores[:, :, None]  # -inf rows (no live hypothesis there) stay -inf
        best = top_k(total.reshape(batch, k * n_out), k)  # the k best candidates, EOS included (one length: log p)
        source, choice = best // n_out, best % n_out
        kept = (instance * k + source).reshape(-1)
        scores = total.reshape(batch, k * n_out)[instance, best]
        sequences = sequences[instance, source]
        ended = np.isfinite(scores) & (choice == end)
        if ended.any():  # out of the beam, into the finished set (L = outputs with EOS)
            finish(sequences, np.where(ended, scores, -np.inf), step + 1)
            scores = np.where(ended, -np.inf, scores)
        live = np.isfinite(scores)
        sequences[live, step] = choice[live]
        record = constraint.update(_rows(record, kept), step, np.where(live, choice, PAD).reshape(-1))
        complete = live & constraint.complete(record).reshape(batch, k)
        if complete.any():  # finished without EOS (e.g. a whole tour): to the finished set, its slot emptied
            finish(sequences, np.where(complete, scores, -np.inf), step + 1)
            scores = np.where(complete, -np.inf, scores)
        state = _rows(state, kept)
        previous = choice.reshape(-1).astype(np.int32)
        reachable = _reachable(scores, max_length, length_penalty)
        stop = reachable == -np.inf
        if early_stopping:
            stop |= done_rank[:, 0] >= reachable
        scores[stop] = -np.inf  # the instance is decided: its live hypotheses can no longer win
        if stop.all():
            break
    else:
        finish(sequences, scores, max_length)  # at max_length the live hypotheses count as finished
    return done_seq, done_scores
