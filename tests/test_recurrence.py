"""common/recurrence.py: the fast time loop gives keras.ops.scan's results and gradients, outputs apart from carry."""

import numpy as np
import tensorflow as tf
from keras import ops

from common import recurrence


def test_scan_equals_keras_scan_in_values_and_gradients():
    xs = tf.constant(np.random.default_rng(0).normal(size=(7, 3, 4)).astype("float32"))
    weights = tf.Variable(np.random.default_rng(1).normal(size=(4, 4)).astype("float32"))

    def step(carry, x_t):
        h, total = carry
        h = ops.tanh(ops.matmul(h, weights) + x_t)
        return (h, total + ops.sum(h)), h

    def keras_step(carry, x_t):  # keras.ops.scan on TensorFlow emits outputs of the carry's structure
        carry, _ = step(carry, x_t)
        return carry, carry

    init = (tf.zeros((3, 4)), tf.zeros(()))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(xs)
        (h, total), hs = recurrence.scan(step, init, xs)
        (expected_h, expected_total), (expected_hs, _) = ops.scan(keras_step, init, xs)
        ours, theirs = tf.reduce_sum(hs**2) + total, tf.reduce_sum(expected_hs**2) + expected_total
    np.testing.assert_allclose(hs, expected_hs, atol=1e-6)
    np.testing.assert_allclose(h, expected_h, atol=1e-6)
    np.testing.assert_allclose(total, expected_total, rtol=1e-6)
    np.testing.assert_allclose(tape.gradient(ours, weights), tape.gradient(theirs, weights), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(tape.gradient(ours, xs), tape.gradient(theirs, xs), rtol=1e-5, atol=1e-5)
