"""Train NIC on cached image features, select on validation perplexity, then caption the test images with each beam
and score them with the COCO metrics, our tuple F1 (scene tasks only: COCO has no scene truth) and the diversity
shares.

    python -m papers.show_and_tell.train --config=papers/show_and_tell/configs.py:cpu,nic --config.seed=2

The `cpu` encoder is the trunk pre-trained by pretrain.py (the same seed's run; `make` runs it first), the `paper`
encoder InceptionV3 with ImageNet weights (inception.py); both are frozen and their features of every image computed
once. The blind model reads no image (all-zero features). The run lifecycle (resume, a finished run prints its
result, NaN writes nothing) is common/lifecycle.py's. The test captions go to results/captions/ and the first test
scenes' pictures to results/scenes/ (tables.py: the caption grid; not for coco, whose images stay on disk).
"""

import math
from pathlib import Path
from types import SimpleNamespace

import keras
import ml_collections
import numpy as np
import pandas as pd
import tensorflow as tf

from common import beam_search, checkpoints, lifecycle, training
from common.files import atomic_write
from common.vocabulary import EOS, Vocabulary
from papers.show_and_tell import configs, data, encoder, inception, metrics, pipeline, pretrain, rows
from papers.show_and_tell.model import CaptionNLL, ShowAndTell

GRID_SCENES = 12  # the first test scenes, kept with the captions for the caption grid (tables.py)


def workdir_for(config: ml_collections.ConfigDict) -> Path:
    name = {"none": "blind", "scratch": "scratch"}.get(config.encoder, "nic" if config.feed_image == "once" else
                                                                           "every_step")
    return Path(config.workdir or f"runs/show_and_tell/{config.preset}/{name}/seed{config.seed}")


def image_features(config, captions: data.Captions) -> dict[str, np.ndarray]:
    """{split: (N, F) float32}: the frozen pre-trained trunk's features (coco: InceptionV3's, inception.py), zeros
    for the blind model, or the uint8 canvases themselves for the encoder trained from scratch (model.py)."""
    splits = ("train", "valid", "test")
    if config.encoder == "scratch":
        return {s: getattr(captions, s).images for s in splits}
    if config.encoder == "none":
        return {s: np.zeros((len(getattr(captions, s).references), 1), np.float32) for s in splits}
    if config.dataset == "coco":
        return inception.cached_features({s: (getattr(captions, s).tfds_split, len(getattr(captions, s).references))
                                          for s in splits}, config.inception_weights, config.data_dir)
    source = Path(config.encoder_workdir or pretrain.default_workdir(config))
    trunk = checkpoints.load_selected(source, "python -m papers.show_and_tell.pretrain with the same preset and "
                                      "seed").get_layer("trunk")
    return {s: encoder.scene_features(trunk, getattr(captions, s).images) for s in splits}


def build_model(config, vocab_size: int, steps_per_epoch: int, feature_moments=None) -> ShowAndTell:
    model = ShowAndTell(vocab_size, config.units, config.embedding_dim, config.dropout, config.init_scale,
                        config.feed_image, trunk=encoder.trunk() if config.encoder == "scratch" else None,
                        feature_moments=feature_moments)
    halvings = math.ceil(config.max_epochs / config.lr_halve_every) - 1  # those that fall inside training
    boundaries = [round(steps_per_epoch * config.lr_halve_every * k) for k in range(1, 1 + halvings)]
    schedule = keras.optimizers.schedules.PiecewiseConstantDecay(
        boundaries, [config.learning_rate * 0.5**k for k in range(len(boundaries) + 1)]) if boundaries else (
        config.learning_rate)
    model.compile(keras.optimizers.SGD(schedule, global_clipnorm=config.clip_norm), CaptionNLL())
    return model


def perplexity(model, features, references, vocabulary) -> float:
    images, caption_in, caption_out = pipeline.caption_arrays(references, vocabulary)
    logits = model.predict({"features": features[images], "caption_in": caption_in}, batch_size=256, verbose=0)
    nll = keras.losses.sparse_categorical_crossentropy(caption_out, logits, from_logits=True).numpy()
    real = caption_out != 0
    return float(np.exp((nll * real).sum() / real.sum()))


def captions_of(searcher, model, features: np.ndarray, vocabulary: Vocabulary, beam: int, config) -> list[str]:
    """The test captions of one beam; `searcher.decode_step` is the model's step as a graph (made once)."""
    out = []
    for start in range(0, len(features), config.eval_batch_size):
        encoded = model.encode(features[start : start + config.eval_batch_size])
        ids, _ = beam_search.beam_search(searcher, encoded, beam, config.max_caption_length, eos=EOS, finished="set")
        out += [" ".join(vocabulary.decode(row)) for row in ids]
    return out


