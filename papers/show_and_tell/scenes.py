"""The `cpu` captioning task: scenes of 2-4 Fashion-MNIST items on a 64 x 64 canvas, each with 5 reference captions
written from the scene by a grammar, and an exact semantic score (our offline stand-in for SPICE).

No captioned images exist offline, so the task is built on real images: the items are Fashion-MNIST pictures
(train scenes from the training images, test scenes from the test images: no picture is in two splits), placed in
distinct cells of a 2 x 2 grid with a few pixels of jitter, so that "left of", "right of", "above" and "below" are
defined by the cells. The references vary the way human ones do: synonyms (sneaker / trainer / running shoe),
counts, which relation is mentioned, the order of the mentions and the framing ("a picture of ...", "there are
..."), so they share some n-grams and not others (a leave-one-out reference scores well above zero BLEU-4, and below
a perfect one: tested), unlike toy grammars whose styles share no 4-gram (../shared/reference/next-papers.md).

Semantic tuples, as SPICE's scene graphs but exact: ("count", class, n) for every class in the scene, and
("relation", class_a, relation, class_b) for the relations that hold between single items of two classes. `parse`
reads them back from a caption of this grammar (tested on every reference) and `tuple_f1` scores a caption's tuples
against the union of its references' tuples, as SPICE scores against the references' graphs.
"""

import itertools
import re
from dataclasses import dataclass

import numpy as np

CANVAS, CELL, ITEM = 64, 32, 28  # a 2 x 2 grid of 32-pixel cells, 28-pixel items: up to 4 pixels of jitter
# Fashion-MNIST's classes (label order) and the nouns a caption may call them: (singular, plural) per synonym.
NOUNS = (
    (("t-shirt", "t-shirts"), ("top", "tops"), ("tee", "tees")),
    (("pair of trousers", "pairs of trousers"), ("pair of pants", "pairs of pants"),
     ("pair of jeans", "pairs of jeans")),
    (("pullover", "pullovers"), ("sweater", "sweaters"), ("jumper", "jumpers")),
    (("dress", "dresses"), ("frock", "frocks")),
    (("coat", "coats"), ("jacket", "jackets")),
    (("sandal", "sandals"), ("summer shoe", "summer shoes")),
    (("shirt", "shirts"), ("blouse", "blouses")),
    (("sneaker", "sneakers"), ("trainer", "trainers"), ("running shoe", "running shoes")),
    (("bag", "bags"), ("handbag", "handbags"), ("purse", "purses")),
    (("ankle boot", "ankle boots"), ("boot", "boots")),
)
NUMBERS = {1: ("a", "one"), 2: ("two",), 3: ("three",), 4: ("four",)}
# Canonical relation -> the phrases a caption may use for it; "next to" is either side in one row.
RELATIONS = {"left of": ("to the left of", "left of"), "right of": ("to the right of", "right of"),
             "above": ("above", "on top of", "over"), "below": ("below", "under", "beneath"),
             "next to": ("next to", "beside")}
FRAMES = ("{}", "a picture of {}", "an image of {}", "we can see {}", "a photo showing {}")


@dataclass(frozen=True)
class Scene:
    labels: tuple[int, ...]  # each item's class
    cells: tuple[int, ...]  # each item's cell: 0 top left, 1 top right, 2 bottom left, 3 bottom right
    images: tuple[int, ...]  # each item's index among its split's pictures
    offsets: tuple[tuple[int, int], ...]  # each item's jitter (row, column) in its cell


def make_scenes(labels: np.ndarray, count: int, seed: int) -> list[Scene]:
    """`count` scenes of 2-4 items drawn from the pictures with these labels; every picture used at most once while
    pictures last (a split's scenes reuse its pictures only when they need more than the split has)."""
    rng = np.random.default_rng(seed)
    order, used, scenes = rng.permutation(len(labels)), 0, []
    for _ in range(count):
        size = int(rng.integers(2, 5))
        if used + size > len(order):
            order, used = rng.permutation(len(labels)), 0
        picked = order[used : used + size]
        used += size
        cells = rng.choice(4, size=size, replace=False)
        offsets = rng.integers(0, CELL - ITEM + 1, size=(size, 2))
        scenes.append(Scene(tuple(int(labels[i]) for i in picked), tuple(int(c) for c in cells),
                            tuple(int(i) for i in picked), tuple((int(r), int(c)) for r, c in offsets)))
    return scenes


