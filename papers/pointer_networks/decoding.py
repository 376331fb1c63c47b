"""Greedy and beam search over an encoder-decoder that emits one class per step, with constraints passed in as data.

The search knows a model only through one decoder step:

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
"""

import keras
import numpy as np
from keras import ops

PAD = -1


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


def _log_softmax(logits) -> np.ndarray:
    x = np.asarray(ops.convert_to_numpy(logits), dtype=np.float64)
    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def _rows(structure, index):
    """Every array of a record or state, rows picked by `index` (NumPy arrays stay NumPy, tensors tensors)."""
    def take(x):
        return x[index] if isinstance(x, np.ndarray) else ops.take(x, index, axis=0)
    return keras.tree.map_structure(take, structure)


def _allowed(constraint, record, step: int, n_out: int, eos: int) -> np.ndarray:
    allowed = np.asarray(constraint.allowed(record, step), dtype=bool).copy()
    if allowed.shape[1] != n_out:
        raise ValueError(f"the constraint allows {allowed.shape[1]} classes; the model has {n_out}")
    allowed[~allowed.any(axis=1), eos] = True  # nothing left to emit: the row ends
    return allowed


def _batch_size(state) -> int:
    return int(ops.shape(keras.tree.flatten(state)[0])[0])


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
        logits, state = model.decode_step(memory, state, previous)
        log_p = _log_softmax(logits)
        n_out = log_p.shape[1]
        end = n_out - 1 if eos is None else eos
        record = constraint.start(batch, n_out) if record is None else record
        log_p = np.where(_allowed(constraint, record, step, n_out, end), log_p, -np.inf)
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
                length_penalty: float = 0.0, return_all: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Beam search, batched over instances: keeps the `beam_width` best prefixes of every instance.

    `encoded` = (memory, state) of a batch of B inputs, as the model's encoder returns them. Candidates are
    ranked by log p / L^length_penalty (L: outputs so far, EOS included); 0, the default, ranks by log p. A
    finished hypothesis keeps its place in the beam (its one continuation, EOS, costs 0) until every beam is
    finished or `max_length` is reached. Returns the best hypothesis per instance (classes int32 (B, max_length),
    log p float64 (B,)), or with `return_all` every beam, best first: (B, beam_width, max_length) and
    (B, beam_width). Beam search is not exact: a wider beam usually, but not always, finds a more likely
    sequence; a beam as wide as the number of allowed sequences is exhaustive.
    """
    if beam_width < 1:
        raise ValueError(f"beam_width must be >= 1, got {beam_width}")
    memory, state = encoded
    constraint = constraint or Unconstrained()
    batch, k = _batch_size(state), beam_width
    # row b * k + j is beam j of instance b
    copies = np.repeat(np.arange(batch), k)
    memory, state = _rows(memory, copies), _rows(state, copies)
    sequences = np.full((batch, k, max_length), PAD, dtype=np.int64)
    finished = np.zeros((batch, k), dtype=bool)
    scores = np.full((batch, k), -np.inf)
    scores[:, 0] = 0.0  # one live hypothesis at the start, so no beam is a copy of another
    lengths_so_far = np.zeros((batch, k))
    previous = np.full(batch * k, PAD, dtype=np.int32)
    instance = np.arange(batch)[:, None]
    record = None
    for step in range(max_length):
        if finished.all():
            break
        logits, state = model.decode_step(memory, state, previous)
        log_p = _log_softmax(logits)
        n_out = log_p.shape[1]
        end = n_out - 1 if eos is None else eos
        record = _rows(constraint.start(batch, n_out), copies) if record is None else record
        log_p = np.where(_allowed(constraint, record, step, n_out, end), log_p, -np.inf).reshape(batch, k, n_out)
        log_p[finished] = -np.inf
        log_p[finished, end] = 0.0  # a finished hypothesis stays as it is
        total = scores[:, :, None] + log_p
        length = lengths_so_far + ~finished
        rank = total / length[:, :, None] ** length_penalty if length_penalty else total
        best = np.argsort(-rank.reshape(batch, k * n_out), axis=1, kind="stable")[:, :k]
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
    if return_all:
        return sequences.astype(np.int32), scores
    return sequences[:, 0].astype(np.int32), scores[:, 0]
