"""The fields of a result row (results/show_and_tell.csv): what the paper's Table 1 and the claims group by.

    method       "nic" (a trained captioner), "blind" (no image), "random", "nearest_neighbour", "human" (Table 1's
                 baselines), or "item_classifier" (the cpu encoder's pre-training, pretrain.py)
    encoder      "pretrained" (frozen) or "none" (blind); "" for the baselines
    feed_image   "once" or "every_step"; "" where no image is fed
    units        the LSTM's size; "" for the baselines
    beam_size    the search's beam; "" where there is no search
"""

FIELDS = ("method", "encoder", "feed_image", "units", "beam_size")


def empty() -> dict[str, str]:
    return {field: "" for field in FIELDS}


def variant(fields: dict) -> str:
    """The label tables show: "NIC (pre-trained encoder, image once), beam 3", "Nearest neighbour"."""
    names = {"random": "Random caption", "nearest_neighbour": "Nearest neighbour", "human": "Human",
             "item_classifier": "Encoder pre-training (single items)", "blind": "Blind language model"}
    if fields["method"] in names:
        name = names[fields["method"]]
    else:
        name = f"NIC ({fields['encoder']} encoder, image {fields['feed_image'].replace('_', ' ')})"
    return name + (f", beam {fields['beam_size']}" if fields.get("beam_size") else "")
