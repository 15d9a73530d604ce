"""The real photos models are chosen on, in the package for every script (declare.selection)."""

from pathlib import Path

import numpy as np
import torch

from declare.selection import choosing_pairs, held_out_real89, network
from declare.session import Session
from photos import real_array, shared


def test_the_held_out_split_is_the_listing_training_reads(monkeypatch):
    data = shared("real-train").parent
    monkeypatch.chdir(Path(__file__).resolve().parents[1])  # the listing is configs/real89-val.txt, as for training
    listed = {line.split("#")[0].strip() for line in open("configs/real89-val.txt") if line.split("#")[0].strip()}
    held = held_out_real89(data)
    assert {p.image.name for p in held} == listed
    sets = choosing_pairs(data)
    assert list(sets) == ["real89-val", "nature20", "kim2020"] and all(sets.values())


def test_a_models_network_is_the_one_the_session_runs(checkpoints):
    clean, keeps_tone = network(str(checkpoints["student"]))
    photo = real_array(size=(96, 64)).astype(np.float32) / 255
    x = torch.from_numpy(photo.transpose(2, 0, 1)[None].copy())
    ours = clean(x)[0].numpy().transpose(1, 2, 0)
    session = Session.load(str(checkpoints["student"]), "cpu", False, engine="torch")
    assert not keeps_tone
    assert np.abs(np.clip(ours, 0, 1) - session.clean(photo, 0, 0)).max() < 1e-5
