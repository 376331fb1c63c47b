"""The searches of common/beam_search.py on tiny scripted models (no training): greedy, the two beam searches, their
ranking, the exact stop of the "set" search, the partial sort, and the constraint interface."""

import itertools

import numpy as np
import pytest

from common import beam_search as bs


class PrefixModel:
    """Logits that depend on the instance and on the whole prefix: table[b, id], id numbering the prefixes of an
    n_out-ary tree (root 0, child c of id p is p * n_out + c + 1). The state is (instance, id) as NumPy arrays."""

    def __init__(self, table):
        self.table = np.asarray(table, dtype=np.float32)  # (B, ids, n_out)
        self.n_out, self.calls = self.table.shape[2], 0

    def encode(self):
        batch = len(self.table)
        return {}, [np.arange(batch)[:, None], np.zeros((batch, 1), dtype=np.int64)]

    def decode_step(self, memory, state, previous):
        self.calls += 1
        instance, prefix = state[0][:, 0], state[1][:, 0]
        prefix = np.where(previous < 0, 0, prefix * self.n_out + previous + 1)
        return self.table[instance, prefix], [state[0], prefix[:, None]]

    def log_p(self, b, sequence, eos: bool) -> float:
        """log p of `sequence` (then EOS, if `eos`) under instance b, in float64 as the searches compute it."""
        total, prefix = 0.0, 0
        for c in [*sequence, self.n_out - 1] if eos else sequence:
            total += bs.log_softmax(self.table[b, prefix][None])[0, c]
            prefix = prefix * self.n_out + c + 1
        return total


def random_model(batch, n_out, max_length, seed, eos_bias=0.0, scale=2.0):
    rng = np.random.default_rng(seed)
    table = rng.normal(size=(batch, n_out ** (max_length + 1), n_out)) * scale
    table[:, :, -1] += eos_bias
    return PrefixModel(table)


def best_by_enumeration(model, max_length, length_penalty=0.0):
    """Every sequence of words ending in EOS before max_length, or max_length words: the best by rank, per instance."""
    words = range(model.n_out - 1)
    out = []
    for b in range(len(model.table)):
        best = (-np.inf, None, None)
        for length in range(max_length + 1):
            for seq in itertools.product(words, repeat=length):
                eos = length < max_length
                score = model.log_p(b, seq, eos)
                rank = score / (length + eos) ** length_penalty if length_penalty else score
                if rank > best[0]:
                    best = (rank, seq, score)
        out.append(best)
    return out


def padded(seq, length):
    return [*seq, *[bs.PAD] * (length - len(seq))]


@pytest.mark.parametrize("constraint", [None, "no_class_twice"])
def test_beam_of_one_is_greedy(constraint):
    model = random_model(16, 4, 5, seed=1, eos_bias=-1.0)
    rules = NoClassTwiceInARow() if constraint else None
    greedy, greedy_scores = bs.greedy_decode(model, model.encode(), 5, rules)
    beam, beam_scores = bs.beam_search(model, model.encode(), 1, 5, rules)
    np.testing.assert_array_equal(beam, greedy)
    np.testing.assert_allclose(beam_scores, greedy_scores, rtol=1e-12)
    # the paper's search ("set") with a beam of 1 is greedy too: the one kept candidate is the argmax
    beam, beam_scores = bs.beam_search(model, model.encode(), 1, 5, rules, finished="set")
    np.testing.assert_array_equal(beam, greedy)
    np.testing.assert_allclose(beam_scores, greedy_scores, rtol=1e-12)


def test_set_search_as_wide_as_the_prefixes_finds_the_most_probable_sequence():
    """Two words and EOS, at most 3 outputs: a beam of 8 keeps every candidate of the first two steps (3, then at
    most 6) and the best 8 of the last step's 12, which all count as finished at max_length: exhaustive."""
    max_length, lengths = 3, set()
    for seed, eos_bias in [(0, 0.0), (1, 1.5), (2, -1.5)]:
        model = random_model(40, 3, max_length, seed, eos_bias)
        found, scores = bs.beam_search(model, model.encode(), 8, max_length, finished="set")
        expected = best_by_enumeration(model, max_length)
        np.testing.assert_array_equal(found, [padded(seq, max_length) for _, seq, _ in expected])
        np.testing.assert_allclose(scores, [score for *_, score in expected], rtol=1e-12)
        # the slot search is exhaustive too once every hypothesis has a beam (1 + 2 + 4 + 8)
        slots, _ = bs.beam_search(model, model.encode(), 15, max_length)
        np.testing.assert_array_equal(slots, found)
        lengths |= {len(seq) for _, seq, _ in expected}
    assert lengths == {0, 1, 2, 3}  # the best sequences end at every length


