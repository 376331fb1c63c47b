"""The time loop of the suite's recurrent layers: `keras.ops.scan`'s contract, run on TensorFlow the way Keras' own
LSTM runs its loop.

On the TensorFlow backend (Keras 3.15) `keras.ops.scan` keeps the carry in TensorArrays written and read back at
every step and must emit outputs of the carry's structure; a 196-step LSTM ran 1.2-2x slower than Keras' `LSTM` on
CPU (papers/recurrent_batch_norm/NOTES.md). Here, on TensorFlow, the loop is a `tf.while_loop` with the carry as
loop variables and TensorArrays only for the inputs and outputs, as Keras' backend `rnn` does, and the outputs may
differ from the carry (step 0 runs before the loop, which fixes their structure); on other backends it is
`keras.ops.scan`, whose outputs there may differ from the carry too.
"""

import keras
from keras import ops


def scan(step, init, xs):
    """step(carry, x_t) -> (carry, y_t) over the leading (time) axis of xs; returns (last carry, stacked ys)."""
    if keras.backend.backend() != "tensorflow":
        return ops.scan(step, init, xs)
    import tensorflow as tf

    flat_xs = keras.tree.flatten(xs)
    length = tf.shape(flat_xs[0])[0]
    inputs = [tf.TensorArray(x.dtype, size=length, element_shape=x.shape[1:]).unstack(x) for x in flat_xs]
    read = lambda t: keras.tree.pack_sequence_as(xs, [array.read(t) for array in inputs])  # noqa: E731
    carry, first = step(init, read(0))
    outputs = [tf.TensorArray(y.dtype, size=length, element_shape=y.shape).write(0, y)
               for y in keras.tree.flatten(first)]

    def body(t, carry, outputs):
        carry, ys = step(keras.tree.pack_sequence_as(init, carry), read(t))
        return t + 1, keras.tree.flatten(carry), [o.write(t, y) for o, y in zip(outputs, keras.tree.flatten(ys),
                                                                                 strict=True)]

    _, carry, outputs = tf.while_loop(lambda t, *_: t < length, body, (1, keras.tree.flatten(carry), outputs),
                                      maximum_iterations=length - 1)
    return (keras.tree.pack_sequence_as(init, carry),
            keras.tree.pack_sequence_as(first, [array.stack() for array in outputs]))
