"""Pointer Networks' searches: the tasks' rules over the three models (the search itself: test_beam_search.py)."""

import itertools

import keras
import numpy as np
import pytest
from test_pointer_networks_model import make_model

from papers.pointer_networks import configs, constraints, evaluate, geometry, metrics
from papers.pointer_networks.model import sequence_log_prob
from papers.pointer_networks.tours import is_valid_tour


def tsp(n, lengths=None):
    return constraints.for_task("tsp", n, lengths)


@pytest.mark.parametrize("name", ["lstm", "attention", "ptrnet"])
def test_tsp_search_always_returns_tours_from_city_zero(name):
    model = make_model(name, seed=2)
    points = geometry.random_points(64, 7, seed=6)
    for tours, _ in [constraints.search(model, points, tsp(7)), constraints.search(model, points, tsp(7), 3)]:
        assert tours.shape == (64, 7) and tours.dtype == np.int32
        assert is_valid_tour(tours, 7).all()
        assert (tours[:, 0] == 0).all()


def test_tsp_search_on_mixed_sizes():
    model = make_model("ptrnet", seed=3)
    points = geometry.random_points(32, 8, seed=7)
    lengths = np.random.default_rng(0).integers(3, 9, size=32)
    for tours, _ in [constraints.search(model, points, tsp(8, lengths)),
                     constraints.search(model, points, tsp(8, lengths), 4)]:
        for tour, n in zip(tours, lengths, strict=True):
            assert is_valid_tour([tour], n).all() and tour[0] == 0 and (tour[n:] == -1).all()


@pytest.mark.parametrize("task", ["tsp", "convex_hull", "delaunay"])
def test_beam_width_one_is_greedy(task):
    model = make_model("ptrnet", seed=4)
    points = geometry.random_points(24, 6, seed=8)
    rules = constraints.for_task(task, 6)
    greedy, greedy_scores = constraints.search(model, points, rules)
    beam, beam_scores = constraints.search(model, points, rules, 1)
    np.testing.assert_array_equal(beam, greedy)
    np.testing.assert_allclose(beam_scores, greedy_scores, rtol=1e-12)


def test_exhaustive_beam_finds_the_most_likely_tour():
    """With as many beams as tours ((n - 1)! from city 0) the search is exact, so no narrower beam beats it.

    (A wider beam is not better than a narrower one on every instance: beam search prunes prefixes that
    might have ended better. The exhaustive beam is the case where "never worse" is a theorem.)
    """
    n = 5
    model = make_model("ptrnet", seed=5)
    points = geometry.random_points(16, n, seed=9)
    all_tours = np.array([(0, *rest) for rest in itertools.permutations(range(1, n))])
    log_p = np.stack([sequence_log_prob(model, points, np.tile(t, (16, 1)), eos=False) for t in all_tours])
    exact, exact_scores = constraints.search(model, points, tsp(n), len(all_tours))
    np.testing.assert_allclose(exact_scores, log_p.max(axis=0), rtol=1e-5)
    np.testing.assert_array_equal(exact, all_tours[log_p.argmax(axis=0)])
    as_set = constraints.search(model, points, tsp(n), len(all_tours), finished="set")  # seq2seq's search
    np.testing.assert_array_equal(as_set[0], exact)
    np.testing.assert_allclose(as_set[1], exact_scores, rtol=1e-12)
    for width in (1, 2, 3):
        _, scores = constraints.search(model, points, tsp(n), width)
        assert (exact_scores >= scores - 1e-9).all()


@pytest.mark.parametrize("name", ["lstm", "attention", "ptrnet"])
def test_search_scores_are_the_models_log_probabilities(name):
    model = make_model(name, seed=6)
    points = geometry.random_points(16, 6, seed=10)
    lengths = np.array([6, 4] * 8)
    hull = constraints.for_task("convex_hull", 6, lengths)
    for sequences, scores in [constraints.search(model, points, hull), constraints.search(model, points, hull, 3)]:
        stopped_at_eos = (sequences != -1).sum(axis=1) < 6
        expected = sequence_log_prob(model, points, sequences, lengths, eos=stopped_at_eos)
        np.testing.assert_allclose(scores, expected, rtol=1e-4)
        for row, n in zip(sequences, lengths, strict=True):  # no repeats, only real points
            row = row[row != -1]
            assert len(set(row.tolist())) == len(row) and (row < n).all()
    beams, beam_scores = constraints.search(model, points, hull, 3, return_all=True)
    assert beams.shape == (16, 3, 6) and (np.diff(beam_scores, axis=1) <= 1e-12).all()  # best first


