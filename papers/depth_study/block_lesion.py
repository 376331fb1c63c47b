"""Veit, Wilber & Belongie 2016's lesion (Sec. 4, "Lesion study"): residual blocks deleted at test time.

A deleted block y = ReLU(F(x) + s(x)) becomes y = s(x), "only the skip connection": F is dropped and, since x >= 0
(it is a ReLU output) and s only subsamples and pads with zeros, ReLU(s(x)) = s(x). Downsampling blocks can be
deleted too (s subsamples and pads; Veit et al. mark them). A deleted block of the plain network (the control,
Veit's VGG) outputs the same s(x): its two conv layers are gone and the input passes through, at a downsampling
block subsampled and zero-padded to the new shape; so the two nets are lesioned by the same function and differ
only in whether training used the shortcut path.

`lesion_logits(model, x, keep)` is that network: the trained model's own layers (nothing copied or changed), every
layer in inference mode, and the lesion set an input (`keep`, one bool per block) rather than Python structure, so
one trace serves every set; `LesionView` compiles it once through Keras' predict step, for lesion.py's hundreds of
sets.
"""

import keras
from keras import ops

from papers.depth_study.resnet import CifarResNet


def lesion_logits(model: CifarResNet, x, keep):
    """`model`'s logits with block i replaced by its shortcut s(x) where keep[i] is False (Veit et al. Sec. 4).

    Every block is computed and `where` selects, which equals a branch per block and traces without control flow.
    """
    keep = ops.convert_to_tensor(keep, dtype="bool")
    if tuple(keep.shape) != (len(model.blocks),):
        raise ValueError(f"keep has one entry per block of {model.name}: shape ({len(model.blocks)},), "
                         f"got {tuple(keep.shape)}")
    h = model.stem(x, training=False)
    for i, block in enumerate(model.blocks):
        h = ops.where(keep[i], block(h, training=False), block.shortcut(h))  # y = block(x), or y = s(x) if deleted
    return model.head(h)


class LesionView(keras.Model):
    """(x, keep) -> `lesion_logits(base, x, keep)`; `predict_on_batch((x, keep))` runs it compiled, one trace for
    every lesion set. An evaluation view around `base`'s layers (shared weights, none created): save `base`."""

    def __init__(self, base: CifarResNet, **kwargs):
        if not base.built:
            raise ValueError(f"build {base.name} (call it or load its weights) before lesioning it")
        kwargs.setdefault("name", f"{base.name}_lesion")
        super().__init__(**kwargs)
        self.base = base

    def call(self, inputs):
        x, keep = inputs
        return lesion_logits(self.base, x, keep)
