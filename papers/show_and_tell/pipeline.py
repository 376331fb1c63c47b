"""Training examples of the captioner: every (image, reference) pair is one example, as im2txt trains (5 per image).

    features     the image's encoder features (encoder.py; cached once, the encoder frozen)
    caption_in   BOS w_1 .. w_n        the words the LSTM reads after the image
    caption_out  w_1 .. w_n EOS        what it is trained to predict (eq. 13); PAD = 0 adds nothing to the loss

Batch s is a pure function of (seed, s) (common/batches.py), so a resumed run sees the batches an uninterrupted run
would have seen.
"""

import numpy as np
import tensorflow as tf

from common import batches
from common.vocabulary import BOS, EOS, PAD, Vocabulary
from papers.show_and_tell.data import words


def caption_arrays(references: list[list[str]], vocabulary: Vocabulary) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(image index (E,), caption_in (E, L), caption_out (E, L)) of every reference of every image, padded to the
    longest caption."""
    encoded = [(image, vocabulary.encode(words(text))) for image, refs in enumerate(references) for text in refs]
    length = max(len(ids) for _, ids in encoded) + 1
    caption_in = np.full((len(encoded), length), PAD, dtype=np.int32)
    caption_out = np.full((len(encoded), length), PAD, dtype=np.int32)
    for row, (_, ids) in enumerate(encoded):
        caption_in[row, : len(ids) + 1] = [BOS, *ids]
        caption_out[row, : len(ids) + 1] = [*ids, EOS]
    return np.array([image for image, _ in encoded], dtype=np.int32), caption_in, caption_out


def training_batches(features: np.ndarray, references: list[list[str]], vocabulary: Vocabulary, batch_size: int,
                     seed: int, start_step: int, total_steps: int) -> tf.data.Dataset:
    images, caption_in, caption_out = caption_arrays(references, vocabulary)
    features, images = tf.constant(features), tf.constant(images)
    caption_in, caption_out = tf.constant(caption_in), tf.constant(caption_out)

    def make_batch(indices):
        return ({"features": tf.gather(features, tf.gather(images, indices)),
                 "caption_in": tf.gather(caption_in, indices)}, tf.gather(caption_out, indices))

    return batches.shuffled_batches(len(caption_in.numpy()), batch_size, seed, start_step, total_steps, make_batch)