@pytest.mark.parametrize("length_penalty", [0.0, 0.6])
def test_the_exact_stop_returns_what_running_to_max_length_returns(length_penalty):
    max_length = 5
    model = random_model(40, 5, max_length, seed=3, eos_bias=1.0)
    calls = []
    for width in (1, 2, 3):
        stopped = bs.beam_search(model, model.encode(), width, max_length, finished="set",
                                 length_penalty=length_penalty)
        stopped_calls, model.calls = model.calls, 0
        full = bs.beam_search(model, model.encode(), width, max_length, finished="set",
                              length_penalty=length_penalty, early_stopping=False)
        np.testing.assert_array_equal(stopped[0], full[0])
        np.testing.assert_array_equal(stopped[1], full[1])
        assert model.calls == max_length
        calls.append(stopped_calls)
        model.calls = 0
    if not length_penalty:
        assert min(calls) < max_length  # EOS is likely here: every instance was decided early


def test_set_search_with_return_all_gives_the_best_finished_first():
    model = random_model(8, 4, 4, seed=5)
    sequences, scores = bs.beam_search(model, model.encode(), 3, 4, finished="set", return_all=True)
    assert sequences.shape == (8, 3, 4) and scores.shape == (8, 3) and sequences.dtype == np.int32
    assert (scores[:, :-1] >= scores[:, 1:]).all()
    best, _ = bs.beam_search(model, model.encode(), 3, 4, finished="set")
    np.testing.assert_array_equal(sequences[:, 0], best)
    missing = scores == -np.inf  # the search stopped before three finished: -inf, no outputs
    assert missing.any() and (sequences[missing] == bs.PAD).all()
    for b, j in zip(*np.nonzero(~missing), strict=True):
        words = sequences[b, j][sequences[b, j] != bs.PAD]
        np.testing.assert_allclose(scores[b, j], model.log_p(b, words, eos=len(words) < 4), rtol=1e-12)
    _, full = bs.beam_search(model, model.encode(), 3, 4, finished="set", return_all=True, early_stopping=False)
    assert np.isfinite(full).all() and (full[:, 0] == scores[:, 0]).all()