def render(scene: Scene, pictures: np.ndarray) -> np.ndarray:
    """The scene's canvas, uint8 (64, 64): every item's picture in its cell."""
    canvas = np.zeros((CANVAS, CANVAS), dtype=np.uint8)
    for cell, index, (dr, dc) in zip(scene.cells, scene.images, scene.offsets, strict=True):
        r, c = CELL * (cell // 2) + dr, CELL * (cell % 2) + dc
        canvas[r : r + ITEM, c : c + ITEM] = np.maximum(canvas[r : r + ITEM, c : c + ITEM], pictures[index])
    return canvas


def relation(cell_a: int, cell_b: int) -> str | None:
    """Where item a stands from item b: "left of", "right of", "above", "below", or None (diagonal)."""
    if cell_a // 2 == cell_b // 2:
        return "left of" if cell_a % 2 < cell_b % 2 else "right of"
    if cell_a % 2 == cell_b % 2:
        return "above" if cell_a // 2 < cell_b // 2 else "below"
    return None


def counts(scene: Scene) -> dict[int, int]:
    return {label: scene.labels.count(label) for label in sorted(set(scene.labels))}


def scene_tuples(scene: Scene) -> set[tuple]:
    """Every tuple true of the scene: counts, and the relations between items whose class is there once."""
    out = {("count", label, n) for label, n in counts(scene).items()}
    single = [i for i, label in enumerate(scene.labels) if scene.labels.count(label) == 1]
    for a, b in itertools.permutations(single, 2):
        rel = relation(scene.cells[a], scene.cells[b])
        if rel:
            out.add(("relation", scene.labels[a], rel, scene.labels[b]))
            if rel in ("left of", "right of"):
                out.add(("relation", scene.labels[a], "next to", scene.labels[b]))
    return out


def _mention(label: int, n: int, rng: np.random.Generator) -> str:
    singular, plural = NOUNS[label][rng.integers(len(NOUNS[label]))]
    number = NUMBERS[n][rng.integers(len(NUMBERS[n]))]
    if number == "a" and singular[0] in "aeiou":
        number = "an"
    return f"{number} {singular if n == 1 else plural}"


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def caption(scene: Scene, rng: np.random.Generator) -> str:
    """One reference: every class with its count, in a random order; where two single items stand in a relation,
    often one relation between them first ("a bag to the left of two coats" reads the relation of single items
    only), then the rest; in one of the frames."""
    groups = counts(scene)
    relations = sorted(t for t in scene_tuples(scene) if t[0] == "relation")  # a set's order varies by process
    order = [int(x) for x in rng.permutation(list(groups))]
    if relations and rng.random() < 0.7:
        _, a, rel, b = relations[rng.integers(len(relations))]
        phrase = RELATIONS[rel][rng.integers(len(RELATIONS[rel]))]
        head = f"{_mention(a, 1, rng)} {phrase} {_mention(b, 1, rng)}"
        rest = [_mention(label, groups[label], rng) for label in order if label not in (a, b)]
        text = head + (" and " + _join(rest) if rest else "")
    else:
        text = _join([_mention(label, groups[label], rng) for label in order])
    return FRAMES[rng.integers(len(FRAMES))].format(text)


def references(scene: Scene, seed: int, n: int = 5) -> list[str]:
    """n references of the scene, different from each other where the grammar allows (deterministic per seed)."""
    rng = np.random.default_rng(seed)
    found: list[str] = []
    for _ in range(20 * n):
        text = caption(scene, rng)
        if text not in found:
            found.append(text)
        if len(found) == n:
            break
    while len(found) < n:
        found.append(found[len(found) % len(found)])
    return found


_NOUN = {form: (label, plural) for label, synonyms in enumerate(NOUNS) for pair in synonyms
         for plural, form in enumerate(pair)}
_NUMBER = {word: n for n, words in NUMBERS.items() for word in words} | {"an": 1}
_RELATION = {phrase: rel for rel, phrases in RELATIONS.items() for phrase in phrases}
_MENTION = re.compile(r"\b(" + "|".join(sorted(_NUMBER, key=len, reverse=True)) + r")\s+("
                      + "|".join(re.escape(f) for f in sorted(_NOUN, key=len, reverse=True)) + r")\b")


def parse(text: str) -> set[tuple]:
    """The tuples a caption states: a count per mention (a class mentioned twice: the counts add up), and a relation
    where a relation phrase stands between two single mentions. Words outside the grammar are ignored."""
    text = " ".join(text.lower().split())
    mentions = list(_MENTION.finditer(text))
    totals: dict[int, int] = {}
    for m in mentions:
        label, _ = _NOUN[m.group(2)]
        totals[label] = totals.get(label, 0) + _NUMBER[m.group(1)]
    out = {("count", label, n) for label, n in totals.items()}
    for first, second in itertools.pairwise(mentions):
        between = text[first.end() : second.start()].strip()
        if between in _RELATION and _NUMBER[first.group(1)] == 1 and _NUMBER[second.group(1)] == 1:
            out.add(("relation", _NOUN[first.group(2)][0], _RELATION[between], _NOUN[second.group(2)][0]))
    return out


def tuple_f1(candidate: str, refs: list[str]) -> tuple[float, float, float]:
    """(precision, recall, F1) of the candidate's tuples against the union of the references' (SPICE's way)."""
    found, wanted = parse(candidate), set().union(*(parse(r) for r in refs))
    hits = len(found & wanted)
    precision = hits / len(found) if found else 0.0
    recall = hits / len(wanted) if wanted else 0.0
    return precision, recall, (2 * precision * recall / (precision + recall) if hits else 0.0)
