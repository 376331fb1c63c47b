"""English→French parallel corpora for sequence to sequence learning (Sutskever et al. 2014, Sec. 3.1).

* `paper` ("wmt14"): TFDS `wmt14_translate/fr-en`: train, validation (newstest2013), test (newstest2014, the paper's
  ntst14). The paper's 12M-pair selection is not in TFDS: a sample of the train split of the same size stands in for
  it (`max_train_pairs`; a stable hash of the English side keeps each pair with probability 12M / 40.8M, so the
  sample spreads over all of WMT'14's corpora and streams without holding the 40.8M pairs).
* `cpu` ("libreoffice"): LibreOffice 7.4's own English→French translation, offline from three Debian packages that
  `make data/libreoffice` unpacks: the user-interface strings (`libreoffice-l10n-fr`, gettext .mo catalogues whose
  msgid is the English and msgstr the French) and the help pages (`libreoffice-help-en-us`, `-fr`: HTML whose
  `par_id…`/`hd_id…` elements carry the same id in both languages, so paragraphs align one to one by file and id).
* `smoke` ("generated"): a few hundred word-for-word 'translations' with one reordering rule (adjective after noun,
  as in French), made in memory from the seed, small enough for a model to learn in seconds.

Text is normalised (NFC; curly and French quotes to ASCII; no-break and narrow no-break spaces to spaces) and
Moses-tokenised with sacremoses (English source, French target, case kept, no escaping), the usual WMT'14
preprocessing; `detokenize` undoes it, so that BLEU is computed with sacrebleu on detokenised text.

The LibreOffice split is by origin, never by pair, because UI strings come in near-duplicate families ("Insert ~Row",
"Insert Row Above") that a random split would leak across splits. An origin is one help page, one .ui dialog of a
domain (`ui:sc/standardfilterdialog`), or the resource strings of one id (`ui:sc/SC_OPCODE_GAMMA`: a function's name,
description and arguments); a whole .mo domain is too coarse (sc alone holds 11% of the UI strings). A stable hash of
the origin puts about 90/5/5% of origins in train/valid/test. A pair whose source is in an earlier split is then
dropped (train first), and identical pairs are kept once within a split.
"""

import hashlib
import html.parser
import json
import multiprocessing
import re
import struct
import sys
import unicodedata
import zlib
from functools import cache
from pathlib import Path
from typing import NamedTuple

import numpy as np

from common.data import DataError, load_tfds
from common.files import atomic_write

SPLITS = ("train", "valid", "test")
PACKAGES = ("libreoffice-l10n-fr", "libreoffice-help-en-us", "libreoffice-help-fr")
MAKE = "run `make data/libreoffice` (it downloads about 6 MB of Debian packages and unpacks them without root)"
UI_DIR = "usr/lib/libreoffice/program/resource/fr/LC_MESSAGES"
HELP_DIR = "usr/share/libreoffice/help"


class Pair(NamedTuple):
    source: tuple[str, ...]  # English tokens
    target: tuple[str, ...]  # French tokens
    origin: str  # where it came from: "ui:sc/SC_OPCODE_GAMMA", "help:text/scalc/01/04060104.html", "wmt14:test"


class Corpus(NamedTuple):
    train: list[Pair]
    valid: list[Pair]
    test: list[Pair]
    description: str  # one line: source, package versions, sizes


# --- Text ---------------------------------------------------------------------------------------------------------
_CHARS = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201a": "'", "\u2032": "'", "\u201c": '"', "\u201d": '"',
                        "\u201e": '"', "\u2026": "...", "\u00a0": " ", "\u202f": " ", "\u2007": " ", "\u2009": " ",
                        "\u200b": None, "\u00ad": None, "\ufeff": None})
_PLACEHOLDER = re.compile(r"\$\(\w+\)|\$\w+\$|%\w+%|%\w+|\$\d+|\{\w*\}")


def normalise(text: str) -> str:
    """NFC, ASCII quotes and ellipsis (French « x » as "x", the English way), every space-like character a plain
    space, whitespace collapsed."""
    text = re.sub(r"\u00ab\s*", '"', re.sub(r"\s*\u00bb", '"', unicodedata.normalize("NFC", text)))
    return " ".join(text.translate(_CHARS).split())


@cache
def _moses(lang: str):
    import sacremoses

    return sacremoses.MosesTokenizer(lang=lang), sacremoses.MosesDetokenizer(lang=lang)