def train_and_evaluate(config: ml_collections.ConfigDict, run: lifecycle.Run) -> lifecycle.Outcome:
    captions = data.load_captions(config.dataset, tuple(config.sizes), config.seed, config.data_dir)
    vocabulary = Vocabulary.from_sentences((data.words(c) for refs in captions.train.references for c in refs),
                                           min_count=config.min_word_count)
    vocabulary.save(run.workdir / "vocab.json")
    features = image_features(config, captions)
    moments = (encoder.moments(features["train"]) if config.standardize_features and config.encoder == "pretrained"
               else None)

    def validation_perplexity(model: ShowAndTell) -> float:
        if config.encoder == "scratch":  # the normalization's statistics under the current trunk; saved with it
            encoder.reestimate_normalization(model, features["train"], config.population_images)
        return perplexity(model, features["valid"], captions.valid.references, vocabulary)

    examples = 5 * len(captions.train.references)
    per_epoch = examples // config.batch_size
    checkpoints_total = max(1, round(config.max_epochs * config.checkpoints_per_epoch))
    steps_per_checkpoint = max(1, per_epoch // config.checkpoints_per_epoch)
    print(f"{captions.description}; vocabulary {len(vocabulary)} words; {checkpoints_total * steps_per_checkpoint:,} "
          f"steps of {config.batch_size} captions.", flush=True)
    fitted = run.fit(
        build_model=lambda: build_model(config, len(vocabulary), per_epoch, moments),
        train_data=lambda k: pipeline.training_batches(features["train"], captions.train.references, vocabulary,
                                                       config.batch_size, config.seed, k * steps_per_checkpoint,
                                                       checkpoints_total * steps_per_checkpoint),
        checkpoints=checkpoints_total, steps_per_checkpoint=steps_per_checkpoint, monitor="val_perplexity",
        callbacks=[training.CheckpointMetric("val_perplexity", validation_perplexity)])
    model = run.best_model()  # its weights hold the statistics re-estimated for its validation
    fields = rows.empty() | {"method": "blind" if config.encoder == "none" else "nic", "encoder": config.encoder,
                             "feed_image": "" if config.encoder == "none" else config.feed_image,
                             "units": str(config.units)}
    scored = {f"{s}_perplexity": perplexity(model, features[s], getattr(captions, s).references, vocabulary)
              for s in ("valid", "test")}
    out = [{**fields, "metric": k, "value": f"{v:.3f}"} for k, v in scored.items()]
    training_captions = {" ".join(data.words(c)) for refs in captions.train.references for c in refs}
    table = pd.DataFrame({"references": [" | ".join(refs) for refs in captions.test.references]})
    searcher = SimpleNamespace(decode_step=tf.function(model.decode_step, reduce_retracing=True))
    generated = {beam: captions_of(searcher, model, features["test"], vocabulary, beam, config)
                 for beam in config.beam_sizes}
    coco = metrics.coco_scores_of_sets({beam: (g, captions.test.references) for beam, g in generated.items()},
                                       config.meteor)
    for beam in config.beam_sizes:
        table[f"beam{beam}"] = generated[beam]
        tuples = ({} if config.dataset == "coco"  # tuple F1 parses scenes.py's grammar: no scene truth in COCO
                  else metrics.tuple_scores(generated[beam], captions.test.references))
        found = {**coco[beam], **tuples, **metrics.diversity(generated[beam], training_captions)}
        out += [{**fields, "beam_size": str(beam), "metric": k, "value": f"{v:.4f}"} for k, v in found.items()]
        scored[f"beam {beam} CIDEr"] = found["cider"]
    atomic_write(run.results_file("captions", ".tsv"), lambda tmp: table.to_csv(tmp, sep="\t", index=False))
    if captions.test.images is not None:  # the caption grid's pictures (tables.py); coco keeps its images on disk
        atomic_write(run.results_file("scenes", ".npz"),
                     lambda tmp: np.savez_compressed(tmp, images=captions.test.images[:GRID_SCENES]))
    for row in out:
        row.update(experiment=config.dataset, variant=rows.variant(row))
    return lifecycle.Outcome(rows=out, summary=f"{rows.variant(fields)}, best checkpoint {fitted.best_checkpoint}: "
                             + ", ".join(f"{k} {v:.3f}" for k, v in scored.items()),
                             epochs=f"{fitted.steps / per_epoch:.2f}", facts={"scores": scored})


EXPERIMENT = lifecycle.Experiment(paper="show_and_tell", fields=rows.FIELDS, work=train_and_evaluate,
                                  workdir=workdir_for, validate=configs.validate)

if __name__ == "__main__":
    lifecycle.main(EXPERIMENT, "papers/show_and_tell/configs.py:cpu")
