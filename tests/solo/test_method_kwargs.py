"""Config validation of the plugin methods; needs omegaconf, not solo-learn."""

import pytest
from omegaconf import OmegaConf

from solo_tricl.solo.method_kwargs import (
    KERNEL,
    NCL,
    TRICL,
    ConfigError,
    require_even_output_for_concat,
    simclr_temperature_to_kernel,
    validate_method_kwargs,
)


def cfg(method="tricl", **kwargs):
    base = {"proj_hidden_dim": 64, "proj_output_dim": 16}
    return OmegaConf.create({"method": method, "method_kwargs": {**base, **kwargs}})


def test_defaults_are_filled_in():
    tricl = validate_method_kwargs(cfg(), TRICL).method_kwargs
    assert (tricl.temperature, tricl.decorrelation, tricl.decorrelation_weight, tricl.anchors, tricl.variant) == (
        0.2,
        "isotropic",
        None,
        "all",
        "infonce",
    )
    assert tricl.importance_lr is None
    assert validate_method_kwargs(cfg("ncl"), NCL).method_kwargs.non_neg == "rep_relu"
    kernel = validate_method_kwargs(cfg("kernel"), KERNEL).method_kwargs
    assert (kernel.gamma, kernel.mixture, kernel.lam, kernel.tau1, kernel.tau2) == (1.0, "sum", 0.2, 0.1, 0.3)


@pytest.mark.parametrize(
    "options,key,value,message",
    [
        (TRICL, "temperature", 0, r"method_kwargs.temperature must be finite and > 0, got 0"),
        (TRICL, "temperature", "hot", r"method_kwargs.temperature must be a number"),
        (TRICL, "anchors", "view2", r"method_kwargs.anchors must be one of all, view1"),
        (TRICL, "variant", "x", r"method_kwargs.variant must be one of infonce, spectral"),
        (TRICL, "decorrelation_weight", -1, r"method_kwargs.decorrelation_weight must be finite and >= 0"),
        (TRICL, "decorrelation", "pca", r"method_kwargs.decorrelation must be one of isotropic, reference"),
        (TRICL, "proj_output_dim", 0, r"method_kwargs.proj_output_dim must be an integer >= 1"),
        (TRICL, "proj_output_dim", 12.5, r"method_kwargs.proj_output_dim must be an integer"),
        (NCL, "non_neg", "tanh", r"method_kwargs.non_neg must be one of relu, rep_relu"),
        (KERNEL, "gamma", 2.5, r"method_kwargs.gamma must be in \(0.0, 2.0\]"),
        (KERNEL, "gamma", 0, r"method_kwargs.gamma must be in \(0.0, 2.0\]"),
        (KERNEL, "lam", 1.5, r"method_kwargs.lam must be in \[0.0, 1.0\]"),
        (KERNEL, "mixture", "product", r"method_kwargs.mixture must be one of none, sum, concat"),
        (KERNEL, "tau2", -0.1, r"method_kwargs.tau2 must be finite and > 0"),
    ],
)
def test_invalid_values_name_the_key_and_the_allowed_values(options, key, value, message):
    with pytest.raises(ConfigError, match=message):
        validate_method_kwargs(cfg(**{key: value}), options)


def test_missing_required_key():
    config = OmegaConf.create({"method": "ncl", "method_kwargs": {"proj_output_dim": 8}})
    with pytest.raises(ConfigError, match=r"method_kwargs.proj_hidden_dim is required"):
        validate_method_kwargs(config, NCL)


def test_unknown_key_is_an_error_not_a_silent_default():
    with pytest.raises(
        ConfigError,
        match=r"method_kwargs.temprature is not an option of method "
        r"'tricl'; allowed: proj_hidden_dim",
    ):
        validate_method_kwargs(cfg(temprature=0.1), TRICL)


def test_concat_needs_an_even_output_dimension():
    config = validate_method_kwargs(cfg("kernel", mixture="concat", proj_output_dim=15), KERNEL)
    with pytest.raises(ConfigError, match=r"method_kwargs.proj_output_dim must be even"):
        require_even_output_for_concat(config)


def test_two_large_crops_and_any_number_of_small_ones():
    from solo_tricl.solo.preflight import check_crops

    config = cfg()
    config.data = {"num_large_crops": 2, "num_small_crops": 6}
    check_crops(config)
    config.data = {"num_large_crops": 3, "num_small_crops": 0}
    with pytest.raises(ConfigError, match=r"the augmentations give 3 large crops; method 'tricl' needs 2"):
        check_crops(config)


@pytest.mark.parametrize("mixture,target", [("sum", "tau2"), ("concat", "tau2"), ("none", "tau1")])
def test_a_simclr_temperature_sets_the_matching_kernel_temperature(mixture, target):
    config = cfg("kernel", temperature=0.2, mixture=mixture)
    given = set(config.method_kwargs.keys())
    config = validate_method_kwargs(config, KERNEL)
    note = simclr_temperature_to_kernel(config, given)
    assert config.method_kwargs[target] == pytest.approx(0.4)
    assert f"sets {target}=0.4" in note


def test_a_simclr_temperature_and_the_tau_it_sets_conflict():
    config = cfg("kernel", temperature=0.2, tau2=0.3)
    given = set(config.method_kwargs.keys())
    with pytest.raises(
        ConfigError,
        match=r"method_kwargs.temperature=0.2 sets method_kwargs.tau2=0.4 .*method_kwargs.tau2=0.3 is given",
    ):
        simclr_temperature_to_kernel(validate_method_kwargs(config, KERNEL), given)


@pytest.mark.parametrize("mixture", ["sum", "concat", "none"])
def test_the_settings_a_run_saved_decide_the_same_settings_again(mixture):
    """Reloading a run rebuilds its method from the args.json it saved, which holds both SimCLR's
    temperature and the tau it set: the same function must accept it and decide the same."""
    import json

    from omegaconf import OmegaConf

    trained = cfg("kernel", temperature=0.2, mixture=mixture)
    trained = validate_method_kwargs(trained, KERNEL)
    simclr_temperature_to_kernel(trained, set(cfg("kernel", temperature=0.2, mixture=mixture).method_kwargs))
    saved = OmegaConf.create(json.loads(json.dumps(OmegaConf.to_container(trained))))
    reloaded = validate_method_kwargs(saved, KERNEL)
    assert simclr_temperature_to_kernel(reloaded, set(reloaded.method_kwargs.keys())) is None
    assert OmegaConf.to_container(reloaded) == OmegaConf.to_container(trained)


def test_without_a_temperature_the_kernel_keeps_its_defaults():
    config = validate_method_kwargs(cfg("kernel"), KERNEL)
    assert simclr_temperature_to_kernel(config, set()) is None
    assert (config.method_kwargs.tau1, config.method_kwargs.tau2) == (0.1, 0.3)
