"""Features of a trained model on a dataset, in eval mode, with the representation each method
defines: the projector output (post-activation for NCL; triCL's with its learned s) and the
backbone features, for solo-learn checkpoints; the image embedding for OpenCLIP ones."""

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

import torch
from PIL import Image
from tqdm import tqdm



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


class LabelledImages(torch.utils.data.Dataset):
    """(transformed image, label) for a list of (path, label)."""

    def __init__(self, items, transform):
        self.items, self.transform = items, transform

    def __len__(self):
        return len(self.items)

    def __getitem__(self, index):
        path, label = self.items[index]
        return self.transform(Image.open(path)), label


def _subset(items, limit: Optional[int], seed: int):
    if not items:
        raise ValueError("the dataset is empty: no images were found")
    if limit is not None and limit < len(items):
        keep = torch.randperm(len(items), generator=torch.Generator().manual_seed(seed))[:limit]
        items = [items[i] for i in sorted(keep.tolist())]
    return items


def folder_classes(root: Path) -> List[str]:
    """The class folders of an ImageFolder tree, sorted: label i is the i-th."""
    if not root.is_dir():
        raise ValueError(f"{root} is not a directory of class folders")
    return sorted(d.name for d in root.iterdir() if d.is_dir())


def folder_items(root: Path):
    """(path, label) of an ImageFolder tree, labels by sorted class folder."""
    classes = folder_classes(root)
    return [(p, i) for i, c in enumerate(classes) for p in sorted((root / c).iterdir()) if p.is_file()]


def csv_items(path: Path):
    """(path, label) of a tab-separated CSV with ``filepath`` and ``label`` columns."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    with path.open() as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    if rows and not {"filepath", "label"} <= set(rows[0]):
        raise ValueError(f"{path} needs tab-separated columns filepath and label "
                           f"(found: {', '.join(rows[0])})")
    return [(row["filepath"], int(row["label"])) for row in rows]


@torch.no_grad()
def encode_items(items, transform, encode, batch_size, desc):
    """``encode`` applied to the transformed images of (path, label) items in batches, with a
    progress bar: ((N, ...) outputs, or a tuple of them when ``encode`` returns a tuple; (N,) labels)."""
    loader = torch.utils.data.DataLoader(LabelledImages(items, transform), batch_size=batch_size)
    outputs, labels = [], []
    for images, targets in tqdm(loader, desc=desc, unit="batch"):
        outputs.append(encode(images))
        labels.append(targets)
    labels = torch.cat(labels)
    if isinstance(outputs[0], tuple):
        return tuple(torch.cat(part) for part in zip(*outputs)), labels
    return torch.cat(outputs), labels


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
        items = _subset(folder_items(Path(data) / folder), limit, seed)
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
        items = _subset(csv_items(Path(data) / name), limit, seed)
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
