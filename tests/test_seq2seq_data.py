"""The English→French corpora of papers/seq2seq/data.py on tiny fixtures: a .mo catalogue written here, en-US and fr
help pages, fake packages with their manifest; the TFDS path on `tfds.testing.mock_data`. No network, no packages."""

import hashlib
import itertools
import struct
from pathlib import Path

import pytest
import tensorflow_datasets as tfds

from common.data import DataError
from papers.seq2seq import data


def write_mo(path: Path, entries: dict[str, str]) -> None:
    """A little-endian GNU .mo file (msgfmt's layout: header, two index tables, then the strings, ids sorted)."""
    keys = sorted(entries)
    ids, strs = [k.encode() for k in keys], [entries[k].encode() for k in keys]
    table_at = 28
    blob_at = table_at + 16 * len(keys)
    blob, id_index, str_index = b"", [], []
    for strings, index in ((ids, id_index), (strs, str_index)):
        for s in strings:
            index.append((len(s), blob_at + len(blob)))
            blob += s + b"\0"
    header = struct.pack("<7I", 0x950412DE, 0, len(keys), table_at, table_at + 8 * len(keys), 0, 0)
    tables = b"".join(struct.pack("<2I", *e) for e in id_index + str_index)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header + tables + blob)


def page(paragraphs: str) -> str:
    head = '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>t</title></head>'
    return f"{head}<body>\n{paragraphs}\n</body></html>"


def page_named(split: str) -> str:
    """The first fixture page name that the corpus's stable hash puts in `split`."""
    names = (f"text/shared/page{i}.html" for i in itertools.count())
    return next(name for name in names if data.split_of(f"help:{name}") == split)


def write_help(root: Path, name: str, english: list[tuple[str, str]], french: list[tuple[str, str]]) -> None:
    for lang, paragraphs in (("en-US", english), ("fr", french)):
        path = root / data.HELP_DIR / lang / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page("\n".join(f'<p id="{i}" class="paragraph">{text}</p>' for i, text in paragraphs)))


def make_root(tmp_path: Path) -> Path:
    """A data/libreoffice as `make data/libreoffice` leaves it: unpacked files, packages, MANIFEST.tsv, .done."""
    root = tmp_path / "libreoffice"
    write_mo(root / data.UI_DIR / "sc.mo", {
        "": "Content-Type: text/plain; charset=UTF-8\n",
        "STR_INSERT_ROW\x04Insert ~Rows": "Insérer des ~lignes",
        "insertdialog|label1\x04Offs_et in minutes": "Décalage en _minutes",
        "STR_SELCOUNT\x04$1 row\0$1 rows": "$1 ligne\0$1 lignes",
        "STR_UNTRANSLATED\x04Untranslated string": "",
        "STR_PLACEHOLDER\x04$(ARG1): %1": "$(ARG1) : %1",
    })
    for split in data.SPLITS:  # one page per split, and a paragraph the train page also has
        write_help(root, page_named(split), [("hd_id1", f"Heading of {split}"), ("par_id2", "Click <b>OK</b>.")],
                   [("hd_id1", f"Titre de {split}"), ("par_id2", "Cliquez sur <b>OK</b>.")])
    (root / "deb").mkdir()
    rows = []
    for name in data.PACKAGES:
        deb = root / "deb" / f"{name}_4%3a7.4.7-1_all.deb"
        deb.write_bytes(name.encode())
        rows.append(f"{deb.name}\t4:7.4.7-1\t{hashlib.sha256(name.encode()).hexdigest()}\n")
    (root / "MANIFEST.tsv").write_text("".join(rows))
    (root / ".done").touch()
    return root


def test_ui_strings_lose_context_accelerators_and_mnemonics(tmp_path):
    root = make_root(tmp_path)
    entries = data.read_mo(root / data.UI_DIR / "sc.mo")
    assert ("STR_SELCOUNT", "$1 row", "$1 ligne") in entries  # a plural entry gives its singular forms
    pairs = {en: (origin, fr) for origin, en, fr in data.ui_pairs(root)}
    assert pairs["Insert Rows"] == ("ui:sc/STR_INSERT_ROW", "Insérer des lignes")
    assert pairs["Offset in minutes"] == ("ui:sc/insertdialog", "Décalage en minutes")
    assert not data._worth_keeping("Untranslated string", "")  # empty msgstr
    assert not data._worth_keeping("$(ARG1): %1", "$(ARG1) : %1")  # only placeholders and punctuation
    assert data.ui_text("dlg|w", "A__B _Name") == "A_B Name"  # `__` is a literal underscore
    assert data.ui_text("STR_X", "%FILE_NAME in ~Folder") == "%FILE_NAME in Folder"  # resource strings keep `_`
    assert data.ui_text("dlg|extended_tip|w", "an underscore (_) or a tilde (~)") == "an underscore (_) or a tilde (~)"


def test_corrupt_mo_file_is_a_data_error(tmp_path):
    bad = tmp_path / "sc.mo"
    bad.write_bytes(b"\xde\x12\x04\x95" + b"\xff" * 10)
    with pytest.raises(DataError, match="make data/libreoffice"):
        data.read_mo(bad)