def step_model(log_p):
    """A PrefixModel whose logits at step t are log_p[t], whatever the prefix (one instance)."""
    n_out, max_length = len(log_p[0]), len(log_p)
    depth = np.zeros(n_out ** (max_length + 1), dtype=int)
    for prefix in range(1, len(depth)):
        depth[prefix] = depth[(prefix - 1) // n_out] + 1
    return PrefixModel(np.asarray(log_p)[np.minimum(depth, max_length - 1)][None])


@pytest.mark.parametrize("finished", bs.FINISHED)
def test_length_penalty_is_off_by_default_and_favours_longer_outputs(finished):
    # step 0: log p = -1.1 (word 0), -1.2 (word 1), -1.0 (EOS); step 1: EOS almost surely
    model = step_model(np.log([[np.exp(-1.1), 1 - np.exp(-1.1) - np.exp(-1.0), np.exp(-1.0)], [0.005, 0.005, 0.99]]))
    empty, score = bs.beam_search(model, model.encode(), 2, 2, finished=finished)
    np.testing.assert_array_equal(empty, [[-1, -1]])
    np.testing.assert_allclose(score, [-1.0])
    longer, score = bs.beam_search(model, model.encode(), 2, 2, finished=finished, length_penalty=1.0)
    np.testing.assert_array_equal(longer, [[0, -1]])  # (-1.1 + log 0.99) / 2 > -1.0 / 1
    np.testing.assert_allclose(score, [-1.1 + np.log(0.99)])  # the returned score stays log p


def test_set_search_with_a_length_penalty_is_exhaustive_too():
    model = random_model(30, 3, 3, seed=7, eos_bias=0.5)
    found, scores = bs.beam_search(model, model.encode(), 4, 3, finished="set", length_penalty=1.0)
    expected = best_by_enumeration(model, 3, length_penalty=1.0)
    np.testing.assert_array_equal(found, [padded(seq, 3) for _, seq, _ in expected])
    np.testing.assert_allclose(scores, [score for *_, score in expected], rtol=1e-12)


def test_top_k_is_the_stable_full_sort():
    rng = np.random.default_rng(0)
    for n, k in [(1, 1), (7, 3), (40, 12), (300, 12), (12, 12), (5, 9)]:
        values = np.round(rng.normal(size=(50, n)), 1)  # many ties
        values[rng.random(values.shape) < 0.3] = -np.inf  # constraints' forbidden classes
        values[:3] = -np.inf  # rows of nothing
        values[3] = 0.5  # a row of ties
        np.testing.assert_array_equal(bs.top_k(values, k), np.argsort(-values, axis=1, kind="stable")[:, :k])
    values[4, 1] = np.nan
    np.testing.assert_array_equal(bs.top_k(values, 3), np.argsort(-values, axis=1, kind="stable")[:, :3])


@pytest.mark.parametrize("finished", bs.FINISHED)
def test_the_searches_with_top_k_equal_them_with_a_full_sort(finished, monkeypatch):
    model = random_model(20, 8, 4, seed=9, scale=1.0)
    partial = bs.beam_search(model, model.encode(), 5, 4, finished=finished, return_all=True)
    monkeypatch.setattr(bs, "top_k", lambda values, k: np.argsort(-values, axis=1, kind="stable")[:, :k])
    full = bs.beam_search(model, model.encode(), 5, 4, finished=finished, return_all=True)
    np.testing.assert_array_equal(partial[0], full[0])
    np.testing.assert_array_equal(partial[1], full[1])


def test_bad_arguments_are_refused():
    model = random_model(2, 3, 2, seed=0)
    with pytest.raises(ValueError, match="beam_width"):
        bs.beam_search(model, model.encode(), 0, 2)
    with pytest.raises(ValueError, match="finished"):
        bs.beam_search(model, model.encode(), 2, 2, finished="pool")


# --- the constraint interface ------------------------------------------------------------------------------------

class NoClassTwiceInARow:
    """A rule of no task, kept in a dict record: a class may not follow itself."""

    def start(self, batch, n_out):
        self.n_out = n_out
        return {"last": np.full(batch, -1)}

    def allowed(self, record, step):
        return np.arange(self.n_out)[None, :] != record["last"][:, None]

    def update(self, record, step, emitted):
        return {"last": np.where(emitted >= 0, emitted, record["last"])}

    def complete(self, record):
        return np.zeros(len(record["last"]), dtype=bool)


class Permutation:
    """Every word exactly once, no EOS: a hypothesis is complete when it has used every word (as a tour)."""

    def start(self, batch, n_out):
        return np.ones((batch, n_out - 1), dtype=bool)

    def allowed(self, unused, step):
        return np.concatenate([unused, np.zeros((len(unused), 1), dtype=bool)], axis=1)

    def update(self, unused, step, emitted):
        unused, rows = unused.copy(), np.flatnonzero(emitted >= 0)
        unused[rows, emitted[rows]] = False
        return unused

    def complete(self, unused):
        return ~unused.any(axis=1)


@pytest.mark.parametrize("finished", bs.FINISHED)
def test_the_search_takes_any_constraint_and_eos_class(finished):
    """The search knows nothing of the task: EOS is class 0 here, and the rule is the constraint object's.

    The exhaustive beam (as wide as the live prefixes) equals the best of every allowed sequence, scored by hand.
    """
    rng = np.random.default_rng(0)
    steps, n_out = 5, 4
    script = rng.normal(size=(steps, n_out)) * 2
    script[:, 0] -= 4.0  # EOS unlikely, so the best sequence is long and its argmax path ([2, 2, 3, 1, 3]) forbidden
    log_p = script - np.log(np.exp(script).sum(axis=1, keepdims=True))
    best, best_score = None, -np.inf
    for length in range(steps + 1):
        for seq in itertools.product(range(1, n_out), repeat=length):
            if any(a == b for a, b in itertools.pairwise(seq)):
                continue
            score = sum(log_p[t, c] for t, c in enumerate(seq)) + (log_p[length, 0] if length < steps else 0.0)
            if score > best_score:
                best, best_score = seq, score
    model = step_model(script)
    model.table = np.repeat(model.table, 2, axis=0)  # two instances
    found, score = bs.beam_search(model, model.encode(), 3 ** steps, steps, NoClassTwiceInARow(), eos=0,
                                  finished=finished)
    np.testing.assert_array_equal(found[0], padded(best, steps))
    np.testing.assert_allclose(score, [best_score] * 2, rtol=1e-6)
    greedy, _ = bs.greedy_decode(model, model.encode(), steps, NoClassTwiceInARow(), eos=0)
    row = greedy[0][greedy[0] != -1]
    assert (row != 0).all() and (np.diff(row) != 0).all()
    free, _ = bs.greedy_decode(model, model.encode(), steps, eos=0)  # no constraint: the argmax
    argmax = script.argmax(axis=1)
    ends = (argmax == 0).tolist().index(True) if 0 in argmax else steps
    np.testing.assert_array_equal(free[0], padded(argmax[:ends], steps))


@pytest.mark.parametrize("finished", bs.FINISHED)
def test_a_constraint_may_complete_hypotheses_without_eos(finished):
    """Permutations of 3 words (a tour's rule): as many beams as permutations find the most likely one, and every
    output is a permutation, though EOS would score highest."""
    model = random_model(12, 4, 3, seed=11, eos_bias=3.0)
    found, scores = bs.beam_search(model, model.encode(), 6, 3, Permutation(), finished=finished)
    perms = list(itertools.permutations(range(3)))
    for b in range(12):
        log_p = [model.log_p(b, p, eos=False) for p in perms]
        np.testing.assert_array_equal(found[b], perms[int(np.argmax(log_p))])
        np.testing.assert_allclose(scores[b], max(log_p), rtol=1e-12)
    narrow, _ = bs.beam_search(model, model.encode(), 2, 3, Permutation(), finished=finished)
    assert (np.sort(narrow, axis=1) == [0, 1, 2]).all()
