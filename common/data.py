"""Data helpers that every paper shares: one error type for missing or corrupt data, and TFDS loading."""

import os


class DataError(RuntimeError):
    """Data that is missing or corrupt; the message says how to get it."""


def load_tfds(name: str, split: str, data_dir: str | os.PathLike | None = None, **kwargs):
    """`tfds.load(name, split=split)`, with one clear error when the data is not there and cannot be fetched.

    The `paper` presets keep the real TFDS path; without internet the first download fails, and the
    message says where the prepared data must be put instead.
    """
    import tensorflow_datasets as tfds

    try:
        return tfds.load(name, split=split, data_dir=data_dir, **kwargs)
    except Exception as err:  # TFDS raises many types for a failed download or a corrupt record
        where = data_dir or os.environ.get("TFDS_DATA_DIR", "~/tensorflow_datasets")
        raise DataError(
            f"TFDS dataset {name!r} (split {split!r}) could not be loaded from {where}: {err}\n"
            f"On a machine with internet run: python -c \"import tensorflow_datasets as tfds; "
            f"tfds.load('{name}')\" and copy ~/tensorflow_datasets/{name} to {where} (or pass "
            f"--config.data_dir=DIR, DIR the folder that holds {name}/); or use the "
            f"`cpu` preset, which needs no download."
        ) from err
