"""Classical compressors as baselines: bits per character of xz, bzip2 and gzip on the test text.

Each at its strongest setting, both alone and given the training text as context:
bits(compress(train + test)) - bits(compress(train)). The denominator is the number of characters of the
test text (the same one the LSTM's bits per character use); the compressors see its UTF-8 bytes.

    python -m papers.char_rnn.compressors --config=papers/char_rnn/configs.py:cpu
"""

import bz2
import gzip
import lzma
import time

from common import results
from common.cli import run_with_config
from papers.char_rnn import data

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


def run(config) -> None:
    """Measures every compressor on the config's test text and appends one row each."""
    corpus = data.load_corpus(config)
    started = time.time()
    measured = compressor_bpc(corpus.train, corpus.test)
    wall = time.time() - started  # all six measurements together
    rows = []
    for variant, bpc in measured.items():
        print(f"{variant:28s} {bpc:.3f} bits per character", flush=True)
        rows.append(dict(experiment=config.dataset, variant=variant, preset=config.preset, metric="test_bpc",
                         value=f"{bpc:.4f}", paper_value="", seed="", steps="", epochs="",
                         wall_seconds=f"{wall:.1f}"))
    path = results.append_rows("char_rnn", rows, config.results_dir or None)
    print(f"wrote {len(rows)} rows to {path}")


if __name__ == "__main__":
    run_with_config(run, "papers/char_rnn/configs.py:cpu")
