"""The phrases of our Fig. 2 (Sutskever et al. 2014, Sec. 3.8): the sentence vectors of hand-written phrase families
in two dimensions (PCA), to see whether they follow meaning and word order rather than the bag of words.

The paper's families ("John admires Mary" / "Mary admires John"; "I gave her a card in the garden" in active,
passive and fronted forms) use words that LibreOffice's help never does, so ours are written in its domain, from
words of the `cpu` source vocabulary. Within a family the words are the same and who does what to whom changes; a
paraphrase family keeps the meaning in active, passive and fronted forms. A sentence vector is what the decoder
starts from: the final (h, c) of every encoder layer, concatenated (the paper's "8000 real numbers").
"""

import numpy as np
from keras import ops

from papers.seq2seq import data, pipeline

FAMILIES = {
    "the cell / the formula": ("the cell contains the formula", "the formula contains the cell"),
    "the table / the chart": ("the table follows the chart", "the chart follows the table"),
    "the window / the file": ("the window opens the file", "the file opens the window"),
    "insert a table in the document": ("you can insert a table in the document",
                                       "in the document , you can insert a table",
                                       "a table can be inserted in the document",
                                       "a table can be inserted by you in the document"),
    "insert a document in the table": ("you can insert a document in the table",
                                       "in the table , you can insert a document",
                                       "a document can be inserted in the table"),
}


def sentence_vectors(model, source_vocabulary: pipeline.Vocabulary, reverse: bool) -> tuple[list[str], np.ndarray]:
    """(every phrase, its sentence vector (phrases, 2 x layers x units)) under a deep LSTM model."""
    phrases = [p for family in FAMILIES.values() for p in family]
    ids = [pipeline.source_ids(data.tokenize(p, "en"), source_vocabulary, reverse) for p in phrases]
    _, states = model.encode(pipeline.pad(ids))
    return phrases, np.concatenate([ops.convert_to_numpy(x) for state in states for x in state], axis=1)
