"""Show and Tell's offline captioning task: scenes, their references and the semantic tuples (scenes.py)."""

import numpy as np
import pytest
import sacrebleu

from papers.show_and_tell import scenes


def some_scenes(count=300, seed=0):
    labels = np.random.default_rng(seed).integers(0, 10, size=2000)
    return scenes.make_scenes(labels, count, seed)


def test_scenes_hold_two_to_four_items_in_distinct_cells_and_render_them():
    pictures = np.random.default_rng(1).integers(1, 256, size=(2000, 28, 28), dtype=np.uint8)
    for scene in some_scenes(50):
        assert 2 <= len(scene.labels) <= 4 and len(set(scene.cells)) == len(scene.cells)
        canvas = scenes.render(scene, pictures)
        assert canvas.shape == (64, 64)
        for cell in range(4):  # a cell is painted exactly when an item stands in it
            block = canvas[32 * (cell // 2) : 32 * (cell // 2) + 32, 32 * (cell % 2) : 32 * (cell % 2) + 32]
            assert (block.max() > 0) == (cell in scene.cells)


def test_pictures_are_used_once_while_they_last():
    used = []
    for scene in scenes.make_scenes(np.zeros(100, dtype=int), 40, seed=3):
        if len(used) + len(scene.images) > 100:
            break
        used += scene.images
    assert len(used) >= 97 and len(set(used)) == len(used)  # then a new permutation starts


def test_every_reference_parses_back_to_true_tuples_and_states_every_count():
    for k, scene in enumerate(some_scenes()):
        truth = scenes.scene_tuples(scene)
        counts = {t for t in truth if t[0] == "count"}
        for text in scenes.references(scene, seed=k):
            parsed = scenes.parse(text)
            assert parsed <= truth, (text, parsed - truth)
            assert {t for t in parsed if t[0] == "count"} == counts, text


def test_relations_follow_the_cells():
    assert scenes.relation(0, 1) == "left of" and scenes.relation(1, 0) == "right of"
    assert scenes.relation(0, 2) == "above" and scenes.relation(3, 1) == "below"
    assert scenes.relation(0, 3) is None
    assert scenes.parse("a bag to the left of two coats") == {("count", 8, 1), ("count", 4, 2)}  # not single
    assert scenes.parse("A purse on top of a jacket") == {("count", 8, 1), ("count", 4, 1),
                                                         ("relation", 8, "above", 4)}


def test_tuple_f1_on_a_hand_made_case():
    refs = ["a bag to the left of a coat", "a handbag and a jacket"]
    assert scenes.tuple_f1("a purse left of a jacket", refs) == (1.0, 1.0, 1.0)
    precision, recall, f1 = scenes.tuple_f1("two bags", refs)  # one wrong count tuple, nothing right
    assert (precision, recall, f1) == (0.0, 0.0, 0.0)
    precision, recall, f1 = scenes.tuple_f1("a bag and two sneakers", refs)
    assert precision == pytest.approx(1 / 2) and recall == pytest.approx(1 / 3) and f1 == pytest.approx(0.4)


def test_references_overlap_like_human_ones():
    """Leave one reference out: scored against the other four it must be well above zero BLEU-4 (shared n-grams)
    and well below a copy (the references differ)."""
    hypotheses, held_in = [], [[] for _ in range(4)]
    for k, scene in enumerate(some_scenes(400)):
        refs = scenes.references(scene, seed=k)
        hypotheses.append(refs[0])
        for i in range(4):
            held_in[i].append(refs[1 + i])
    score = sacrebleu.corpus_bleu(hypotheses, held_in).score
    assert 15 < score < 80, score


def test_train_valid_and_test_scenes_share_no_picture(tmp_path):
    """Pictures marked by split (train 1, valid 2, test 3): each split's canvases hold only its own pictures."""
    from common import fashion_mnist
    from papers.show_and_tell import data
    from tests.idx_fixtures import write_idx

    marks = {"train": np.r_[np.full(110, 1), np.full(10, 2)], "test": np.full(40, 3)}  # the last 1/12 validates
    for split, mark in marks.items():
        images_file, labels_file = fashion_mnist.IDX_FILES[split]
        write_idx(tmp_path / images_file, np.broadcast_to(mark[:, None, None], (len(mark), 28, 28)),
                  fashion_mnist.IDX_IMAGES_MAGIC)
        write_idx(tmp_path / labels_file, np.arange(len(mark)) % 10, fashion_mnist.IDX_LABELS_MAGIC)
    captions = data.load_captions("scenes", (30, 4, 8), seed=0, data_dir=str(tmp_path))
    for split, mark in (("train", 1), ("valid", 2), ("test", 3)):
        part = getattr(captions, split)
        assert set(np.unique(part.images)) == {0, mark}
        assert all(len(refs) == 5 for refs in part.references)
    again = data.load_captions("scenes", (30, 4, 8), seed=0, data_dir=str(tmp_path))
    assert again.test.references == captions.test.references  # a function of (split, seed)


def test_caption_words_split_off_punctuation():
    from papers.show_and_tell import data

    assert data.words("We can see a T-shirt, two bags.") == ["we", "can", "see", "a", "t-shirt", ",", "two", "bags",
                                                              "."]


def test_references_are_the_same_in_every_process():
    """A scene's references depend on its seed only, not on Python's per-process string hashing (a set's order)."""
    import os
    import subprocess
    import sys

    code = ("from papers.show_and_tell import data; c = data.load_captions('generated', (30, 2, 2), 1); "
            "print(c.train.references)")
    outputs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": str(seed)}).stdout
               for seed in (1, 2, 3)}
    assert len(outputs) == 1
