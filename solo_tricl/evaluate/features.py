"""Features of a trained model on a dataset, in eval mode, with the representation each method
defines: for solo-learn checkpoints the representation its authors evaluate (the projector's
output, post-activation for NCL; DINO's head; the backbone's features for a method with neither)
and the backbone features; the image embedding for OpenCLIP ones. ``RunFeatures.representation``
says which.

With ``views=N``, also the features of two augmented views of N reference training images, for
the canonical basis: solo-learn's own pretraining pipeline of the checkpoint's config (its first
crop), or for OpenCLIP its training transform with SimCLR-like light augmentations
(:data:`CLIP_VIEW_AUGMENTATION`)."""

import random
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Tuple

import torch

from solo_tricl.common.images import (
    csv_items,
    encode_items,
    folder_classes,
    folder_items,
    require_known_labels,
    require_readable_images,
    require_same_classes,
    subset,
)

# OpenCLIP's AugmentationCfg for the two views of an OpenCLIP model: its own RandomResizedCrop,
# widened from (0.9, 1), plus colour jitter and grayscale as in SimCLR.
CLIP_VIEW_AUGMENTATION = {
    "scale": (0.5, 1.0),
    "color_jitter": (0.4, 0.4, 0.4, 0.1),
    "color_jitter_prob": 0.8,
    "gray_scale_prob": 0.2,
}


IMAGE_EMBEDDING = "image embedding"  # what an OpenCLIP model's features are


@dataclass
class Split:
    features: torch.Tensor  # (N, k) the representation the method defines
    labels: torch.Tensor  # (N,)
    backbone: Optional[torch.Tensor] = None  # (N, D) backbone features (solo-learn)
    paths: Optional[List[str]] = None  # (N,) the image files, in row order
    class_names: Optional[List[str]] = None  # name of each label


@dataclass
class RunFeatures:
    checkpoint: str
    host: str  # "solo-learn" or "OpenCLIP"
    method: str
    train: Split
    test: Split
    importance: Optional[torch.Tensor] = None  # (k,) s of triCL
    info: dict = field(default_factory=dict)
    views: Optional[Tuple[torch.Tensor, torch.Tensor]] = None  # two (N, k) augmented views
    order: str = "native"  # "native": as the model gives them; else the order they are in (orders.py)
    scores: Optional[torch.Tensor] = None  # (k,) the order's score of each column (s, lambda, ...), or None
    # what the features are, the representation the method's authors evaluate: "projector output",
    # "DINO head" or "backbone" (solo-learn; solo_tricl.solo.features.representation_of), "image embedding"
    representation: str = ""
    activation: Optional[torch.Tensor] = None  # (k,) activation mass on orders.activation_reference images
    classifier: Optional[torch.Tensor] = None  # (k, C) zero-shot class embeddings (OpenCLIP with class names)


@contextmanager
def seeded_augmentation(seed: int):
    """Seed torch's and Python's RNGs (augmentations draw from both) and restore them after."""
    python_state = random.getstate()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        random.seed(seed)
        try:
            yield
        finally:
            random.setstate(python_state)


def two_views(items, augment, encode, batch_size, seed):
    """(N, k) features of two independently augmented views of each item, seeded."""
    with seeded_augmentation(seed):
        return tuple(encode_items(items, augment, encode, batch_size, f"view {v + 1} features")[0] for v in range(2))


def solo_features(
    checkpoint, data: Path, limit_train=None, limit_test=None, batch_size=256, seed=0, views: int = 0
) -> RunFeatures:
    """Projector and backbone features of a solo-learn checkpoint on ``data/{train,val}``."""
    from omegaconf import OmegaConf
    from solo.data.pretrain_dataloader import build_transform_pipeline

    from solo_tricl.solo.checkpoints import load_method
    from solo_tricl.solo.features import input_transform, learned_importance, projector_output, representation_of

    method, cfg = load_method(checkpoint)
    transform = input_transform(cfg)

    def encode(images):
        feats = method.backbone(images)
        return projector_output(method, feats), feats

    splits, view_pair = {}, None
    require_same_classes(Path(data) / "train", Path(data) / "val")
    activation = reference_activation(folder_items(Path(data) / "train"), transform, lambda x: encode(x)[0])
    for split, folder, limit in (("train", "train", limit_train), ("test", "val", limit_test)):
        items = subset(folder_items(Path(data) / folder), limit, seed, f"--data {Path(data) / folder}")
        require_readable_images([path for path, _ in items], f"--data {Path(data) / folder}")
        (features, backbone), labels = encode_items(items, transform, encode, batch_size, f"{split} features")
        splits[split] = Split(
            features, labels, backbone, [str(path) for path, _ in items], folder_classes(Path(data) / folder)
        )
        if split == "train" and views:
            pipeline = build_transform_pipeline(cfg.data.dataset, cfg.augmentations[0])
            augment = lambda image: pipeline(image.convert("RGB"))  # noqa: E731
            view_pair = two_views(items[:views], augment, lambda x: encode(x)[0], batch_size, seed)
    return RunFeatures(
        str(checkpoint),
        "solo-learn",
        cfg.method,
        splits["train"],
        splits["test"],
        learned_importance(method),
        {"name": cfg.name, "seed": cfg.seed, "method_kwargs": OmegaConf.to_container(cfg.method_kwargs, resolve=True)},
        view_pair,
        activation=activation,
        representation=representation_of(method).name,
    )