def tokenize(text: str, lang: str) -> tuple[str, ...]:
    """Moses tokens of the normalised text (`lang` "en" or "fr"), case kept, no XML escaping."""
    return tuple(_moses(lang)[0].tokenize(normalise(text), escape=False))


def detokenize(tokens, lang: str) -> str:
    """The sentence the Moses detokeniser makes of `tokens`: the text sacrebleu scores."""
    return _moses(lang)[1].detokenize(list(tokens), unescape=False)


def _worth_keeping(source: str, target: str) -> bool:
    """Both sides non-empty, the source has a letter besides its placeholders, and a pair whose sides are equal has
    at most 3 words (longer ones are untranslated text or code)."""
    if not source or not target or not re.search(r"[^\W\d_]", _PLACEHOLDER.sub("", source)):
        return False
    return source != target or len(source.split()) <= 3


# --- UI strings: gettext .mo catalogues ---------------------------------------------------------------------------
def read_mo(path: Path) -> list[tuple[str, str, str]]:
    """(context, msgid, msgstr) of every entry of a .mo file (GNU gettext's binary format); a plural entry gives its
    singular forms. The header entry (empty msgid) is left out."""
    data = Path(path).read_bytes()
    try:
        order = {0x950412DE: "<", 0xDE120495: ">"}.get(struct.unpack("<I", data[:4])[0])
        if order is None:
            raise ValueError("not a gettext .mo file")
        _, count, ids_at, strs_at = struct.unpack(order + "4I", data[4:20])
        entries = []
        for i in range(count):
            id_len, id_at = struct.unpack(order + "2I", data[ids_at + 8 * i: ids_at + 8 * i + 8])
            str_len, str_at = struct.unpack(order + "2I", data[strs_at + 8 * i: strs_at + 8 * i + 8])
            if max(id_at + id_len, str_at + str_len) > len(data):
                raise ValueError("a string lies past the end of the file")
            msgid = data[id_at: id_at + id_len].decode("utf-8").split("\0")[0]
            msgstr = data[str_at: str_at + str_len].decode("utf-8").split("\0")[0]
            context, _, msgid = msgid.rpartition("\x04")
            if msgid:
                entries.append((context, msgid, msgstr))
        return entries
    except (struct.error, ValueError) as err:  # UnicodeDecodeError is a ValueError
        raise DataError(f"{path} is corrupt ({err}): remove data/libreoffice and {MAKE}.") from err


def ui_text(context: str, text: str) -> str:
    """The displayed text of a UI string: `~` accelerators removed everywhere, and in .ui widget labels (context
    `dialog|widget`) and stock labels GTK's `_` mnemonics too (`__` is a literal `_`); tooltips and resource strings
    keep their underscores, which are part of names there (`%FILE_NAME`, `OPT_BARRIER`). %PRODUCTNAME is the
    product's name, as the help pages print it."""
    text = re.sub(r"~(?=\w)", "", text)
    if ("|" in context and "extended_tip" not in context and "tooltip" not in context) or context == "stock":
        text = re.sub(r"_(_|(?=\S))", lambda m: m.group(1), text)
    return normalise(text.replace("%PRODUCTNAME", "LibreOffice"))


def ui_pairs(root: Path) -> list[tuple[str, str, str]]:
    """(origin, English, French) of every translated UI string; origin `ui:<domain>/<dialog or resource id>`."""
    files = sorted((root / UI_DIR).glob("*.mo"))
    if not files:
        raise DataError(f"{root / UI_DIR} has no .mo files: remove {root} and {MAKE}.")
    pairs = []
    for path in files:
        for context, msgid, msgstr in read_mo(path):
            unit = context.split("|")[0] if "|" in context else context
            pairs.append((f"ui:{path.stem}/{unit}", ui_text(context, msgid), ui_text(context, msgstr)))
    return pairs


