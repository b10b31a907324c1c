import pytest

from tests.conftest import solo_learn_available


@pytest.fixture(scope="session")
def tricl_run(fashion_mnist_folder, tmp_path_factory):
    """One epoch of triCL on the small real Fashion-MNIST folder, with a checkpoint."""
    if not solo_learn_available():
        pytest.skip("solo-learn is not installed")
    from solo_tricl.solo.pretrain import pretrain
    from tests.solo.helpers import pretrain_cfg

    directory = tmp_path_factory.mktemp("tricl-run")
    result = pretrain(pretrain_cfg("tricl", fashion_mnist_folder, directory))
    return {"result": result, "dir": directory}
