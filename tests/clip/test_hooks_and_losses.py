"""Model hooks and plugin losses on a real (tiny, random) OpenCLIP model; no training."""

from argparse import Namespace

import pytest
import torch
import torch.nn.functional as F

from solo_tricl.clip import model_hooks
from solo_tricl.clip.checkpoints import MODEL_CONFIGS
from solo_tricl.clip.model_hooks import OpenCLIPTriCLLoss
from solo_tricl.clip.plugins import CLIP, KERNEL, NCL, TRICL, load_plugins
from solo_tricl.losses import KernelClipLoss, NCLClipLoss, TriCLClipLoss
from tests.clip.helpers import open_clip

pytestmark = pytest.mark.open_clip


def tiny_model():
    open_clip.add_model_config(MODEL_CONFIGS)
    torch.manual_seed(0)
    model = open_clip.create_model("solo-tricl-tiny", output_dict=True)
    tokenizer = open_clip.get_tokenizer("solo-tricl-tiny")
    images = torch.randn(6, 3, 32, 32)
    texts = tokenizer([f"a photo of a thing number {i}" for i in range(6)])
    return model, images, texts


def options(**kwargs):
    defaults = dict(
        loss="tricl",
        importance_init_std=0.1,
        importance_scale=1.0,
        decorrelation="isotropic",
        decorrelation_weight=None,
        non_neg="relu",
        gamma=1.0,
        kernel_temperature=None,
    )
    return Namespace(**{**defaults, **kwargs})


def open_clip_args(**kwargs):
    return Namespace(local_loss=False, gather_with_grad=False, rank=0, world_size=1, solo_tricl=options(**kwargs))


def test_entry_points_name_the_four_losses():
    plugins = load_plugins()
    assert {"clip", "tricl", "ncl", "kernel"} <= set(plugins)
    assert plugins["tricl"] is TRICL and plugins["clip"] is CLIP


def test_importance_lives_on_the_model_in_the_no_decay_group_and_state_dict():
    model, images, texts = tiny_model()
    model_hooks.add_feature_importance(model, 0.1)
    names = dict(model.named_parameters())
    assert names["feature_importance.theta"].shape == (32,)
    assert "feature_importance.theta" in model.state_dict()
    # OpenCLIP's rule for its no-weight-decay group
    assert names["feature_importance.theta"].ndim < 2
    out = model(images, texts)
    assert out[model_hooks.IMPORTANCE_KEY].shape == (1, 32)


def test_eval_features_score_with_s():
    model, images, texts = tiny_model()
    model_hooks.add_feature_importance(model, 1.0)
    with torch.no_grad():
        train = model(images, texts)
        s = model.feature_importance()
        model.eval()
        evaluated = model(images, texts)
    assert model_hooks.IMPORTANCE_KEY not in evaluated
    expected = train["image_features"] @ torch.diag(s) @ train["text_features"].T
    assert torch.allclose(evaluated["image_features"] @ evaluated["text_features"].T, expected, atol=1e-5)
    # the encoders OpenCLIP's zero-shot classifier and our evaluation call give the same features
    with torch.no_grad():
        encoded = model.encode_image(images, normalize=True) @ model.encode_text(texts, normalize=True).T
    assert torch.allclose(encoded, expected, atol=1e-5)


def test_non_negative_map_runs_before_normalisation():
    model, images, texts = tiny_model()
    with torch.no_grad():
        raw = model.encode_image(images)
    model_hooks.add_non_negative_map(model, "softplus")
    with torch.no_grad():
        hooked = model.encode_image(images, normalize=True)
        trained = model(images, texts)["image_features"]  # the path training takes
    assert (raw < 0).any() and (hooked >= 0).all()
    assert torch.allclose(hooked, F.normalize(F.softplus(raw), dim=-1), atol=1e-6)
    assert torch.allclose(trained, hooked, atol=1e-6)


def test_tricl_plugin_loss_equals_the_reference_on_model_outputs():
    model, images, texts = tiny_model()
    TRICL.prepare_model(model, options())
    out = model(images, texts)
    plugin_loss = TRICL(open_clip_args())(**out, output_dict=True)
    reference = TriCLClipLoss()(
        out["image_features"],
        out["text_features"],
        out["logit_scale"],
        feature_importance=model.feature_importance(),
        output_dict=True,
    )
    for key in reference:
        assert torch.allclose(plugin_loss[key], reference[key])


def test_ncl_plugin_loss_equals_the_reference_on_raw_features():
    model, images, texts = tiny_model()
    with torch.no_grad():
        raw_image, raw_text = model.encode_image(images), model.encode_text(texts)
    NCL.prepare_model(model, options(non_neg="relu"))
    with torch.no_grad():
        out = model(images, texts)
        plugin = NCL(open_clip_args(non_neg="relu"))(**out)
        reference = NCLClipLoss("relu")(raw_image, raw_text, out["logit_scale"])
    assert torch.allclose(plugin, reference, atol=1e-6)


def test_kernel_plugin_loss_equals_the_reference():
    model, images, texts = tiny_model()
    with torch.no_grad():
        out = model(images, texts)
        plugin = KERNEL(open_clip_args(gamma=0.5))(**out)
        reference = KernelClipLoss(0.5)(out["image_features"], out["text_features"], out["logit_scale"])
    assert torch.allclose(plugin, reference)


def test_accumulated_importance_rows_keep_the_value_and_the_whole_gradient():
    image, text = torch.randn(8, 16), torch.randn(8, 16)
    theta = torch.randn(16, requires_grad=True)
    s = F.softplus(theta)
    reference = TriCLClipLoss()(image, text, torch.tensor(5.0), feature_importance=s)
    (grad_reference,) = torch.autograd.grad(reference, theta)
    # OpenCLIP with --accum-freq 3: two cached rows without gradient, the current one with it
    rows = torch.cat([s.detach()[None], F.softplus(theta)[None], s.detach()[None]])
    accumulated = OpenCLIPTriCLLoss()(image, text, torch.tensor(5.0), feature_importance=rows)
    (grad_accumulated,) = torch.autograd.grad(accumulated, theta)
    assert torch.allclose(accumulated, reference) and torch.allclose(grad_accumulated, grad_reference)


def test_a_run_saved_before_the_importance_scale_existed_loads_with_the_scale_it_trained_with(monkeypatch):
    from dataclasses import replace

    from solo_tricl.clip import plugins

    # were the default to change, a run saved without the option still means c = 1
    monkeypatch.setitem(TRICL.options, "importance_scale", replace(TRICL.options["importance_scale"], default=30.0))
    assert plugins.declared_options(load_plugins())["importance_scale"][0].default == 30.0
    assert plugins.options_with_defaults({"loss": "tricl"}).importance_scale == 1.0
    assert plugins.options_with_defaults({"loss": "tricl", "importance_scale": 30.0}).importance_scale == 30.0


def test_a_matryoshka_run_saved_before_the_smallest_prefix_existed_means_the_nesting_it_trained_with():
    from solo_tricl.clip import plugins

    before = plugins.options_with_defaults({"loss": "mrl", "nesting": None})
    assert before.smallest_prefix == 1 and plugins.declared_options(load_plugins())["smallest_prefix"][0].default == 8
    assert plugins.options_with_defaults({"loss": "mrl", "smallest_prefix": 8}).smallest_prefix == 8


def test_the_importance_scale_reaches_the_models_s():
    model, _, _ = tiny_model()
    model_hooks.add_feature_importance(model, 0.1, scale=30.0)
    importance = model.feature_importance
    assert importance.scale == 30.0
    assert torch.allclose(importance(), F.softplus(30.0 * importance.theta))
