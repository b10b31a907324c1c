from pathlib import Path

import pytest
import torch

from benchmarks.pointing import build_mosaics, pointing_scores, quadrant_of_maximum


def peaked_maps(quadrants, size=8):
    """Maps (N, 3, size, size) with one bright pixel in the centre of each given quadrant."""
    maps = torch.zeros(len(quadrants), 3, size, size)
    for i, q in enumerate(quadrants):
        row, col = (q // 2) * size // 2 + size // 4, (q % 2) * size // 2 + size // 4
        maps[i, :, row, col] = 1.0
    return maps


def test_the_maximum_and_the_mass_are_found_in_each_quadrant():
    maps = peaked_maps([0, 1, 2, 3])
    assert quadrant_of_maximum(maps).tolist() == [0, 1, 2, 3]
    scores = pointing_scores(maps, torch.tensor([0, 1, 3, 3]))
    assert scores["hit"].tolist() == [True, True, False, True]
    assert scores["mass"].tolist() == [1.0, 1.0, 0.0, 1.0]


def test_mass_is_measured_above_the_median_so_a_constant_offset_does_not_count():
    maps = peaked_maps([2]) + 5.0  # RISE-like offset
    maps[0, :, 0, 0] += 1.0  # a second, equal peak in quadrant 0
    scores = pointing_scores(maps, torch.tensor([2]))
    assert scores["mass"].item() == pytest.approx(0.5)
    flat = pointing_scores(torch.zeros(1, 3, 8, 8), torch.tensor([1]))
    assert flat["mass"].item() == pytest.approx(0.25)


def test_shapes_must_agree():
    with pytest.raises(ValueError, match="N quadrants"):
        pointing_scores(torch.zeros(2, 3, 8, 8), torch.tensor([0]))


def test_mosaics_hold_the_corpus_class_in_its_quadrant_and_three_other_classes(fashion_mnist_folder):
    from solo_tricl.common.images import folder_items

    grouped = {}
    for path, label in folder_items(fashion_mnist_folder / "val"):
        grouped.setdefault(label, []).append(path)
    classes = sorted(p.name for p in (fashion_mnist_folder / "val").iterdir())
    mosaics = build_mosaics(grouped, 30, tile=28, seed=3)
    assert [m.corpus_class for m in mosaics[:10]] == list(range(10))
    assert {m.quadrant for m in mosaics} == {0, 1, 2, 3}
    for m in mosaics:
        assert m.image.size == (56, 56)
        assert m.tile_classes[m.quadrant] == m.corpus_class
        assert len(set(m.tile_classes)) == 4
        folders = [Path(path).parent.name for path in m.tile_paths]
        assert folders == [classes[label] for label in m.tile_classes]
    again = build_mosaics(grouped, 30, tile=28, seed=3)
    assert [m.tile_paths for m in again] == [m.tile_paths for m in mosaics]
    with pytest.raises(ValueError, match="at least 4 classes"):
        build_mosaics({0: grouped[0], 1: grouped[1]}, 2, tile=28)
