"""The depth study's networks by name, built, and their parameter count as the papers report it.

resnet.py holds He et al. 2016's CIFAR ResNets and plain nets, densenet.py Huang et al. 2017's DenseNets, and
block_lesion.py Veit et al. 2016's lesion of a trained ResNet.
"""

import re

import keras
import numpy as np

from papers.depth_study.densenet import densenet, densenet_bc
from papers.depth_study.resnet import plain, resnet

ARCHS = "resnet<6n+2>, plain<6n+2>, densenet<3m+4>[_k<k>], densenet_bc<6m+4>[_k<k>]"
_ARCH = re.compile(r"(?P<kind>resnet|plain|densenet_bc|densenet)(?P<depth>\d+)(?:_k(?P<k>\d+))?")
_FACTORIES = {"resnet": resnet, "plain": plain, "densenet": densenet, "densenet_bc": densenet_bc}


def build_model(arch: str, input_shape=(32, 32, 3), **kwargs) -> keras.Model:
    """A built model from its name: "resnet20" .. "resnet1202", "plain56", "densenet40", "densenet_bc100",
    "densenet100_k24"; kwargs go to the class (num_classes, width, weight_decay, dropout_rate, ...)."""
    match = _ARCH.fullmatch(arch)
    if match is None:
        raise ValueError(f"unknown architecture {arch!r}; names are {ARCHS}, e.g. resnet20, plain56, densenet40, "
                         f"densenet_bc100")
    kind, depth = match["kind"], int(match["depth"])
    if match["k"] is not None:
        if not kind.startswith("densenet"):
            raise ValueError(f"{arch!r}: only DenseNets have a growth rate _k<k>")
        kwargs["growth_rate"] = int(match["k"])
    model = _FACTORIES[kind](depth, **kwargs)
    model(keras.Input(input_shape))  # builds every layer by tracing `call` once, symbolically
    return model


def count_params(model: keras.Model, trainable_only: bool = True) -> int:
    """Parameters as the papers count them: the trainable weights (BN's gamma and beta, not its moving
    statistics). With trainable_only=False, every weight (Keras' `count_params`)."""
    weights = model.trainable_weights if trainable_only else model.weights
    return int(sum(np.prod(w.shape) for w in weights))
