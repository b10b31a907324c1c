"""Round trips of our own runs, generated: every method of ours (the ``solo.methods`` entry points)
and every built-in method we ship a config for, on every shipped config family, with its own
config and swapped onto the family's simclr config (``method=X``, as the README shows). Each run
trains a step, is read back by ``evaluate``, ``linear --top-k`` and ``explain``, resumes for one
more step, and is measured as ``bench`` measures it.

A swapped built-in that solo-learn refuses (BYOL and MoCo v3 read ``momentum`` and
``pred_hidden_dim``, which SimCLR's config lacks) must be refused by solo-learn's own check
before anything runs: one line, exit status 2, nothing written."""

import copy
import importlib.metadata
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import selected
from tests.hosts.tiny import CPU, evaluate, explain, linear_top_k, quote, run_command, shrunk, working_directory
from tests.solo.helpers import needs_solo_learn

pytestmark = [*needs_solo_learn, pytest.mark.slow]

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "pretrain"
FAMILIES = sorted(p.name for p in CONFIGS.iterdir() if p.is_dir())
OURS = sorted({e.name for e in importlib.metadata.entry_points(group="solo.methods")})


def method_of(family: str, config: str) -> str:
    """The ``method`` a shipped config trains (tri-scl.yaml trains ``tricl``)."""
    return yaml.safe_load((CONFIGS / family / f"{config}.yaml").read_text())["method"]


SHIPPED = {
    family: {p.stem: method_of(family, p.stem) for p in (CONFIGS / family).glob("*.yaml")} for family in FAMILIES
}
BUILT_INS = sorted({m for configs in SHIPPED.values() for m in configs.values()} - set(OURS))


def generated_cases():
    """(family, config name for "own" or method for "swapped", form)."""
    cases = []
    for family in FAMILIES:
        cases += [(family, config, "own") for config in sorted(SHIPPED[family])]
        cases += [(family, method, "swapped") for method in OURS + BUILT_INS if method != "simclr"]
    return cases


CASES = generated_cases()
FEATURES = 2  # k: few features, few probes (k = 1, 2)


def test_the_cases_cover_every_method_family_and_form():
    assert set(OURS) >= {"tricl", "ncl", "kernel", "mrl"} and "simclr" in BUILT_INS and len(BUILT_INS) >= 5
    assert FAMILIES == ["cifar", "fashion_mnist", "imagenet-100"]
    assert {(f, m) for f, m, form in CASES if form == "swapped"} == {
        (f, m) for f in FAMILIES for m in OURS + BUILT_INS if m != "simclr"
    }
    assert {(f, c) for f, c, form in CASES if form == "own"} == {(f, c) for f in FAMILIES for c in SHIPPED[f]}


def config_of(family: str, name: str, form: str):
    """(config name, the overrides that make it this case, the method it trains)."""
    if form == "own":
        return f"{family}/{name}", [], method_of(family, name)
    return f"{family}/simclr", [f"method={name}"], name


def tiny_run_overrides(config: str, extra, data: Path, out: Path):
    from solo_tricl.solo.cli import compose

    cfg = compose("pretrain", None, config, list(extra))
    dataset = [] if cfg.data.dataset in ("custom", "imagenet100") else ["data.dataset=custom"]
    return [
        *extra,
        *CPU,
        *dataset,
        *[
            o
            for o in shrunk(cfg)
            if not o.startswith(("method_kwargs.proj_hidden_dim=", "method_kwargs.proj_output_dim="))
        ],
        "method_kwargs.proj_hidden_dim=16",
        f"method_kwargs.proj_output_dim={FEATURES}",
        f"data.train_path={quote(data / 'train')}",
        f"data.val_path={quote(data / 'val')}",
        f"checkpoint.dir={quote(out / 'trained')}",
        f"++default_root_dir={quote(out)}",
    ]


