"""Classical compressors as baselines: bits per character of xz, bzip2 and gzip on the test text.

Each at its strongest setting, both alone and given the training text as context:
bits(compress(train + test)) - bits(compress(train)). The denominator is the number of characters of the
test text (the same one the LSTM's bits per character use); the compressors see its UTF-8 bytes.

    python -m papers.char_rnn.compressors --config=papers/char_rnn/configs.py:cpu
"""

import bz2
import gzip
import lzma
from pathlib import Path

from common import lifecycle
from papers.char_rnn import configs, data, rows

COMPRESSORS = {
    "xz -9e": lambda b: lzma.compress(b, format=lzma.FORMAT_XZ, preset=9 | lzma.PRESET_EXTREME),
    "bzip2 -9": lambda b: bz2.compress(b, compresslevel=9),
    "gzip -9": lambda b: gzip.compress(b, compresslevel=9, mtime=0),
}


def compressed_bits(name: str, text: str) -> int:
    return 8 * len(COMPRESSORS[name](text.encode("utf-8")))


def compressor_bpc(train: str, test: str) -> dict[str, float]:
    """{variant: bits per test character} for every compressor, alone and with the training context."""
    out = {}
    for name in COMPRESSORS:
        out[name] = compressed_bits(name, test) / len(test)
        context = compressed_bits(name, train + test) - compressed_bits(name, train)
        out[f"{name} + train context"] = context / len(test)
    return out


def measure(config, run: lifecycle.Run) -> lifecycle.Outcome:
    """Every compressor on the config's test text: one row each."""
    corpus = data.load_corpus(config)
    measured = compressor_bpc(corpus.train, corpus.test)
    out = []
    for name in COMPRESSORS:
        for context in (False, True):
            fields = rows.compressor_fields(name, context)
            variant = rows.variant(fields)
            out.append(dict(experiment=config.dataset, variant=variant, **fields, metric="test_bpc",
                            value=f"{measured[variant]:.4f}", seed=""))
    return lifecycle.Outcome(rows=out, summary=", ".join(f"{k} {v:.3f}" for k, v in measured.items())
                             + " bits per character")


EXPERIMENT = lifecycle.Experiment(
    paper="char_rnn", fields=rows.FIELDS, work=measure, validate=configs.validate,
    workdir=lambda c: Path(c.workdir or f"runs/char_rnn/{c.preset}/compressors"),
    # Only the data decides the compressors' bits: the model's and training's keys may change.
    ignored_keys=tuple(k for k in configs.paper() if k not in ("dataset", "data_dir", "max_chars", "preset")))

if __name__ == "__main__":
    lifecycle.main(EXPERIMENT, "papers/char_rnn/configs.py:cpu")
