"""Encoders to explain, read from a solo-learn or an OpenCLIP checkpoint of this project."""

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional

import torch
from PIL import Image
from torchvision import transforms

from solo_tricl.errors import BadInput, InputNotFound


@dataclass
class LoadedEncoder:
    """What the explain command needs from a checkpoint."""

    encoder: torch.nn.Module  # images (N, C, H, W) -> representations (N, d)
    preprocess: Callable  # PIL image -> (C, H, W) model input
    unnormalize: Callable  # (C, H, W) model input -> (H, W, C) in [0, 1] for plots
    input_size: Optional[int]  # the side the model was trained at, None if any
    head: Optional[torch.nn.Module]  # representations -> class logits (solo: online classifier)
    text_encoder: Optional[Callable]  # list of prompts -> (n, d) (OpenCLIP)
    kind: str


def _unnormalizer(mean, std):
    mean, std = torch.tensor(mean).view(-1, 1, 1), torch.tensor(std).view(-1, 1, 1)
    return lambda x: (x.cpu() * std + mean).clamp(0, 1).permute(1, 2, 0).numpy()


def _solo(checkpoint: Path) -> LoadedEncoder:
    from solo_tricl.solo.checkpoints import load_method

    method, cfg = load_method(checkpoint)
    from solo_tricl.solo.features import input_normalization, input_transform

    mean, std = input_normalization(cfg)
    return LoadedEncoder(
        method.backbone,
        input_transform(cfg, resize=False),
        _unnormalizer(mean, std),
        int(cfg.augmentations[0].crop_size),
        method.classifier,
        None,
        "solo-learn",
    )


def _open_clip(checkpoint: Path) -> LoadedEncoder:
    from solo_tricl.clip.checkpoints import load_clip

    model, preprocess, tokenizer, _ = load_clip(checkpoint)
    normalize = next(t for t in preprocess.transforms if isinstance(t, transforms.Normalize))

    class ImageEncoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, images):
            return self.model.encode_image(images)

    @torch.no_grad()
    def encode_text(prompts: List[str]) -> torch.Tensor:
        return model.encode_text(tokenizer(prompts))

    return LoadedEncoder(
        ImageEncoder().eval(),
        preprocess,
        _unnormalizer(normalize.mean, normalize.std),
        None,
        None,
        encode_text,
        "OpenCLIP",
    )


def load_encoder(checkpoint) -> LoadedEncoder:
    """A solo-learn checkpoint (``args.json`` beside it) or a ``solo-tricl clip-train`` one."""
    from solo_tricl.checkpoint_kind import SOLO_LEARN, checkpoint_kind

    loader = _solo if checkpoint_kind(checkpoint) == SOLO_LEARN else _open_clip
    return loader(Path(checkpoint))


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


def image_paths(paths: List[Path], option: str = "--images") -> List[Path]:
    """Files given, and image files found under folders given (sorted); :class:`InputNotFound`
    naming ``option`` and the path for a path that does not exist, :class:`BadInput` naming the
    folders when they hold no image."""
    found = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        elif path.is_file():
            found.append(path)
        else:
            raise InputNotFound(f"{option} {path} does not exist")
    if not found:
        raise BadInput(
            f"{option} {' '.join(map(str, paths))} holds no images (files ending in {', '.join(IMAGE_SUFFIXES)})"
        )
    return found


def load_images(paths: List[Path], loaded: LoadedEncoder, resize: bool = False) -> torch.Tensor:
    """(N, C, H, W) model inputs. Grayscale is converted to RGB; other channel layouts and, for
    models trained at one size, other sizes are errors unless ``resize``."""
    tensors = []
    for path in paths:
        try:
            image = Image.open(path)
            image.load()
        except (OSError, SyntaxError, ValueError) as error:  # what PIL raises for a file it cannot decode
            raise BadInput(f"cannot read image {path}: {error}") from None
        if image.mode in ("L", "I", "I;16", "1", "P"):
            image = image.convert("RGB")
        elif image.mode != "RGB":
            raise BadInput(
                f"image {path} has mode {image.mode} ({len(image.getbands())} "
                "channels); the model takes RGB or grayscale"
            )
        if loaded.input_size is not None and image.size != (loaded.input_size,) * 2:
            if not resize:
                raise BadInput(
                    f"image {path} is {image.size[0]}x{image.size[1]}; the model was "
                    f"trained on {loaded.input_size}x{loaded.input_size} (pass --resize)"
                )
            image = image.resize((loaded.input_size, loaded.input_size))
        tensors.append(loaded.preprocess(image))
    return torch.stack(tensors)
