"""Word vocabularies and the input pipeline: source reversal (Sec. 3.3), teacher forcing with BOS/EOS, length buckets.

    source   the source word ids, reversed when `reverse` ("c b a" for "a b c"), then padded: the real tokens are
             reversed and the padding stays at the end, so the mask is the same as the forward order's
    target_in    BOS y_1 .. y_n      (the decoder's inputs)
    target_out   y_1 .. y_n EOS      (what it is trained to emit); padding (PAD = 0) adds nothing to the loss

Batches are bucketed by length as the paper did ("all sentences in a minibatch are roughly of the same length",
Sec. 3.4): each pass over the training pairs is shuffled, cut into chunks of `bucket_batches` batches, each chunk
sorted by length and cut into batches, and the batches of the pass shuffled again. Batch s is a pure function of
(seed, s), so a resumed run sees the batches an uninterrupted run would have seen.
"""

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from common.vocabulary import BOS, EOS, PAD, SPECIALS, UNK, Vocabulary  # noqa: F401  (the pipeline's names)


def source_ids(tokens, vocabulary: Vocabulary, reverse: bool) -> np.ndarray:
    ids = vocabulary.encode(tokens)
    return ids[::-1].copy() if reverse else ids


def encode_pairs(pairs, source_vocabulary: Vocabulary, target_vocabulary: Vocabulary,
                 reverse: bool) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(source ids, target ids) of every pair; the source reversed when `reverse`, neither with BOS/EOS yet."""
    return ([source_ids(p.source, source_vocabulary, reverse) for p in pairs],
            [target_vocabulary.encode(p.target) for p in pairs])


def pad(sequences: Sequence[np.ndarray], before: int | None = None, after: int | None = None) -> np.ndarray:
    """Sequences (with an optional id before and after each) padded with PAD at the end to the longest."""
    extra = (before is not None) + (after is not None)
    out = np.full((len(sequences), max(len(s) for s in sequences) + extra), PAD, dtype=np.int32)
    for row, s in enumerate(sequences):
        full = ([before] if before is not None else []) + list(s) + ([after] if after is not None else [])
        out[row, : len(full)] = full
    return out


def batch_arrays(sources, targets, indices) -> tuple[dict, np.ndarray]:
    """The model's inputs {"source", "target_in"} and its target_out for the pairs at `indices`."""
    picked_targets = [targets[i] for i in indices]
    return ({"source": pad([sources[i] for i in indices]), "target_in": pad(picked_targets, before=BOS)},
            pad(picked_targets, after=EOS))


def pass_batches(lengths: np.ndarray, batch_size: int, bucket_batches: int, seed: int, epoch: int) -> np.ndarray:
    """The batches of one pass (batches, batch_size) of pair indices, bucketed by length (module docstring); the
    last partial batch is dropped."""
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(len(lengths))
    chunk = batch_size * bucket_batches
    batches = []
    for start in range(0, len(order) - batch_size + 1, chunk):
        part = order[start : start + chunk]
        part = part[np.argsort(lengths[part], kind="stable")]
        batches += [part[i : i + batch_size] for i in range(0, len(part) - batch_size + 1, batch_size)]
    return np.stack(batches)[rng.permutation(len(batches))]


def steps_per_epoch(pairs: int, batch_size: int, bucket_batches: int) -> int:
    chunk = batch_size * bucket_batches
    full, rest = divmod(pairs, chunk)
    return full * bucket_batches + rest // batch_size


def training_batches(sources, targets, batch_size: int, bucket_batches: int, seed: int, start_step: int,
                     total_steps: int) -> tf.data.Dataset:
    """Training batches for global steps start_step .. total_steps - 1 (pass p = step // steps_per_epoch)."""
    lengths = np.array([len(s) + len(t) for s, t in zip(sources, targets, strict=True)])
    per_epoch = steps_per_epoch(len(lengths), batch_size, bucket_batches)
    if per_epoch < 1:
        raise ValueError(f"{len(lengths)} training pairs are fewer than one batch of {batch_size}")

    def generate():
        plans = {}
        for step in range(start_step, total_steps):
            epoch, index = divmod(step, per_epoch)
            if epoch not in plans:
                plans = {epoch: pass_batches(lengths, batch_size, bucket_batches, seed, epoch)}
            yield batch_arrays(sources, targets, plans[epoch][index])

    ids = tf.TensorSpec((None, None), tf.int32)
    return tf.data.Dataset.from_generator(
        generate, output_signature=({"source": ids, "target_in": ids}, ids)).prefetch(2)


def evaluation_batches(sources, targets, batch_size: int) -> list[tuple[dict, np.ndarray, np.ndarray]]:
    """(inputs, target_out, indices) in order of length, for scoring and searching; `indices` map back."""
    order = np.argsort([len(s) for s in sources], kind="stable")
    return [(*batch_arrays(sources, targets, order[i : i + batch_size]), order[i : i + batch_size])
            for i in range(0, len(order), batch_size)]
