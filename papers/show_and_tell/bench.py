"""Training and search throughput of our caption generator (NIC) beside a plain Keras functional decoder.

    python -m papers.show_and_tell.bench [--steps=10] [--rounds=3] [--out=CSV]

Training: captions per second at the `cpu` preset's shape (LSTM 256, embeddings 256, dropout 0.3, init +-0.08, SGD
lr 2.0 clipped at 5; image features of 256 = 4 quadrants x 64 channels, as encoder.quadrant_features gives; a
vocabulary of 60 words, about the cpu scenes'; batches of 32 captions of 12 words in and 12 out), ours (train.py's
model: ShowAndTell, eq. 13's summed loss) against what a user would write with Keras' functional API (the image
embedded and fed once as the first step, one LSTM layer, its first output dropped; the same initialisers, dropout
and optimiser, Keras' mean cross-entropy), on the same random batches in the same process (common/bench.py).
Search: captions per second of the paper's beam search (common/beam_search.py, finished="set", as train.py calls
it) at beams 1, 3 and 20 on 64 images, the cost of the search's Python loop and of the words' decoding included.
The search model is untrained, EOS's logit bias set to -1e4 so that whatever the (unseeded) initialisation no
hypothesis ends: every search runs to its longest output (max_caption_length, 20 words).
Rows go to results/bench/show_and_tell.csv.
"""

import time
from types import SimpleNamespace

import keras
import numpy as np
import tensorflow as tf
from absl import app, flags

from common import bench
from common.vocabulary import BOS, EOS, SPECIALS, Vocabulary
from papers.show_and_tell import configs
from papers.show_and_tell.model import uniform
from papers.show_and_tell.train import build_model, captions_of

_FLAGS = bench.define_flags(steps=10, rounds=3)
flags.adopt_module_key_flags(bench)
FEATURES, VOCAB, LENGTH, IMAGES = 4 * 64, 60, 12, 64


def keras_functional(config) -> keras.Model:
    """The same decoder in Keras' functional API: [W_I image ; W_e words] through one LSTM, the image's output cut."""
    init = uniform(config.init_scale)
    features = keras.Input((FEATURES,), name="features")
    caption_in = keras.Input((None,), dtype="int32", name="caption_in")
    image = keras.layers.Dense(config.embedding_dim, kernel_initializer=init, bias_initializer=init)(features)
    words = keras.layers.Embedding(VOCAB, config.embedding_dim, embeddings_initializer=init)(caption_in)
    x = keras.layers.Concatenate(axis=1)([keras.layers.Reshape((1, config.embedding_dim))(image), words])
    y = keras.layers.LSTM(config.units, return_sequences=True, kernel_initializer=init, recurrent_initializer=init,
                          bias_initializer=init, unit_forget_bias=False)(keras.layers.Dropout(config.dropout)(x))
    y = keras.layers.Dropout(config.dropout)(keras.layers.Cropping1D((1, 0))(y))
    logits = keras.layers.Dense(VOCAB, kernel_initializer=init, bias_initializer=init)(y)
    model = keras.Model({"features": features, "caption_in": caption_in}, logits)
    model.compile(keras.optimizers.SGD(config.learning_rate, global_clipnorm=config.clip_norm),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def search_rate(searcher, model, features, vocabulary, beam: int, config) -> float:
    start = time.perf_counter()
    captions_of(searcher, model, features, vocabulary, beam, config)
    return len(features) / (time.perf_counter() - start)


def main(argv):
    del argv
    config = configs.get_config("cpu")
    rng = np.random.default_rng(0)
    words = rng.integers(len(SPECIALS), VOCAB, size=(config.batch_size, LENGTH - 1)).astype("int32")
    inputs = {"features": rng.random((config.batch_size, FEATURES), dtype=np.float32),
              "caption_in": np.concatenate([np.full((config.batch_size, 1), BOS, "int32"), words], axis=1)}
    caption_out = np.concatenate([words, np.full((config.batch_size, 1), EOS, "int32")], axis=1)
    dataset = tf.data.Dataset.from_tensors((inputs, caption_out)).repeat()
    per_epoch = 5 * config.sizes[0] // config.batch_size  # train.py's: five captions per training scene
    baseline = "Keras functional decoder"
    models = {"ours, NIC": build_model(config, VOCAB, per_epoch), baseline: keras_functional(config)}
    rates = bench.median_rates({name: bench.training_measure(model, dataset, config.batch_size)
                                for name, model in models.items()}, _FLAGS.steps.value, _FLAGS.rounds.value)
    ratios = bench.ratios(rates, baseline)
    rows = [{"subject": f"training: {name}", "rate": rate, "unit": "captions / s", "ratio": ratios[name]}
            for name, rate in rates.items()]
    model = build_model(config, VOCAB, per_epoch)
    model(inputs)  # builds it, untrained
    bias = model.softmax.bias.numpy()
    bias[EOS] = -1e4  # no hypothesis ends: every search runs max_caption_length steps
    model.softmax.bias.assign(bias)
    searcher = SimpleNamespace(decode_step=tf.function(model.decode_step, reduce_retracing=True))
    vocabulary = Vocabulary(list(SPECIALS) + [f"w{i}" for i in range(VOCAB - len(SPECIALS))])
    features = rng.random((IMAGES, FEATURES), dtype=np.float32)
    searches = {beam: lambda steps, beam=beam: search_rate(searcher, model, features, vocabulary, beam, config)
                for beam in (1, 3, 20)}
    search_rates = bench.median_rates(searches, 1, _FLAGS.rounds.value)
    rows += [{"subject": f"search: ours, NIC, beam {beam}", "rate": rate, "unit": "captions / s",
              "ratio": rate / search_rates[1]} for beam, rate in search_rates.items()]
    bench.report(rows, "show_and_tell", ["subject", "rate", "unit", "ratio"], _FLAGS.out.value, "{:.3f}")


if __name__ == "__main__":
    app.run(main)
