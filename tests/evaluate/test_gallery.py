"""Feature galleries: the images that activate a feature most, and their class purity."""

import math

import pytest
import torch

from solo_tricl.evaluate.features import RunFeatures, Split
from solo_tricl.evaluate.gallery import class_purity, draw_run_gallery, gallery_rows, gallery_summary, run_gallery
from solo_tricl.evaluate.orders import in_order


def planted(n_per_class=20, classes=4, k=6):
    """Feature c fires only on class c (c < classes); the last feature is dead (all zero)."""
    labels = torch.arange(classes).repeat_interleave(n_per_class)
    features = torch.zeros(len(labels), k)
    features[:, :classes] = torch.nn.functional.one_hot(labels, classes).float() * torch.rand(len(labels), 1)
    features[:, classes] = torch.rand(len(labels))  # fires on every class alike
    return features, labels


def test_class_purity():
    assert class_purity(torch.tensor([2, 2, 2, 1])) == (0.75, 2)


def test_a_class_feature_gives_a_pure_row_and_a_dead_feature_no_row():
    features, labels = planted()
    order = torch.arange(6)
    rows = gallery_rows(features, labels, order, features_per_end=2, images_per_feature=10)
    assert [r.feature for r in rows["most"]] == [0, 1] and [r.feature for r in rows["least"]] == [4, 5]
    assert all(r.purity == 1.0 and len(r.images) == 10 for r in rows["most"])
    assert all(labels[i] == 1 for i in rows["most"][1].images)
    mixed, dead = rows["least"]
    assert mixed.purity < 1.0
    assert dead.images == [] and math.isnan(dead.purity) and dead.majority == -1
    summary = gallery_summary(rows)
    assert summary["most"]["mean_purity"] == 1.0
    assert summary["least"]["dead_features"] == 1 and summary["least"]["mean_purity"] == mixed.purity


def test_images_are_ordered_by_activation():
    features, labels = planted()
    row = gallery_rows(features, labels, torch.arange(6), 1, 5)["most"][0]
    values = features[row.images, 0]
    assert torch.all(values[:-1] >= values[1:])


@pytest.mark.parametrize(
    "n,m,message",
    [
        (0, 4, "gallery size must be in"),
        (7, 4, "gallery size must be in"),
        (1, 0, "images per feature"),
        (1, 1000, "images per feature"),
    ],
)
def test_bad_sizes_are_errors(n, m, message):
    features, labels = planted()
    with pytest.raises(ValueError, match=message):
        gallery_rows(features, labels, torch.arange(6), n, m)


def test_a_run_gallery_is_drawn_with_its_images(tmp_path):
    from PIL import Image

    features, labels = planted(n_per_class=5)
    paths = []
    for i in range(len(labels)):
        path = tmp_path / f"{i}.png"
        Image.new("L", (28, 28), color=int(labels[i]) * 60).save(path)
        paths.append(str(path))
    split = Split(features, labels, paths=paths, class_names=["a", "b", "c", "d"])
    native = RunFeatures("ckpt", "solo-learn", "tricl", split, split, torch.linspace(2, 1, 6))
    run, order = in_order(native, "importance")
    rows = run_gallery(run, 2, 4)
    summary = draw_run_gallery(run, order, rows, tmp_path / "gallery.png")
    assert (tmp_path / "gallery.png").stat().st_size > 5000
    assert summary["most"]["mean_purity"] == 1.0 and summary["png"].endswith("gallery.png")


def test_a_gallery_of_an_ordered_run_labels_each_column_with_its_own_score():
    # s is learned for the native columns: once in_order rearranges them, column i's score is
    # the i-th largest s (importance order) or the order's own score (pca), never s[i]
    generator = torch.Generator().manual_seed(0)
    features = torch.randn(40, 6, generator=generator)
    importance = torch.tensor([0.1, 3.0, 0.5, 2.0, 1.0, 0.2])
    split = Split(features, torch.arange(40) % 4)
    native = RunFeatures("ckpt", "solo-learn", "tricl", split, split, importance)

    by_s, order = in_order(native, "importance")
    assert order.kind == "s" and torch.equal(order.scores, importance.sort(descending=True).values)
    assert torch.equal(by_s.train.features[:, 0], features[:, 1]) and torch.equal(by_s.scores, order.scores)

    pca, order = in_order(native, "pca")
    assert order.label == "principal components" and pca.importance is None
    assert order.scores.sum().item() == pytest.approx(1.0, abs=1e-5)