def test_help_paragraphs_align_by_id(tmp_path):
    english = [("hd_id1", "Load/Save   options"), ("par_id2", "Choose <span hidden=\"true\" id=\"MACx\">Preferences"
               "</span><span hidden=\"true\" id=\"defaultx\">Tools - Options</span>.<br>Then OK."),
               ("par_id3", "Only in English."), ("par_id4", "Nested <a href='x'><em>link</em></a> text")]
    french = [("hd_id1", "Options Chargement/enregistrement"), ("par_id2", "Choisissez <span hidden=\"true\" "
              "id=\"MACx\">Préférences</span><span hidden=\"true\" id=\"defaultx\">Outils - Options</span>."
              "<br>Puis OK."),
              ("par_id4", "Texte avec <a href='x'>lien</a> imbriqué"), ("par_id5", "Seulement en français.")]
    write_help(tmp_path, "text/shared/a.html", english, french)
    write_help(tmp_path, "text/shared/b.html", [("par_id9", "No French page")], [])
    (tmp_path / data.HELP_DIR / "fr/text/shared/b.html").unlink()
    pairs = data.help_pairs(tmp_path)
    assert [pair[1:] for pair in pairs] == [
        ("Load/Save options", "Options Chargement/enregistrement"),
        ("Choose Tools - Options. Then OK.", "Choisissez Outils - Options. Puis OK."),  # the default variant
        ("Nested link text", "Texte avec lien imbriqué")]
    assert {pair[0] for pair in pairs} == {"help:text/shared/a.html"}


def test_libreoffice_corpus_splits_by_origin_without_shared_sources(tmp_path):
    root = make_root(tmp_path)
    corpus = data.load_corpus("libreoffice", str(root), max_length=50)
    splits = {name: getattr(corpus, name) for name in data.SPLITS}
    assert all(splits.values())
    for name, pairs in splits.items():  # every pair in the split its origin hashes to: all of a file in one split
        assert {data.split_of(p.origin) for p in pairs} == {name}
        assert len(set(pairs)) == len(pairs)
    sources = [{p.source for p in pairs} for pairs in splits.values()]
    assert not any(a & b for a, b in itertools.combinations(sources, 2))
    click = ("Click", "OK", ".")  # on all three pages; kept only in train
    assert [name for name, pairs in splits.items() if any(p.source == click for p in pairs)] == ["train"]
    assert ("Heading", "of", "test") in sources[2] and "4:7.4.7-1" in corpus.description
    # The second load reads the cache and gives the same corpus without parsing.
    assert len(list(root.glob("pairs-*.tsv"))) == 1
    again = data.load_corpus("libreoffice", str(root), max_length=50)
    assert again == corpus
    next(root.glob("pairs-*.tsv")).write_text("damaged")  # is rebuilt
    assert data.load_corpus("libreoffice", str(root), max_length=50) == corpus
    with pytest.raises(DataError, match="raise max_length"):
        data.load_corpus("libreoffice", str(root), max_length=1)


def test_missing_or_corrupt_packages_say_what_to_do(tmp_path):
    with pytest.raises(DataError, match="make data/libreoffice"):
        data.load_corpus("libreoffice", str(tmp_path / "nowhere"), max_length=50)
    root = make_root(tmp_path)
    (root / ".done").unlink()  # an interrupted download
    with pytest.raises(DataError, match="make data/libreoffice"):
        data.load_corpus("libreoffice", str(root), max_length=50)
    (root / ".done").touch()
    next((root / "deb").glob("*.deb")).write_bytes(b"truncated")
    with pytest.raises(DataError, match="sha256"):
        data.load_corpus("libreoffice", str(root), max_length=50)
    assert not list(root.glob("pairs-*.tsv"))  # nothing half-written


def test_generated_corpus_is_deterministic_and_learnable():
    a, b, c = (data.load_corpus("generated", "", max_length=12, seed=s) for s in (0, 0, 1))
    assert a == b and a.train != c.train
    assert 300 <= len(a.train) <= 400 and a.valid and a.test
    assert all(3 <= len(p.source) <= 12 for p in a.train)
    pair = next(p for p in a.train if any(w in data.ADJECTIVES and n in data.NOUNS
                                          for w, n in zip(p.source, p.source[1:], strict=False)))
    i = next(i for i, (w, n) in enumerate(zip(pair.source, pair.source[1:], strict=False))
             if w in data.ADJECTIVES and n in data.NOUNS)
    french = " ".join(pair.target)
    assert f"{data.NOUNS[pair.source[i + 1]]} {data.ADJECTIVES[pair.source[i]]}" in french  # the noun comes first


def test_tokenize_detokenize_round_trip_in_french():
    sentence = ("L\u2019objet \u00ab\u00a0Tableau\u00a0\u00bb n\u2019a pas été inséré\u202f: "
                "voulez-vous réessayer\u202f? Oui\u00a0!")
    tokens = data.tokenize(sentence, "fr")
    assert tokens[:3] == ("L'", "objet", '"') and ":" in tokens and tokens[-1] == "!"
    assert data.detokenize(tokens, "fr") == "L'objet \"Tableau\" n'a pas été inséré : voulez-vous réessayer ? Oui !"
    assert data.tokenize("Don\u2019t click \u201cOK\u201d.", "en") == ("Don", "'t", "click", '"', "OK", '"', ".")


def test_wmt14_reads_tfds(tmp_path):
    with tfds.testing.mock_data(num_examples=4):
        corpus = data.load_corpus("wmt14", str(tmp_path), max_length=1000)
    assert corpus.train and corpus.valid and corpus.test
    assert {p.origin for p in corpus.test} == {"wmt14:test"}
    assert all(isinstance(t, str) for p in corpus.train for t in p.source + p.target)


def test_the_wmt14_training_sample_is_a_stable_share_of_the_pairs():
    """The paper preset's 12M of WMT'14's 40.8M pairs: each pair kept by a hash of its English side, so the same
    pairs in every process and about the asked share of them."""
    texts = [(f"sentence number {i}", f"phrase numéro {i}") for i in range(20_000)]
    kept = list(data.sampled(iter(texts), 0.3))
    assert abs(len(kept) / len(texts) - 0.3) < 0.02
    assert kept == list(data.sampled(iter(texts), 0.3)) and set(kept) <= set(texts)
    assert len(list(data.sampled(iter(texts), 1.0))) == len(texts)
