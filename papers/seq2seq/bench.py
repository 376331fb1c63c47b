"""Training and search throughput of our encoder-decoders beside a plain Keras functional encoder-decoder.

    python -m papers.seq2seq.bench [--steps=10] [--rounds=3] [--out=CSV]

Training: target words per second at the `cpu` preset's shape (4 + 4 LSTM layers x 256, 8,000-word vocabularies,
batches of 128 pairs of 15 source and 15 target words), ours (the deep LSTM, the attention model) against what a
user would write with Keras' functional API (the same layers, Keras' mean cross-entropy), on the same batches in
the same process (common/bench.py). Search: sentences per second of the paper's beam search (common/beam_search.py)
at beams 1, 2 and 12 on 64 sentences of 15 words, each run to its longest output (2 x 15 + 10 words: the model is
untrained, so EOS is rare), the cost of the searches' Python loop included. Rows go to results/bench/seq2seq.csv.
"""

import time

import keras
import numpy as np
import tensorflow as tf
from absl import app, flags

from common import bench
from papers.seq2seq import configs, evaluate, pipeline
from papers.seq2seq.build import build_model
from papers.seq2seq.model import uniform

_FLAGS = bench.define_flags(steps=10, rounds=3)
flags.adopt_module_key_flags(bench)
LENGTH, SENTENCES = 15, 64


def keras_functional(config) -> keras.Model:
    """The same deep LSTM in Keras' functional API: encoder states handed to the decoder layer by layer."""
    init = uniform(config.init_scale)
    lstm = lambda: keras.layers.LSTM(config.units, return_sequences=True, return_state=True,  # noqa: E731
                                     kernel_initializer=init, recurrent_initializer=init, bias_initializer=init)
    source, target_in = keras.Input((None,), dtype="int32"), keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(config.source_vocab_size, config.embedding_dim, mask_zero=True)(source)
    states = []
    for _ in range(config.num_layers):
        x, h, c = lstm()(x)
        states.append([h, c])
    y = keras.layers.Embedding(config.target_vocab_size, config.embedding_dim)(target_in)
    for state in states:
        y, _, _ = lstm()(y, initial_state=state)
    model = keras.Model({"source": source, "target_in": target_in}, keras.layers.Dense(config.target_vocab_size)(y))
    optimizer = keras.optimizers.SGD if config.optimizer == "sgd" else keras.optimizers.Adam
    model.compile(optimizer(config.learning_rate, global_clipnorm=config.clip_norm),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def search_rate(model, batches, beam: int) -> float:
    start = time.perf_counter()
    evaluate.translate(model, batches, beam)
    return SENTENCES / (time.perf_counter() - start)


def main(argv):
    del argv
    config = configs.get_config("cpu")
    rng = np.random.default_rng(0)
    ids = lambda rows, vocab: rng.integers(4, vocab, size=(rows, LENGTH)).astype("int32")  # noqa: E731
    sources = ids(config.batch_size, config.source_vocab_size)
    targets = ids(config.batch_size, config.target_vocab_size)
    inputs, target_out = pipeline.batch_arrays(list(sources), list(targets), range(config.batch_size))
    dataset = tf.data.Dataset.from_tensors((inputs, target_out)).repeat()
    words = int((target_out != pipeline.PAD).sum())
    vocab = (config.source_vocab_size, config.target_vocab_size)
    baseline = "Keras functional encoder-decoder"
    models = {"ours, deep LSTM": build_model(config, *vocab, 1000),
              "ours, attention (Bahdanau)": build_model(configs.get_config("cpu,attention"), *vocab, 1000),
              baseline: keras_functional(config)}
    rates = bench.median_rates({name: bench.training_measure(model, dataset, words) for name, model in models.items()},
                               _FLAGS.steps.value, _FLAGS.rounds.value)
    ratios = bench.ratios(rates, baseline)
    rows = [{"subject": f"training: {name}", "rate": rate, "unit": "target words / s", "ratio": ratios[name]}
            for name, rate in rates.items()]
    batches = pipeline.evaluation_batches(list(ids(SENTENCES, config.source_vocab_size)),
                                          list(ids(SENTENCES, config.target_vocab_size)), config.eval_batch_size)
    for name in ("ours, deep LSTM", "ours, attention (Bahdanau)"):
        searches = {beam: lambda steps, model=models[name], beam=beam: search_rate(model, batches, beam)
                    for beam in (1, 2, 12)}
        search_rates = bench.median_rates(searches, 1, _FLAGS.rounds.value)
        rows += [{"subject": f"search: {name}, beam {beam}", "rate": rate, "unit": "sentences / s",
                  "ratio": rate / search_rates[1]} for beam, rate in search_rates.items()]
    bench.report(rows, "seq2seq", ["subject", "rate", "unit", "ratio"], _FLAGS.out.value, "{:.3f}")


if __name__ == "__main__":
    app.run(main)
