"""A character vocabulary, shared by the character-level papers (char-RNN, the BN-LSTM's character task)."""

import json
from pathlib import Path

import numpy as np


class Vocabulary:
    """The characters of a text, sorted, as char-rnn builds its vocabulary from the whole input file."""

    def __init__(self, chars: str):
        self.chars = "".join(sorted(set(chars)))
        self._index = {c: i for i, c in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        unknown = sorted(set(text) - set(self._index))
        if unknown:
            raise ValueError(f"characters {unknown!r} are not in the model's vocabulary {self.chars!r}")
        return np.array([self._index[c] for c in text], dtype=np.int32)

    def decode(self, ids) -> str:
        return "".join(self.chars[int(i)] for i in ids)

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps({"chars": self.chars}))

    @classmethod
    def load(cls, path: Path) -> "Vocabulary":
        return cls(json.loads(Path(path).read_text())["chars"])
