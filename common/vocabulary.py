"""Word vocabularies of the sequence generators (seq2seq's source and target, Show and Tell's captions): four
special symbols first, then the training words by frequency; words outside it are UNK.

    PAD 0    padding, masked out of losses;  UNK 1  a word outside the vocabulary
    BOS 2    the decoder's first input;      EOS 3  the end of a sentence, predicted like a word
"""

import collections
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

SPECIALS = ("<pad>", "<unk>", "<s>", "</s>")
PAD, UNK, BOS, EOS = range(4)


class Vocabulary:
    """The specials, then training words by frequency (ties alphabetical); UNK for the rest."""

    def __init__(self, words: Sequence[str]):
        if tuple(words[: len(SPECIALS)]) != SPECIALS:
            raise ValueError(f"a vocabulary starts with {SPECIALS}")
        self.words = list(words)
        self._index = {w: i for i, w in enumerate(self.words)}

    @classmethod
    def from_sentences(cls, sentences, size: int | None = None, min_count: int = 1) -> "Vocabulary":
        """The words seen at least `min_count` times, most frequent first, at most `size` entries in all."""
        counts = collections.Counter(w for sentence in sentences for w in sentence)
        kept = sorted((w for w in counts if counts[w] >= min_count), key=lambda w: (-counts[w], w))
        return cls(list(SPECIALS) + kept[: None if size is None else size - len(SPECIALS)])

    def __len__(self) -> int:
        return len(self.words)

    def __eq__(self, other) -> bool:
        return isinstance(other, Vocabulary) and self.words == other.words

    def encode(self, tokens) -> np.ndarray:
        return np.array([self._index.get(w, UNK) for w in tokens], dtype=np.int32)

    def decode(self, ids) -> list[str]:
        """Word ids -> words, stopping at the first EOS or padding (a search's -1)."""
        words = []
        for i in ids:
            if i < 0 or i in (PAD, EOS):
                break
            words.append(self.words[i])
        return words

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps({"words": self.words}, ensure_ascii=False))

    @classmethod
    def load(cls, path: Path) -> "Vocabulary":
        return cls(json.loads(Path(path).read_text())["words"])
