"""Checkpoints: safetensors round trip, config in the header, no pickle."""

import pytest
import torch

from declare.checkpoint import CheckpointError, load_checkpoint, read_metadata, save_checkpoint
from declare_models import Student, Teacher, get_config

TINY = get_config("tiny")


@pytest.mark.parametrize("cls", [Student, Teacher])
def test_round_trip_rebuilds_the_same_network(tmp_path, cls):
    net = cls(TINY).eval()
    path = save_checkpoint(tmp_path / "net.safetensors", net, metadata={"step": 12})
    loaded, meta = load_checkpoint(path)
    assert type(loaded) is cls and loaded.config == TINY
    assert meta["step"] == "12" and meta["arch"] == cls.__name__.lower()
    for key, value in net.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    x = torch.rand(1, 3, 3, 19, 23) if cls is Teacher else torch.rand(1, 3, 19, 23)
    with torch.no_grad():
        assert torch.equal(loaded(x).transmission, net(x).transmission)


def test_fp16_checkpoint_loads_into_float32(tmp_path):
    net = Student(TINY)
    path = save_checkpoint(tmp_path / "half.safetensors", net, dtype=torch.float16)
    loaded, _ = load_checkpoint(path)
    for key, value in loaded.state_dict().items():
        assert value.dtype == torch.float32
        assert torch.allclose(value, net.state_dict()[key], atol=1e-2, rtol=1e-3)


def test_header_metadata_without_reading_tensors(tmp_path):
    path = save_checkpoint(tmp_path / "s.safetensors", Student(get_config("small")))
    meta = read_metadata(path)
    assert meta["format"] == "declare-checkpoint" and meta["arch"] == "student"
    assert '"encoder_channels": 24' in meta["config"]


def test_pickle_is_refused_with_a_clear_message(tmp_path):
    path = tmp_path / "net.pt"
    torch.save(Student(TINY).state_dict(), path)
    with pytest.raises(CheckpointError, match="not a safetensors file"):
        load_checkpoint(path)


@pytest.mark.parametrize("content", [b"", b"abc", b"\xff" * 64, b"\x04\x00\x00\x00\x00\x00\x00\x00[1,2]"])
def test_junk_files_are_refused(tmp_path, content):
    path = tmp_path / "junk.safetensors"
    path.write_bytes(content)
    with pytest.raises(CheckpointError):
        load_checkpoint(path)


def test_missing_and_foreign_files(tmp_path):
    with pytest.raises(CheckpointError, match="no such file"):
        load_checkpoint(tmp_path / "nope.safetensors")
    from safetensors.torch import save_file
    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(2)}, str(foreign))
    with pytest.raises(CheckpointError, match="not a declare checkpoint"):
        load_checkpoint(foreign)


def test_weights_that_do_not_match_the_config_are_refused(tmp_path):
    from safetensors.torch import load_file, save_file
    path = save_checkpoint(tmp_path / "s.safetensors", Student(TINY))
    meta = read_metadata(path)
    state = load_file(str(path))
    state.pop(next(iter(state)))
    save_file(state, str(path), metadata=meta)
    with pytest.raises(CheckpointError, match="do not match"):
        load_checkpoint(path)


def test_reserved_metadata_keys_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="reserved"):
        save_checkpoint(tmp_path / "x.safetensors", Student(TINY), metadata={"config": "{}"})
    assert not list(tmp_path.iterdir())
