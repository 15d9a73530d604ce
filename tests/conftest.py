import pytest
import torch


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def checkpoints(tmp_path_factory):
    """Tiny random-weight student and teacher checkpoints.

    The output conv is scaled down so corrections are as modest as a trained
    model's (a few grey levels), not the saturating noise of raw random weights.
    """
    from declare.checkpoint import save_checkpoint
    from declare_models import Student, Teacher, get_config

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("ckpt")
    paths = {}
    for name, cls in (("student", Student), ("teacher", Teacher)):
        net = cls(get_config("tiny"))
        with torch.no_grad():
            net.decoder.output.weight.mul_(0.05)
            net.decoder.output.bias.zero_()
        paths[name] = save_checkpoint(folder / f"{name}.safetensors", net)
    return paths
