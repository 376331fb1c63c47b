"""The fields of a depth study result row: what its tables and figures group by (results/depth_study.csv).

A row's columns are common/results.py's `header(FIELDS)`: these between the common ones. Values are strings as in
the CSV; "" where a field does not apply. The `variant` column is only the label tables show (`variant` below writes
it as the papers name a net); nothing reads it back.

    net           "ResNet", "plain" (He et al. 2016's plain twin), "DenseNet", "DenseNet-BC" (Huang et al. 2017)
    depth         the layers with weights, "20", "56", "40", "100"
    width         a ResNet's or plain net's filters in the first stage, "8" (the paper's: 16); "" for DenseNets
    growth_rate   a DenseNet's growth rate k, "6" (the paper's: 12); "" for ResNets and plain nets
    augmentation  the training images' augmentation: "pad-4 crops + flips" (He et al.'s and Huang et al.'s: pad 4
                  pixels, random 32-pixel crop, random horizontal flip), "pad-2 crops + flips", "flips" (random
                  horizontal flips only; our cpu recipe), "none"
    dropout_rate  a DenseNet's dropout rate, "0", "0.2" (Huang et al.'s without augmentation); "" for the others
    lesion        Veit et al. 2016's lesion (lesion.py) of the net above: "intact", "one block" (one residual block
                  deleted), "random blocks" (k blocks deleted at random); "" for a training run's rows
    deleted       "one block": the deleted block's number, from 1; "random blocks": the number k; else ""
    downsampling  "one block": "True" when the deleted block downsamples, else "False"; else ""
A lesion row's steps, augmentation, width, ... are those of the trained net it deletes blocks from.
In papers/depth_study/paper_results.csv the same fields say what a published number or target is about; an empty
field there is one it does not fix, and matches any of ours.
"""

FIELDS = ("net", "depth", "width", "growth_rate", "augmentation", "dropout_rate", "lesion", "deleted",
          "downsampling")
NETS = ("ResNet", "plain", "DenseNet", "DenseNet-BC")  # the tables' order
AUGMENTATIONS = ("pad-4 crops + flips", "pad-2 crops + flips", "flips", "none")
PAPER_WIDTH, PAPER_GROWTH_RATE, PAPER_AUGMENTATION = "16", "12", "pad-4 crops + flips"  # as in configs.py
LESION_FIELDS = ("lesion", "deleted", "downsampling")


def augmentation(augment: bool, crop_padding: int) -> str:
    """The augmentation field of a config's augment and crop_padding (data.py)."""
    if not augment:
        return "none"
    return f"pad-{crop_padding} crops + flips" if crop_padding else "flips"


def net_fields(config) -> dict[str, str]:
    """The fields of the net that `config` trains (configs.py: arch, width, growth rate, augmentation, dropout)."""
    from papers.depth_study import configs  # imports the model; rows.py itself stays light for the report

    resnet = configs.family(config.arch) == "resnet"
    if resnet:
        net = "ResNet" if config.arch.startswith("resnet") else "plain"
    else:
        net = "DenseNet-BC" if config.arch.startswith("densenet_bc") else "DenseNet"
    return {"net": net, "depth": str(configs.depth(config.arch)), "width": str(config.width) if resnet else "",
            "growth_rate": "" if resnet else str(configs.growth_rate(config)),
            "augmentation": augmentation(config.augment, config.crop_padding),
            "dropout_rate": "" if resnet else f"{config.dropout_rate:g}",
            "lesion": "", "deleted": "", "downsampling": ""}


def lesion_fields(lesion: str, deleted: int | str = "", downsampling: bool | None = None) -> dict[str, str]:
    """The lesion fields of one lesion row: ("intact"), ("one block", 10, True), ("random blocks", 3)."""
    down = "" if downsampling is None else str(downsampling)
    return {"lesion": lesion, "deleted": str(deleted), "downsampling": down}


def net_name(fields: dict) -> str:
    """The net as the papers' tables name it, with a width or growth rate other than the paper's:
    "ResNet-20", "plain-56 (w=8)", "DenseNet-BC-100 (k=12)" (a DenseNet always names its k)."""
    name = f"{fields['net']}-{fields['depth']}"
    if fields["width"] and fields["width"] != PAPER_WIDTH:
        name += f" (w={fields['width']})"
    if fields["growth_rate"]:
        name += f" (k={fields['growth_rate']})"
    return name


def variant(fields: dict) -> str:
    """The label tables show: the net, with its augmentation when it is not the papers' pad-4 crops and flips:
    "ResNet-20 (w=8), flips only", "DenseNet-40 (k=12), no augmentation", "ResNet-20, pad-2 crops"."""
    suffix = {PAPER_AUGMENTATION: "", "none": ", no augmentation", "flips": ", flips only"}
    aug = fields["augmentation"]
    return net_name(fields) + suffix.get(aug, ", " + aug.removesuffix(" + flips"))
