import pytest
import torch


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def checkpoints(tmp_path_factory):
    """Tiny random-weight student and teacher checkpoints, their ONNX graphs beside them.

    The output conv is set so corrections are as modest as a trained model's
    (a few grey levels): neither the near-identity of a fresh network nor the
    saturating noise of unscaled random weights.
    """
    from declare.checkpoint import save_checkpoint
    from declare.export import export_checkpoint
    from declare_models import Student, Teacher, get_config

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("ckpt")
    paths = {}
    for name, cls in (("student", Student), ("teacher", Teacher)):
        net = cls(get_config("tiny"))
        with torch.no_grad():
            torch.nn.init.kaiming_normal_(net.decoder.output.weight)
            net.decoder.output.weight.mul_(0.05)
        paths[name] = save_checkpoint(folder / f"{name}.safetensors", net)
        export_checkpoint(paths[name])
    return paths


@pytest.fixture(scope="session")
def photo_folder(tmp_path_factory):
    """A folder of small real photos to synthesise training sequences from."""
    from photos import small_photo_folder

    return small_photo_folder(tmp_path_factory.mktemp("photos") / "photos")