class ScriptedModel:
    """A stand-in with the models' decoding interface whose step-t logits are `script[t]`, whatever came before."""

    def __init__(self, script):
        self.script = np.asarray(script, dtype=np.float32)

    def encode(self, points, lengths=None):
        return {}, [keras.ops.zeros((len(points), 1), dtype="int32")]

    def decode_step(self, memory, state, previous):
        step = int(np.asarray(state[0])[0, 0])
        logits = np.broadcast_to(self.script[step], (len(previous), self.script.shape[1]))
        return keras.ops.convert_to_tensor(logits), [state[0] + 1]


def test_eos_ends_a_sequence_and_triangles_come_in_triples():
    points = geometry.random_points(2, 4, seed=0)
    eos_at_step_2 = np.full((12, 5), 0.0)
    eos_at_step_2[:, 3] = 1.0  # "3, 3, 3, ..." unless something else wins
    eos_at_step_2[2, 4] = 5.0  # EOS after two outputs
    hull, scores = constraints.search(ScriptedModel(eos_at_step_2), points, constraints.TaskConstraint(4))
    np.testing.assert_array_equal(hull, [[3, 3, -1, -1]] * 2)
    unique, _ = constraints.search(ScriptedModel(eos_at_step_2), points,
                                   constraints.TaskConstraint(4, no_repeats=True))
    assert (unique[:, 0] == 3).all() and (unique[:, 1] != 3).all() and (unique[:, 2:] == -1).all()
    # Delaunay: EOS only after whole triangles, so the EOS at step 2 is refused and the one at 3 is taken
    eos_at_step_2[3, 4] = 5.0
    triangles, _ = constraints.search(ScriptedModel(eos_at_step_2), points, constraints.for_task("delaunay", 4))
    assert triangles.shape == (2, geometry.max_triangles(4), 3)
    np.testing.assert_array_equal(triangles[:, 0], [[3, 3, 3]] * 2)
    assert (triangles[:, 1:] == -1).all()
    # a tour never stops early, whatever EOS scores
    tours, _ = constraints.search(ScriptedModel(eos_at_step_2), points, tsp(4), 2)
    assert is_valid_tour(tours, 4).all()


SQUARE = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])  # its hull: 0, 1, 2, 3


def scripted(outputs, n_out, steps):
    """A script whose step t favours class outputs[t] (class n_out - 1 is EOS) and EOS after them."""
    script = np.zeros((steps, n_out))
    for step, chosen in enumerate(outputs):
        script[step, chosen] = 5.0
    script[len(outputs):, n_out - 1] = 5.0
    return ScriptedModel(script)


def test_unconstrained_search_repeats_a_vertex_and_runs_one_past_the_longest_valid_output():
    """The paper's protocol (Sec. 4.4): the hull search may repeat the first vertex (as the paper's closed targets
    do) and not stop; it ends after n + 1 outputs, a non-simple polygon. The constrained search hides both."""
    model = scripted([0, 1, 2, 3, 0, 1], 5, 8)  # the square's hull, then its first vertices again, no EOS
    free, kept = (constraints.for_task("convex_hull", 4, constrained=c) for c in (False, True))
    assert (free.max_length, kept.max_length) == (5, 4)
    target = geometry.convex_hull_targets(SQUARE[None])
    for width in (None, 2):
        hull, _ = constraints.search(model, SQUARE[None], free, width)
        np.testing.assert_array_equal(hull, [[0, 1, 2, 3, 0]])
        assert metrics.hull_area_coverage(SQUARE[None], hull).fail and metrics.polygon_accuracy(hull, target) == 0
        hull, _ = constraints.search(model, SQUARE[None], kept, width)
        np.testing.assert_array_equal(hull, target)