# --- Help pages: HTML paragraphs aligned by id --------------------------------------------------------------------
class _Paragraphs(html.parser.HTMLParser):
    """The text of every `par_id…`/`hd_id…` element (first occurrence of an id), inner tags stripped, `<br>` a space.
    Hidden variants are left out except the default one (`id="default…"`): the page's script shows one variant
    per system or module, and the default is what the other languages' pages show too. Code paragraphs are skipped:
    they are not translated."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "wbr"}
    CODE = {"code", "codeintable", "smathcode"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str | None, bool]] = []  # open elements: tag, paragraph id, hidden
        self.parts: dict[str, list[str]] = {}
        self.texts: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            if tag == "br":
                self.handle_data(" ")
            return
        attrs = dict(attrs)
        ident = attrs.get("id") or ""
        para = ident.startswith(("par_id", "hd_id")) and attrs.get("class") not in self.CODE and ident
        if para:
            self.parts.setdefault(para, [])
        self.stack.append((tag, para or None, "hidden" in attrs and not ident.startswith("default")))

    def handle_endtag(self, tag):
        if all(t != tag for t, _, _ in self.stack):
            return
        while self.stack:
            open_tag, para, _ = self.stack.pop()
            if para and para not in self.texts:
                self.texts[para] = " ".join("".join(self.parts[para]).split())
            if open_tag == tag:
                break

    def handle_data(self, data):
        if any(hidden for _, _, hidden in self.stack):
            return
        para = next((p for _, p, _ in reversed(self.stack) if p), None)
        if para and para not in self.texts:
            self.parts[para].append(data)


def help_paragraphs(path: Path) -> dict[str, str]:
    parser = _Paragraphs()
    try:
        parser.feed(path.read_text(encoding="utf-8"))
        parser.close()
    except UnicodeDecodeError as err:
        raise DataError(f"{path} is corrupt ({err}): remove data/libreoffice and {MAKE}.") from err
    return parser.texts


def help_pairs(root: Path) -> list[tuple[str, str, str]]:
    """(origin, English, French) of every paragraph id present in both languages' page; origin `help:<page>`."""
    en_dir, fr_dir = root / HELP_DIR / "en-US", root / HELP_DIR / "fr"
    pages = sorted(p.relative_to(en_dir) for p in (en_dir / "text").rglob("*.html"))
    if not pages or not (fr_dir / "text").is_dir():
        raise DataError(f"{root / HELP_DIR} lacks the en-US or fr help pages: remove {root} and {MAKE}.")
    pairs = []
    for page in pages:
        if not (fr_dir / page).is_file():
            continue
        english, french = help_paragraphs(en_dir / page), help_paragraphs(fr_dir / page)
        pairs += [(f"help:{page.as_posix()}", normalise(text), normalise(french[i]))
                  for i, text in english.items() if i in french]
    return pairs


# --- Splits -------------------------------------------------------------------------------------------------------
def split_of(origin: str) -> str:
    """train, valid or test for 90, 5 and 5 of every 100 hash buckets: a stable hash (not Python's salted one)."""
    bucket = int(hashlib.sha256(origin.encode()).hexdigest()[:8], 16) % 100
    return "train" if bucket < 90 else "valid" if bucket < 95 else "test"


def tokenised_splits(texts, assign=split_of) -> dict[str, list[Pair]]:
    """Tokenised pairs of (origin, English, French) texts, split by `assign(origin)`: pairs with an empty side are
    dropped, so is a pair whose source is in an earlier split, and identical pairs are kept once per split."""
    splits, tokens = {name: [] for name in SPLITS}, {}
    for origin, source, target in texts:
        if _worth_keeping(source, target):
            for text, lang in ((source, "en"), (target, "fr")):
                if (text, lang) not in tokens:  # UI labels repeat across dialogs: tokenise each text once
                    tokens[text, lang] = tokenize(text, lang)
            pair = Pair(tokens[source, "en"], tokens[target, "fr"], origin)
            if pair.source and pair.target:
                splits[assign(origin)].append(pair)
    earlier, out = set(), {}
    for name in SPLITS:
        seen, out[name] = set(), []
        for pair in splits[name]:
            if pair.source not in earlier and pair[:2] not in seen:
                seen.add(pair[:2])
                out[name].append(pair)
        earlier |= {pair.source for pair in out[name]}
    return out


def _filtered(splits: dict[str, list[Pair]], max_length: int, name: str, what_to_do: str) -> dict[str, list[Pair]]:
    kept = {s: [p for p in pairs if len(p.source) <= max_length and len(p.target) <= max_length]
            for s, pairs in splits.items()}
    empty = [s for s in SPLITS if not kept[s]]
    if empty:
        raise DataError(f"the {name} corpus has no {' or '.join(empty)} pairs of at most {max_length} tokens: "
                        f"{what_to_do}.")
    return kept


def summary(splits: dict[str, list[Pair]]) -> str:
    """Pairs and tokens per split, for the description."""
    return "; ".join(f"{s} {len(ps):,} pairs ({sum(len(p.source) for p in ps):,} en / "
                     f"{sum(len(p.target) for p in ps):,} fr tokens)" for s, ps in splits.items())