def refusal_of_the_host(config: str, extra, data: Path, out: Path):
    """What solo-learn's own method check says of the swapped config, or None if it takes it."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException
    from solo.args.pretrain import parse_cfg
    from solo.methods import METHODS

    from solo_tricl.solo.cli import compose

    cfg = compose("pretrain", None, config, tiny_run_overrides(config, extra, data, out))
    OmegaConf.set_struct(cfg, False)
    try:
        METHODS[cfg.method].add_and_assert_specific_cfg(parse_cfg(copy.deepcopy(cfg)))
    except (AssertionError, OmegaConfBaseException) as error:
        return error
    return None


def finite(value) -> bool:
    if isinstance(value, dict):
        return all(finite(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(finite(v) for v in value)
    return not isinstance(value, float) or math.isfinite(value)


def case_id(case) -> str:
    family, method, form = case
    return f"{family}/{method}-{form}"


def check_case(case, data: Path, out: Path, capture) -> None:
    """One case, in ``out``: a round trip, or solo-learn's refusal of a swapped built-in.
    ``capture.readouterr()`` gives what the commands printed since its last call."""
    family, name, form = case
    config, extra, method = config_of(family, name, form)
    overrides = tiny_run_overrides(config, extra, data, out)
    try:
        with working_directory(out):
            if form == "swapped" and method not in OURS and refusal_of_the_host(config, extra, data, out):
                from solo_tricl.cli import main

                assert main(["pretrain", "--config-name", config, *overrides]) == 2
                err = capture.readouterr().err.strip().splitlines()
                assert len(err) == 1 and err[0].startswith("solo-tricl pretrain: error: solo-learn "), err
                assert not (out / "trained").exists()
                return
            round_trip(family, method, config, overrides, data, out, capture)
    finally:
        shutil.rmtree(out / "trained", ignore_errors=True)  # ~100 MB a case


WORKERS = 2  # processes, one torch thread each: these tiny runs are mostly Python and small ops


@pytest.fixture(scope="module")
def results(request, tiny_fashion_mnist, tmp_path_factory):
    """{case id: None, or the error it ended with}: the selected cases run by WORKERS worker
    processes (round_trip_worker.py), each taking every WORKERS-th case."""
    cases = selected(request, "case")
    out = tmp_path_factory.mktemp("round-trips")
    repo = Path(__file__).resolve().parents[2]
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.hosts.round_trip_worker", str(tiny_fashion_mnist), str(out / str(i))]
            + [case_id(case) for case in cases[i::WORKERS]],
            cwd=repo,
            env={**os.environ, "PYTHONPATH": str(repo)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(WORKERS)
    ]
    found = {}
    for worker in workers:
        stdout, stderr = worker.communicate()
        assert worker.returncode == 0, stderr[-3000:]
        found.update(json.loads(stdout.strip().splitlines()[-1]))
    return found


@pytest.mark.parametrize("case", CASES, ids=[case_id(case) for case in CASES])
def test_a_run_trains_reloads_everywhere_and_resumes(case, results):
    error = results[case_id(case)]
    if error is not None:
        pytest.fail(error, pytrace=False)


def round_trip(family, method, config, overrides, data, out, capfd):
    from solo_tricl.bench.pipeline import measure
    from solo_tricl.evaluate.features import solo_features

    run_command(["pretrain", "--config-name", config, *overrides], capfd)
    (checkpoint,) = (out / "trained" / method).glob("*/*.ckpt")
    saved = json.loads((checkpoint.parent / "args.json").read_text())
    assert saved["method"] == method

    report = evaluate(checkpoint, data, out / "evaluation", capfd)
    assert report["method"] == method and report["representation"] == "projector output"
    assert report["features"] == saved["method_kwargs"]["proj_output_dim"] and finite(
        report["orders"]["importance"]["curves"]
    )

    printed = linear_top_k(family, checkpoint, data, out / "linear", capfd)
    assert "probed 2 features of its projector output" in printed

    sandal = sorted((data / "val" / "5_sandal").iterdir())[0]
    explained = explain(checkpoint, sandal, data / "train" / "5_sandal", data / "train", out / "explain", capfd)
    assert len(explained["images"]) == 1

    run_command(
        ["pretrain", "--config-name", config, *overrides, "max_epochs=2"]
        + [f"+resume_from_checkpoint={quote(checkpoint)}"],
        capfd,
    )
    resumed = [c for c in (out / "trained" / method).glob("*/*.ckpt") if c.parent != checkpoint.parent]
    assert len(resumed) == 1 and resumed[0].name.endswith("ep=1.ckpt")

    run = solo_features(resumed[0], data, limit_train=20, limit_test=10, views=2 * FEATURES)
    result, _ = measure(run)
    assert result.method == method and result.features == saved["method_kwargs"]["proj_output_dim"]
    assert finite(result.orders["importance"].curves.linear) and 0 <= result.backbone_linear <= 1