def test_unconstrained_triangles_have_no_cap_but_a_maximum_length_and_may_tear():
    """Delaunay without the whole-triangle EOS rule and the cap of 2n - 5 triangles: at most 3 (2n - 5) + 1
    outputs (not the hull's n), flat, so an output that never stops ends in a torn triangle."""
    n = 5
    free = constraints.for_task("delaunay", n, constrained=False)
    assert free.max_length == 3 * geometry.max_triangles(n) + 1 == 16
    assert constraints.for_task("delaunay", 10, constrained=False).max_length == 46
    assert constraints.for_task("tsp", 10, constrained=False).max_length == 10  # a tour is complete after n
    points = geometry.random_points(2, n, seed=3)
    true = geometry.delaunay_targets(points)
    never_stops = scripted([2] * 16, n + 1, 17)
    for width in (None, 3):
        outputs, _ = constraints.search(never_stops, points, free, width)
        assert outputs.shape == (2, 16) and (outputs == 2).all()
        assert metrics.triangles_of(outputs[0])[1] == 1  # torn
        assert metrics.triangle_precision(outputs, true) == metrics.triangle_coverage(outputs, true) == 0.0
    stops_torn = scripted([0, 1, 2, 3, 4], n + 1, 17)  # EOS after five outputs: a triangle and a torn one
    outputs, _ = constraints.search(stops_torn, points, free)
    np.testing.assert_array_equal(outputs[:, :6], [[0, 1, 2, 3, 4, -1]] * 2)
    triangles, _ = constraints.search(stops_torn, points, constraints.for_task("delaunay", n))
    assert triangles.shape == (2, geometry.max_triangles(n), 3)  # constrained: whole triangles only
    assert (triangles[:, 1] != -1).all()


def test_evaluate_reports_the_papers_protocol_and_the_constrained_searches():
    """Hull and Delaunay: unconstrained (the headline) and constrained searches, beam and greedy each; the FAIL rule
    is measured on the unconstrained outputs. TSP: its constrained searches and the unconstrained greedy share."""
    config = configs.get_config("smoke")
    config.task, config.n_min = "convex_hull", 4
    points = np.broadcast_to(SQUARE, (3, 4, 2)).astype(np.float32)
    rows = evaluate.evaluate(scripted([0, 1, 2, 3, 0], 5, 8), config, points, geometry.convex_hull_targets(points))
    values = {(r["metric"], r["decoding"], r["constrained"]): r["value"] for r in rows}
    assert len(rows) == len(values) == 12
    for search in ("beam", "greedy"):
        assert values["accuracy", search, "False"] == 0.0 and values["non_simple_share", search, "False"] == 1.0
        assert np.isnan(values["area_coverage", search, "False"])  # FAIL
        assert values["accuracy", search, "True"] == values["area_coverage", search, "True"] == 1.0
    config.task, config.n_min = "delaunay", 5
    points = geometry.random_points(4, 5, seed=4)
    rows = evaluate.evaluate(scripted([2] * 16, 6, 17), config, points, geometry.delaunay_targets(points))
    assert {(r["metric"], r["decoding"], r["constrained"]) for r in rows} == {
        (m, d, c) for m in ("accuracy", "triangle_coverage", "triangle_precision") for d in ("beam", "greedy")
        for c in ("True", "False")}
    config.task = "tsp"
    rows = evaluate.evaluate(scripted([0, 1, 1, 2, 3], 6, 6), config, points, None)
    assert [(r["metric"], r["decoding"], r["constrained"], r["value"]) for r in rows][2] == (
        "invalid_share", "greedy", "False", 1.0)  # a repeated city
    assert [r["metric"] for r in rows] == ["tour_length"] * 2 + ["invalid_share"]


def test_a_dictionary_wider_than_the_points_only_offers_real_points():
    """The baselines' n_max + 1 classes at n < n_max points: classes n .. n_max - 1 are never emitted."""
    script = np.zeros((6, 9))
    script[:, 5:8] = 3.0  # classes 5, 6, 7 (no point at n = 5) score highest, then EOS (8) from step 2
    script[2:, 8] = 2.0
    points = geometry.random_points(3, 5, seed=1)
    for width in (None, 3):
        outputs, _ = constraints.search(ScriptedModel(script), points, constraints.TaskConstraint(5), width)
        assert outputs.shape == (3, 5) and (outputs[:, :2] < 5).all() and (outputs[:, 2:] == -1).all()
