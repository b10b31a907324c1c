"""Features of a trained model on a dataset, in eval mode, with the representation each method
defines: the projector output (post-activation for NCL; triCL's with its learned s) and the
backbone features, for solo-learn checkpoints; the image embedding for OpenCLIP ones."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

import torch

from solo_tricl.common.images import csv_items, encode_items, folder_classes, folder_items, subset


@dataclass
class Split:
    features: torch.Tensor            # (N, k) the representation the method defines
    labels: torch.Tensor              # (N,)
    backbone: Optional[torch.Tensor] = None   # (N, D) backbone features (solo-learn)
    paths: Optional[List[str]] = None          # (N,) the image files, in row order
    class_names: Optional[List[str]] = None    # name of each label


@dataclass
class RunFeatures:
    checkpoint: str
    host: str                         # "solo-learn" or "OpenCLIP"
    method: str
    train: Split
    test: Split
    importance: Optional[torch.Tensor] = None   # (k,) s of triCL
    info: dict = field(default_factory=dict)


def solo_features(checkpoint, data: Path, limit_train=None, limit_test=None, batch_size=256,
                  seed=0) -> RunFeatures:
    """Projector and backbone features of a solo-learn checkpoint on ``data/{train,val}``."""
    from solo_tricl.solo.checkpoints import load_method
    from solo_tricl.solo.features import input_transform, learned_importance, projector_output

    method, cfg = load_method(checkpoint)
    transform = input_transform(cfg)

    def encode(images):
        feats = method.backbone(images)
        return projector_output(method, feats), feats

    splits = {}
    for split, folder, limit in (("train", "train", limit_train), ("test", "val", limit_test)):
        items = subset(folder_items(Path(data) / folder), limit, seed)
        (features, backbone), labels = encode_items(items, transform, encode, batch_size, f"{split} features")
        splits[split] = Split(features, labels, backbone, [str(path) for path, _ in items],
                              folder_classes(Path(data) / folder))
    return RunFeatures(str(checkpoint), "solo-learn", cfg.method, splits["train"], splits["test"],
                       learned_importance(method),
                       {"name": cfg.name, "seed": cfg.seed, "method_kwargs": dict(cfg.method_kwargs)})


def clip_features(checkpoint, data: Path, limit_train=None, limit_test=None, batch_size=256,
                  seed=0) -> RunFeatures:
    """Image embeddings of a solo-tricl clip-train checkpoint on ``data/{train,val}.csv``."""
    from solo_tricl.clip.checkpoints import load_clip

    model, preprocess, _, options = load_clip(checkpoint)
    splits = {}
    for split, name, limit in (("train", "train.csv", limit_train), ("test", "val.csv", limit_test)):
        items = subset(csv_items(Path(data) / name), limit, seed)
        features, labels = encode_items(items, preprocess, lambda x: model.encode_image(x, normalize=True),
                                   batch_size, f"{split} features")
        splits[split] = Split(features, labels, paths=[str(path) for path, _ in items])
    importance = getattr(model, "feature_importance", None)
    return RunFeatures(str(checkpoint), "OpenCLIP", options["loss"], splits["train"], splits["test"],
                       importance().detach() if importance is not None else None,
                       {"model": options["model"]})


def load_features(checkpoint, data: Path, **kwargs) -> RunFeatures:
    from solo_tricl.checkpoint_kind import SOLO_LEARN, checkpoint_kind

    extract = solo_features if checkpoint_kind(checkpoint) == SOLO_LEARN else clip_features
    return extract(checkpoint, data, **kwargs)
