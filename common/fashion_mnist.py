"""Fashion-MNIST offline: the idx files of the Debian package `dataset-fashion-mnist`, unpacked under the repository
by `make data/fashion_mnist` (no root, no download but the package). Read by the depth study and the recurrent batch
normalization paper."""

import gzip
import zlib
from pathlib import Path

import numpy as np

from common.data import DataError

ROOT = Path(__file__).resolve().parents[1]
IDX_DIR = Path("data/fashion_mnist/usr/share/datasets/fashion-mnist")  # relative to the repository root
IDX_FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
             "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}
IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC = 2051, 2049  # 0x00000803: uint8, 3 dims; 0x00000801: uint8, 1 dim
NUM_CLASSES = 10
HOW_TO_GET = "run `make data/fashion_mnist` (it unpacks the Debian package dataset-fashion-mnist there)"
# make skips data/fashion_mnist while its .done stamp exists, so a damaged file needs the folder removed first.
HOW_TO_REPLACE = "replace the files: `rm -r data/fashion_mnist && make data/fashion_mnist`"


def read_idx(path, magic: int) -> np.ndarray:
    """The uint8 array of one gzipped idx file (LeCun's MNIST format), checking its magic number and size.

    Header: big-endian int32 magic (0x0000 08 d: uint8 data, d dimensions), then d int32 sizes, then the data.
    """
    path = Path(path)
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError as err:
        raise DataError(f"{path} is missing; {HOW_TO_REPLACE}, or pass its directory as data_dir.") from err
    except (OSError, EOFError, zlib.error) as err:
        raise DataError(f"{path} is not a readable gzip file ({err}); {HOW_TO_REPLACE}.") from err
    ndim = magic & 0xFF
    header = 4 * (1 + ndim)
    found = int.from_bytes(raw[:4], "big") if len(raw) >= 4 else None
    if found != magic:
        raise DataError(f"{path} has magic number {found}, expected {magic} (an idx file of uint8 with {ndim} "
                        f"dimensions); the file is corrupt or not what its name says: {HOW_TO_REPLACE}.")
    shape = tuple(int(d) for d in np.frombuffer(raw[4:header], dtype=">i4")) if len(raw) >= header else None
    if shape is None or len(raw) - header != int(np.prod(shape)):
        raise DataError(f"{path} is truncated or too long: its header says shape {shape}, the data hold "
                        f"{len(raw) - header} bytes; {HOW_TO_REPLACE}.")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def load_arrays(directory=None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{"train": (images uint8 (N, 28, 28), labels int32 (N,)), "test": ...} from the idx.gz files in `directory`
    (default: `IDX_DIR` under the repository), checked to belong together."""
    directory = ROOT / IDX_DIR if directory is None else Path(directory)
    if not directory.is_dir():
        raise DataError(f"the Fashion-MNIST directory {directory} does not exist; {HOW_TO_GET}.")
    splits = {}
    for name, (images_file, labels_file) in IDX_FILES.items():
        images = read_idx(directory / images_file, IDX_IMAGES_MAGIC)
        labels = read_idx(directory / labels_file, IDX_LABELS_MAGIC)
        if len(images) != len(labels):
            raise DataError(f"{directory}: {len(images)} {name} images but {len(labels)} labels; the files do not "
                            f"belong together: {HOW_TO_REPLACE}.")
        if labels.size and labels.max() >= NUM_CLASSES:
            raise DataError(f"{directory / labels_file} holds label {labels.max()} (expected 0 .. 9); "
                            f"{HOW_TO_REPLACE}.")
        splits[name] = (images, labels.astype(np.int32))
    return splits