# --- The cache: tokenised splits, parsed once ---------------------------------------------------------------------
def _cache_key(*parts: str) -> str:
    """Everything the tokenised pairs depend on: the inputs, this file's code and the tokeniser's version."""
    import sacremoses

    digest = hashlib.sha256(Path(__file__).read_bytes())
    for part in (sacremoses.__version__, *parts):
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()[:16]


def _write_cache(path: Path, splits: dict[str, list[Pair]], about: str) -> None:
    def write(tmp: Path):
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(json.dumps({"about": about}) + "\n")
            for name, pairs in splits.items():
                f.writelines(f"{name}\t{p.origin}\t{' '.join(p.source)}\t{' '.join(p.target)}\n" for p in pairs)

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, write)


def _read_cache(path: Path) -> tuple[dict[str, list[Pair]], str]:
    splits = {name: [] for name in SPLITS}
    with open(path, encoding="utf-8") as f:
        about = json.loads(f.readline())["about"]
        for line in f:
            name, origin, source, target = line.rstrip("\n").split("\t")
            splits[name].append(Pair(tuple(map(sys.intern, source.split(" "))),  # one copy of each word: WMT's
                                     tuple(map(sys.intern, target.split(" "))), origin))  # 1G tokens fit in memory
    return splits, about


def _cached(path: Path, build) -> tuple[dict[str, list[Pair]], str]:
    """The cached splits, built and written first when the cache is missing or damaged; read back either way, so a
    first run sees what later runs see."""
    try:
        return _read_cache(path)
    except (ValueError, KeyError, OSError):
        _write_cache(path, *build())
        for stale in set(path.parent.glob(f"{path.name.rsplit('-', 1)[0]}-*.tsv")) - {path}:
            stale.unlink()  # made by other code or packages
    return _read_cache(path)


# --- The corpora --------------------------------------------------------------------------------------------------
def _manifest(root: Path) -> list[tuple[str, str, str]]:
    """(file, version, sha256) of each package; the make recipe writes the manifest, and `.done` after it."""
    if not (root / ".done").is_file() or not (root / "MANIFEST.tsv").is_file():
        raise DataError(f"{root} has no finished download of the LibreOffice packages: {MAKE}.")
    rows = [tuple(line.split("\t")) for line in (root / "MANIFEST.tsv").read_text().splitlines() if line]
    names = {row[0].split("_")[0] for row in rows if len(row) == 3}
    if len(rows) != len(PACKAGES) or names != set(PACKAGES):
        raise DataError(f"{root}/MANIFEST.tsv does not list {', '.join(PACKAGES)}: remove {root} and {MAKE}.")
    return rows


def libreoffice_corpus(data_dir: str, max_length: int) -> Corpus:
    root = Path(data_dir or "data/libreoffice")
    manifest = _manifest(root)
    versions = ", ".join(f"{name.split('_')[0]} {version}" for name, version, _ in manifest)

    def build():
        for name, _, sha256 in manifest:
            deb = root / "deb" / name
            if not deb.is_file() or hashlib.sha256(deb.read_bytes()).hexdigest() != sha256:
                raise DataError(f"{deb} is missing or not the package MANIFEST.tsv names (sha256): remove {root} "
                                f"and {MAKE}.")
        return tokenised_splits(ui_pairs(root) + help_pairs(root)), f"LibreOffice 7.4 UI strings and help ({versions})"

    key = _cache_key(*("\t".join(row) for row in manifest))
    splits, about = _cached(root / f"pairs-{key}.tsv", build)
    splits = _filtered(splits, max_length, "LibreOffice", f"raise max_length or remove {root} and {MAKE}")
    return Corpus(**splits, description=f"{about}, en→fr, at most {max_length} tokens: {summary(splits)}")


# A word-for-word 'French' for the smoke corpus; in French the adjective follows its noun.
NOUNS = {"cat": "chat", "dog": "chien", "house": "maison", "car": "voiture", "book": "livre", "tree": "arbre",
         "file": "fichier", "table": "tableau", "page": "page", "cell": "cellule"}
ADJECTIVES = {"red": "rouge", "big": "grand", "old": "vieux", "new": "nouveau", "small": "petit", "green": "vert"}
OTHERS = {"the": "le", "a": "un", "sees": "voit", "has": "a", "and": "et", "on": "sur", "with": "avec",
          "opens": "ouvre"}


