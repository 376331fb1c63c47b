"""Print text from a trained char-rnn checkpoint (char-rnn's sample.lua).

    python -m papers.char_rnn.sample --workdir=runs/char_rnn/cpu/lstm2x128/seed1 --temperature=0.8 --prime="And"

The prime text is fed through the network first; then each next character is drawn from
softmax(logits / temperature) and fed back. Lower temperatures give likelier, more repetitive text.
"""

import sys
from pathlib import Path

import numpy as np
import tensorflow as tf
from absl import app, flags

from common import checkpoints
from common.characters import Vocabulary
from papers.char_rnn.model import CharRNN

_WORKDIR = flags.DEFINE_string("workdir", "runs/char_rnn/cpu/lstm2x128/seed1", "Work directory of a trained run.")
_TEMPERATURE = flags.DEFINE_float("temperature", 0.8, "Softmax temperature (> 0).")
_PRIME = flags.DEFINE_string("prime", "\n", "Text to condition on before sampling.")
_LENGTH = flags.DEFINE_integer("length", 500, "Characters to sample.")
_SEED = flags.DEFINE_integer("seed", 0, "Sampling seed.")


def load_trained(workdir: str | Path) -> tuple[CharRNN, Vocabulary]:
    """The model with its validation-selected weights, and its vocabulary."""
    workdir = Path(workdir)
    model = checkpoints.load_selected(workdir, "make char_rnn, or python -m papers.char_rnn.train "
                                                "--config=papers/char_rnn/configs.py:cpu")
    return model, Vocabulary.load(workdir / "vocab.json")


def sample(model: CharRNN, vocab: Vocabulary, prime: str, length: int, temperature: float,
           seed: int = 0) -> str:
    """`prime` followed by `length` sampled characters."""
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if not prime:
        raise ValueError("the prime text must hold at least one character")
    rng = np.random.default_rng(seed)

    @tf.function(reduce_retracing=True)
    def step(ids, states):
        logits, states = model(ids, initial_states=states, return_states=True, training=False)
        return logits[:, -1] / temperature, states

    logits, states = step(vocab.encode(prime)[None, :], model.zero_states(1))
    out = []
    for _ in range(length):
        p = tf.nn.softmax(tf.cast(logits[0], tf.float64)).numpy()
        out.append(int(rng.choice(len(p), p=p / p.sum())))
        logits, states = step(np.array([[out[-1]]], dtype=np.int32), states)
    return prime + vocab.decode(out)


def main(argv):
    del argv
    try:
        model, vocab = load_trained(_WORKDIR.value)
        print(sample(model, vocab, _PRIME.value, _LENGTH.value, _TEMPERATURE.value, _SEED.value))
    except (checkpoints.RunStateError, FileNotFoundError, ValueError) as err:
        sys.exit(f"error: {err}")


if __name__ == "__main__":
    app.run(main)
