"""declare bench: speed rows that add up, quality scores against known answers."""

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from declare.bench.methods import Method, baseline_method
from declare.bench.quality import pairs_in
from declare.bench.speed import PeakMemory, flops_per_megapixel, image_size
from declare.cli import main


class _Conv:
    """Just enough of a Session for the FLOP counter: one known convolution."""

    def __init__(self):
        self.model = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.device, self.dtype = torch.device("cpu"), torch.float32


def test_flops_per_megapixel_by_hand():
    method = Method("conv", lambda x: x, session=_Conv())
    # 8 outputs x 27 multiply-adds per pixel, two FLOPs each
    assert flops_per_megapixel(method) == pytest.approx(2 * 8 * 27 * 1e6)
    assert flops_per_megapixel(baseline_method("identity")) is None


def test_peak_memory_sees_an_allocation():
    with PeakMemory("cpu") as before:
        pass
    with PeakMemory("cpu") as during:
        block = np.ones(300 * 2 ** 20 // 8)  # 300 MB, touched
        block += 1
        del block
    assert during.peak - before.peak > 200 * 2 ** 20


def test_image_size_is_a_3_2_photo_of_that_many_megapixels():
    h, w = image_size(12)
    assert abs(h * w / 1e6 - 12) < 0.01 and abs(w / h - 1.5) < 0.01


def test_speed_command_reports_every_size(tmp_path):
    out_json, out_csv = tmp_path / "speed.json", tmp_path / "speed.csv"
    result = CliRunner().invoke(main, ["bench", "speed", "--preset", "tiny", "--sizes", "0.02,0.05",
                                       "--repeats", "2", "--warmup", "0", "--json", str(out_json),
                                       "--csv", str(out_csv)])
    assert result.exit_code == 0, result.output
    assert "MP/s" in result.output and "preset:tiny" in result.output
    doc = json.loads(out_json.read_text())
    rows = doc["rows"]
    assert [r["megapixels"] for r in rows] == [pytest.approx(0.02, abs=0.005), pytest.approx(0.05, abs=0.005)]
    for r in rows:
        assert r["seconds"] > 0 and r["mp_per_s"] == pytest.approx(r["megapixels"] / r["seconds"], rel=0.02)
        assert r["peak_mb"] > 50 and r["gflop_per_mp"] > 0 and 0 < r["machine_fraction"] < 2
    assert doc["matmul_gflops"]["cpu"] > 0.1
    assert len(out_csv.read_text().splitlines()) == 3


def test_speed_refuses_fp16_on_the_cpu_and_goes_on(tmp_path):
    result = CliRunner().invoke(main, ["bench", "speed", "--preset", "tiny", "--sizes", "0.01",
                                       "--device", "cpu", "--precision", "fp16", "--precision", "fp32",
                                       "--repeats", "1", "--warmup", "0", "--json", "-"])
    assert result.exit_code == 0, result.output
    assert "skipped preset:tiny on cpu (fp16)" in result.output
    doc = json.loads(result.stdout)
    assert [r["precision"] for r in doc["rows"]] == ["fp32"]


def _pairs(root, count=3, size=(48, 40)):
    """Real20-style pairs whose input is the truth plus 0.1: identity scores 20 dB."""
    rng = np.random.default_rng(0)
    (root / "blended").mkdir(parents=True)
    (root / "transmission_layer").mkdir()
    for i in range(count):
        truth = rng.integers(0, 230, (size[1], size[0], 3), dtype=np.uint8)
        shifted = truth + np.uint8(round(0.1 * 255))
        Image.fromarray(truth).save(root / "transmission_layer" / f"{i}.png")
        Image.fromarray(shifted).save(root / "blended" / f"{i}.png")
    return root


def test_quality_scores_identity_by_hand_and_runs_the_model(tmp_path, checkpoints):
    data = _pairs(tmp_path / "mini")
    result = CliRunner().invoke(main, ["bench", "quality", "--data", str(data), "--model",
                                       str(checkpoints["student"]), "--json", "-"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    identity = [r for r in doc["summary"] if r["method"] == "identity"][0]
    assert identity["images"] == 3
    assert identity["psnr"] == pytest.approx(20 * np.log10(255 / 26), abs=1e-6)
    methods = [r["method"] for r in doc["summary"]]
    assert methods == ["identity", "student"]
    assert len(doc["images"]) == 6


def test_quality_with_yang2019_table_csv_and_plot(tmp_path):
    pytest.importorskip("frr")
    data = _pairs(tmp_path / "mini")
    csv_path, plot = tmp_path / "q.csv", tmp_path / "q.png"
    result = CliRunner().invoke(main, ["bench", "quality", "--data", str(data), "--baseline", "yang2019",
                                       "--csv", str(csv_path), "--plot", str(plot), "--per-image"])
    assert result.exit_code == 0, result.output
    assert "yang2019" in result.output and "PSNR dB" in result.output
    methods = [line.split(",")[2] for line in csv_path.read_text().splitlines()[1:]]
    assert sorted(methods) == sorted(["identity", "small", "yang2019"] * 3)  # the shipped default too
    with Image.open(plot) as im:
        assert im.format == "PNG" and im.width > 300


def test_yang2019_runs_under_numpy_2():
    pytest.importorskip("frr")
    x = np.random.default_rng(0).random((40, 60, 3))
    out = baseline_method("yang2019").run(x)
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1
    assert not np.allclose(out, x)


def test_quality_bad_pair_fails_alone(tmp_path):
    data = _pairs(tmp_path / "mini")
    Image.new("RGB", (10, 10)).save(data / "transmission_layer" / "0.png")  # wrong size now
    (data / "blended" / "1.png").write_bytes(b"not a png")
    result = CliRunner().invoke(main, ["bench", "quality", "--data", str(data), "--json", "-"])
    assert result.exit_code == 1
    assert "0.png" in result.output and "1.png" in result.output
    doc = json.loads(result.stdout)
    assert {r["image"] for r in doc["images"]} == {"2.png"}  # identity and the default model


def test_quality_missing_folder_is_one_line(tmp_path):
    result = CliRunner().invoke(main, ["bench", "quality", "--data", str(tmp_path / "nope")])
    assert result.exit_code == 1 and "not a folder" in result.output
    assert "Traceback" not in result.output


def test_pairs_in_reads_ceilnet_layout():
    from photos import DATA

    folder = DATA / "ceilnet-synthetic"
    if not folder.is_dir():
        pytest.skip("ceilnet-synthetic not found")
    pairs = pairs_in(folder)
    assert len(pairs) == 23 and all(g.stem.endswith("-label1") for _, g in pairs)


def test_two_checkpoints_with_one_file_name_get_their_own_rows():
    from declare.bench.methods import unique_labels

    specs = ["runs/a/student/student.safetensors", "runs/b/student/student.safetensors",
             "other/teacher.safetensors", "small"]
    assert unique_labels(specs) == {specs[0]: "a/student/student", specs[1]: "b/student/student",
                                    specs[2]: "teacher", "small": "small"}
