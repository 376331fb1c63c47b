"""The error the papers report: the percentage of test images whose top class is wrong (He et al. 2016, Table 6;
Huang et al. 2017, Table 2; Veit et al. 2016, Figs. 3 and 5), in inference mode on the original view of each image.

`error_rate` is the one loop over the test batches: train.py passes the trained net, lesion.py the same net with a
set of blocks deleted (block_lesion.py).
"""

from collections.abc import Callable, Iterable

import numpy as np
import tensorflow as tf

from papers.depth_study import data


def error_rate(logits: Callable, batches: Iterable) -> float:
    """Error in percent of `logits(images) -> (B, classes)` over (images, labels) batches."""
    wrong = total = 0
    for x, y in batches:
        labels = np.asarray(y)
        wrong += int(np.sum(np.argmax(np.asarray(logits(x)), axis=-1) != labels))
        total += len(labels)
    return 100.0 * wrong / total


def cached_test_batches(prepared: data.Prepared, batch_size: int) -> list[tuple[tf.Tensor, np.ndarray]]:
    """The standardised test set in memory, as (images, labels) batches: read once, evaluated many times."""
    return [(x, y.numpy()) for x, y in data.eval_dataset(prepared.test, batch_size, prepared.standardize)]
