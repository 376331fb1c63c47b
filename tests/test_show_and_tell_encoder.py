"""Show and Tell's cpu encoder: the trunk applies to items and scenes alike, and scene features keep the layout."""

import numpy as np

from papers.show_and_tell import encoder, scenes


def test_quadrant_features_keep_where_an_item_stands():
    """The same item in another cell moves its features to that cell's block: the layout "left of" needs."""
    trunk = encoder.trunk()
    item = np.zeros((1, 28, 28), dtype=np.uint8)
    item[0, 6:22, 6:22] = 255
    features = []
    for cell in range(4):
        scene = scenes.Scene(labels=(0,), cells=(cell,), images=(0,), offsets=((2, 2),))
        features.append(encoder.scene_features(trunk, scenes.render(scene, item)[None]))
    features = np.concatenate(features).reshape(4, 4, -1)  # (scene, cell block, channels)
    for cell in range(4):
        busiest = np.abs(features[cell]).sum(axis=1).argmax()
        assert busiest == cell


def test_the_pretrained_trunk_is_what_encodes_the_scenes():
    """The classifier's trunk (trained on 28 x 28 items) applies to 64 x 64 canvases: 4 cells x 64 channels."""
    classifier = encoder.item_classifier()
    assert classifier(np.zeros((2, 28, 28, 1), "float32")).shape == (2, 10)
    features = encoder.scene_features(classifier.get_layer("trunk"), np.zeros((3, 64, 64), np.uint8))
    assert features.shape == (3, 4 * 64) and features.dtype == np.float32
