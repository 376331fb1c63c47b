"""Perplexity, searches and BLEU, measured as the paper measured (Sec. 3.2, 3.6).

* Perplexity: exp of the mean negative log-likelihood per target word, EOS included, padding not (teacher forcing).
* Translations: the paper's left-to-right beam search (common/beam_search.py, finished hypotheses leave the beam
  for a finished set; scores are summed log-probabilities); beam 1 is greedy. A length-normalised ranking of the
  finished set is an extra column, never the headline. A hypothesis stops at EOS or at 2 x its source length + 10.
* BLEU: sacrebleu on detokenised text with its 13a tokenisation (the headline; its signature goes with the row), and
  the paper's kind of score, BLEU of the tokenised, cased words (multi-bleu.perl's; `tokenized_bleu`): the two are
  different metrics and are never compared with each other.
"""

import weakref

import numpy as np
import sacrebleu
import tensorflow as tf

from common import beam_search
from papers.seq2seq import data, pipeline

IDS = tf.TensorSpec((None, None), tf.int32)  # a batch of word ids, any size: one trace per model


class _Compiled:
    """The model's scoring, encode and decode_step as graphs, made once per model (`compiled`)."""

    def __init__(self, model):
        self.score = tf.function(lambda inputs, target_out: self._score(model, inputs, target_out),
                                 input_signature=[{"source": IDS, "target_in": IDS}, IDS])
        self.encode = tf.function(model.encode, input_signature=[IDS])
        self.decode_step = tf.function(model.decode_step, reduce_retracing=True)

    @staticmethod
    def _score(model, inputs, target_out):
        logits = model(inputs, training=False)
        nll = tf.keras.losses.sparse_categorical_crossentropy(target_out, logits, from_logits=True)
        real = tf.cast(target_out != pipeline.PAD, nll.dtype)
        return tf.reduce_sum(nll * real, axis=-1), tf.reduce_sum(real, axis=-1)


_COMPILED: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def compiled(model) -> _Compiled:
    if model not in _COMPILED:
        _COMPILED[model] = _Compiled(model)
    return _COMPILED[model]


def sentence_nll(model, batches) -> tuple[np.ndarray, np.ndarray]:
    """(-log p(T | S), number of target words with EOS) of every pair, in the pairs' order."""
    total = sum(len(indices) for *_, indices in batches)
    nll, words = np.zeros(total), np.zeros(total)
    for inputs, target_out, indices in batches:
        batch_nll, batch_words = compiled(model).score(inputs, target_out)
        nll[indices], words[indices] = batch_nll.numpy(), batch_words.numpy()
    return nll, words


def perplexity(model, batches) -> float:
    nll, words = sentence_nll(model, batches)
    return float(np.exp(nll.sum() / words.sum()))


def translate(model, batches, beam_size: int, length_penalty: float = 0.0) -> list[np.ndarray]:
    """Every pair's translation (target word ids, EOS removed), in the pairs' order."""
    graphs = compiled(model)
    out = [None] * sum(len(indices) for *_, indices in batches)
    for inputs, _, indices in batches:
        source = inputs["source"]
        max_length = 2 * source.shape[1] + 10
        encoded = graphs.encode(source)
        sequences, _ = beam_search.beam_search(graphs, encoded, beam_size, max_length, eos=pipeline.EOS,
                                               finished="set", length_penalty=length_penalty)
        for row, index in enumerate(indices):
            out[index] = sequences[row][sequences[row] >= 0]
    return out


def detokenized(sentences, lang: str = "fr") -> list[str]:
    return [data.detokenize(tokens, lang) for tokens in sentences]


def bleu(hypotheses: list[list[str]], references: list[list[str]]) -> tuple[float, str]:
    """(sacrebleu corpus BLEU of the detokenised sentences, 13a tokenisation; its signature)."""
    metric = sacrebleu.metrics.BLEU(tokenize="13a")
    score = metric.corpus_score(detokenized(hypotheses), [detokenized(references)])
    return float(score.score), str(metric.get_signature())


def tokenized_bleu(hypotheses: list[list[str]], references: list[list[str]]) -> float:
    """BLEU of the tokenised, cased words as they are (multi-bleu.perl's kind of score, the paper's)."""
    metric = sacrebleu.metrics.BLEU(tokenize="none", force=True)
    return float(metric.corpus_score([" ".join(h) for h in hypotheses], [[" ".join(r) for r in references]]).score)