def clip_features(
    checkpoint, data: Path, limit_train=None, limit_test=None, batch_size=256, seed=0, views: int = 0
) -> RunFeatures:
    """Image embeddings of a solo-tricl clip-train checkpoint on ``data/{train,val}.csv``."""
    from solo_tricl.clip.checkpoints import load_clip

    model, preprocess, tokenizer, options = load_clip(checkpoint)
    encode = lambda x: model.encode_image(x, normalize=True)  # noqa: E731
    splits, view_pair = {}, None
    train_items = csv_items(Path(data) / "train.csv")
    require_known_labels(train_items, csv_items(Path(data) / "val.csv"), f"--data {data}")
    activation = reference_activation(train_items, preprocess, encode)
    for split, name, limit in (("train", "train.csv", limit_train), ("test", "val.csv", limit_test)):
        items = subset(csv_items(Path(data) / name), limit, seed, f"--data {Path(data) / name}")
        require_readable_images([path for path, _ in items], f"--data {Path(data) / name}")
        features, labels = encode_items(items, preprocess, encode, batch_size, f"{split} features")
        splits[split] = Split(features, labels, paths=[str(path) for path, _ in items])
        if split == "train" and views:
            view_pair = two_views(items[:views], clip_view_transform(model), encode, batch_size, seed)
    importance = getattr(model, "feature_importance", None)
    classifier = None
    if (Path(data) / "classes.json").is_file():
        from solo_tricl.evaluate.zero_shot import build_classifier, read_class_spec

        spec = read_class_spec(Path(data) / "classes.json", splits["test"].labels)
        classifier = build_classifier(model, tokenizer, spec["classes"], spec["templates"])
    return RunFeatures(
        str(checkpoint),
        "OpenCLIP",
        options["loss"],
        splits["train"],
        splits["test"],
        importance().detach() if importance is not None else None,
        {"model": options["model"]},
        view_pair,
        representation=IMAGE_EMBEDDING,
        activation=activation,
        classifier=classifier,
    )


def reference_activation(items, transform, encode, batch_size: int = 256) -> torch.Tensor:
    """(k,) activation mass of ``encode`` on the unaugmented training images every command measures
    it on (:func:`solo_tricl.evaluate.orders.activation_reference`)."""
    from solo_tricl.evaluate.orders import activation_mass, activation_reference

    features, _ = encode_items(activation_reference(items), transform, encode, batch_size, "activation reference")
    return activation_mass(features)


def clip_view_transform(model):
    """OpenCLIP's training transform for ``model`` with :data:`CLIP_VIEW_AUGMENTATION`."""
    from dataclasses import asdict

    from open_clip import get_model_preprocess_cfg
    from open_clip.transform import AugmentationCfg, PreprocessCfg, image_transform

    config = {**asdict(PreprocessCfg()), **get_model_preprocess_cfg(model)}
    with warnings.catch_warnings():
        # OpenCLIP applies the jitter and grayscale items but still warns that they are unused
        warnings.filterwarnings("ignore", "Unused augmentation cfg items")
        augment = image_transform(
            config["size"],
            is_train=True,
            mean=config["mean"],
            std=config["std"],
            aug_cfg=AugmentationCfg(**CLIP_VIEW_AUGMENTATION),
        )
    return lambda image: augment(image.convert("RGB"))


def load_features(checkpoint, data: Path, **kwargs) -> RunFeatures:
    from solo_tricl.checkpoint_kind import SOLO_LEARN, checkpoint_kind

    extract = solo_features if checkpoint_kind(checkpoint) == SOLO_LEARN else clip_features
    return extract(checkpoint, data, **kwargs)
