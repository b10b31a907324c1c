"""One checkpoint of every method gives the same top-k columns through every command that chooses
them: ``evaluate``, ``linear --top-k``, ``clip-zeroshot --top-k`` and the bench's measurement.

Activation mass is measured on a sample of the training images smaller than the training set here,
so a command that measured it on other images (the test set, another sample, another transform)
would choose other columns."""

import json
from pathlib import Path

import pytest

from solo_tricl.cli import main
from tests.solo.helpers import needs_solo_learn, pretrain_cfg, quote

pytestmark = pytest.mark.slow
TOP_K = 4


@pytest.fixture(autouse=True)
def fewer_reference_images(monkeypatch):
    import solo_tricl.evaluate.orders as orders

    monkeypatch.setattr(orders, "ACTIVATION_IMAGES", 64)


def evaluate_columns(checkpoint: Path, data: Path, out: Path) -> list:
    assert main(["evaluate", str(checkpoint), "--data", str(data), "--top-k", str(TOP_K), "--out", str(out)]) == 0
    return json.loads((out / "evaluation.json").read_text())["runs"][0]["orders"]["importance"]["columns"][:TOP_K]


def bench_columns(features) -> list:
    from solo_tricl.bench.pipeline import measure

    measurement, _ = measure(features, ("importance",))
    return measurement.top_columns("importance", TOP_K)


@pytest.mark.parametrize("method", ["simclr", "tricl", "mrl", "ncl"])
@needs_solo_learn[0]
@needs_solo_learn[1]
def test_a_solo_learn_checkpoint_gives_the_same_columns_everywhere(method, fashion_mnist_folder, tmp_path, capsys):
    from solo_tricl.evaluate.features import solo_features
    from solo_tricl.solo.pretrain import pretrain

    checkpoint = pretrain(pretrain_cfg(method, fashion_mnist_folder, tmp_path / "run")).last_checkpoint
    capsys.readouterr()
    by_evaluate = evaluate_columns(checkpoint, fashion_mnist_folder, tmp_path / "evaluation")
    linear = [
        "linear",
        "--config-name",
        "fashion_mnist/linear",
        "--top-k",
        str(TOP_K),
        f"pretrained_feature_extractor={quote(str(checkpoint))}",
        f"data.train_path={quote(str(fashion_mnist_folder / 'train'))}",
        f"data.val_path={quote(str(fashion_mnist_folder / 'val'))}",
        "max_epochs=1",
        "optimizer.batch_size=32",
        "data.num_workers=0",
        f"++default_root_dir={quote(str(tmp_path / 'linear'))}",
        f"checkpoint.dir={quote(str(tmp_path / 'linear'))}",
    ]
    capsys.readouterr()
    assert main(linear) == 0
    printed = capsys.readouterr().out.split("(importance order): ", 1)[1].splitlines()[0]
    by_linear = json.loads(printed)
    by_bench = bench_columns(
        solo_features(checkpoint, fashion_mnist_folder, limit_train=5000, limit_test=5000, views=100)
    )
    assert by_evaluate == by_linear == by_bench, method
    if method == "mrl":
        assert by_evaluate == list(range(TOP_K))


@pytest.mark.parametrize("loss", ["clip", "tricl", "mrl"])
def test_an_openclip_checkpoint_gives_the_same_columns_everywhere(loss, fashion_mnist_clip_folder, tmp_path):
    from solo_tricl.evaluate.features import clip_features
    from tests.clip.helpers import clip_train, train_args

    clip_train(["--loss", loss], train_args(fashion_mnist_clip_folder, tmp_path / "logs", loss, epochs=1))
    checkpoint = tmp_path / "logs" / loss / "checkpoints" / "epoch_1.pt"
    by_evaluate = evaluate_columns(checkpoint, fashion_mnist_clip_folder, tmp_path / "evaluation")
    zero_shot = tmp_path / "zero-shot.json"
    data = fashion_mnist_clip_folder / "val.csv"
    assert (
        main(["clip-zeroshot", str(checkpoint), "--data", str(data), "--top-k", str(TOP_K), "--json", str(zero_shot)])
        == 0
    )
    by_zero_shot = json.loads(zero_shot.read_text())[f"top{TOP_K}_importance_columns"]
    by_bench = bench_columns(clip_features(checkpoint, fashion_mnist_clip_folder, views=100))
    assert by_evaluate == by_zero_shot == by_bench, loss