def generated_corpus(seed: int = 0, max_length: int = 12, counts=(400, 50, 50)) -> Corpus:
    """Random sentences of 3-12 words; the translation maps each word and swaps every adjective-noun pair."""
    rng = np.random.default_rng(seed)
    words = sorted(NOUNS) + sorted(ADJECTIVES) + sorted(OTHERS)
    dictionary = {**NOUNS, **ADJECTIVES, **OTHERS}

    def pair(split: str) -> tuple[str, str, str]:
        english = [words[i] for i in rng.integers(len(words), size=rng.integers(3, 13))]
        french = [dictionary[w] for w in english]
        for i in range(len(english) - 1):
            if english[i] in ADJECTIVES and english[i + 1] in NOUNS:
                french[i], french[i + 1] = french[i + 1], french[i]
        return f"generated:{split}", " ".join(english), " ".join(french)

    texts = [pair(split) for split, n in zip(SPLITS, counts, strict=True) for _ in range(n)]
    splits = tokenised_splits(texts, assign=lambda origin: origin.split(":")[1])
    splits = _filtered(splits, max_length, "generated", "raise max_length")
    return Corpus(**splits, description=f"generated word-for-word pairs (seed {seed}): {summary(splits)}")


def _tokenized_pair(texts: tuple[str, str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return tokenize(texts[0], "en"), tokenize(texts[1], "fr")


def sampled(texts, share: float):
    """The (en, fr) pairs whose English side's stable hash (CRC-32) falls in the first `share` of its range."""
    bound = share * 2**32
    return (t for t in texts if zlib.crc32(t[0].encode("utf-8")) < bound)


def wmt14_corpus(data_dir: str, max_length: int, max_train_pairs: int = 0) -> Corpus:
    """TFDS wmt14_translate/fr-en, tokenised once (on every core) and cached beside the TFDS data (data/wmt14
    without a data_dir); about `max_train_pairs` training pairs sampled by `sampled` (0: all). Pairs with an empty
    side are dropped; otherwise every split keeps its pairs (no cross-split removal): newstest2013 and 2014 stay the
    published test sets."""
    name = "wmt14_translate/fr-en"

    def build():
        splits = {}
        for split, tfds_split in zip(SPLITS, ("train", "validation", "test"), strict=True):
            dataset = load_tfds(name, split=tfds_split, data_dir=data_dir or None)
            texts = ((ex["en"].decode("utf-8"), ex["fr"].decode("utf-8")) for ex in dataset.as_numpy_iterator())
            if split == "train" and max_train_pairs:
                texts = sampled(texts, min(1.0, max_train_pairs / int(dataset.cardinality())))
            if int(dataset.cardinality()) > 100_000:  # the 40.8M training pairs: hours on one core
                with multiprocessing.Pool() as pool:
                    tokens = list(pool.imap(_tokenized_pair, texts, chunksize=2_000))
            else:
                tokens = [_tokenized_pair(t) for t in texts]
            splits[split] = [Pair(s, t, f"wmt14:{split}") for s, t in tokens if s and t]
        sample = f"about {max_train_pairs:,} training pairs sampled, " if max_train_pairs else ""
        return splits, f"TFDS {name} ({sample}newstest2013 valid, newstest2014 test)"

    cache_dir = Path(data_dir or "data/wmt14")
    splits, about = _cached(cache_dir / f"wmt14-fr-en-{_cache_key(name, str(max_train_pairs))}.tsv", build)
    splits = _filtered(splits, max_length, "WMT'14", "raise max_length")
    return Corpus(**splits, description=f"{about}, en→fr, at most {max_length} tokens: {summary(splits)}")


def load_corpus(dataset: str, data_dir: str, max_length: int, seed: int = 0, max_train_pairs: int = 0) -> Corpus:
    """The corpus of a preset: "libreoffice" (cpu), "wmt14" (paper) or "generated" (smoke); `seed` only changes the
    generated one, the others' splits are fixed; `max_train_pairs` samples WMT'14's training pairs (0: all)."""
    if dataset == "libreoffice":
        return libreoffice_corpus(data_dir, max_length)
    if dataset == "wmt14":
        return wmt14_corpus(data_dir, max_length, max_train_pairs)
    if dataset == "generated":
        return generated_corpus(seed, max_length)
    raise DataError(f"unknown dataset {dataset!r}; choose 'libreoffice', 'wmt14' or 'generated'.")
