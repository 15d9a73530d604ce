"""declare bench: speed rows that add up, quality scores against known answers."""

import csv
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
from declare.registry import DEFAULT_MODEL as DEFAULT

pytestmark = pytest.mark.slow  # training, editors, networks: the full suite's (pytest -m 'not slow' skips them)


class _Conv:
    """Just enough of a PyTorch engine for the FLOP counter: one known convolution."""

    def __init__(self):
        self.model = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.device, self.dtype = torch.device("cpu"), torch.float32


def test_flops_per_megapixel_by_hand():
    method = Method("conv", lambda x: x, network=_Conv())
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
    rows = doc["rows"]  # both engines by default, ONNX Runtime first
    assert [r["engine"] for r in rows] == ["onnx", "onnx", "torch", "torch"]
    assert [r["megapixels"] for r in rows] == [pytest.approx(0.02, abs=0.005), pytest.approx(0.05, abs=0.005)] * 2
    for r in rows:
        assert r["seconds"] > 0 and r["mp_per_s"] == pytest.approx(r["megapixels"] / r["seconds"], rel=0.02)
        assert r["peak_mb"] > 50 and r["gflop_per_mp"] > 0 and 0 < r["machine_fraction"] < 2
    assert doc["matmul_gflops"]["cpu fp32"] > 0.1
    assert len(out_csv.read_text().splitlines()) == 5


def test_each_precision_is_compared_with_the_matmul_rate_of_that_precision(monkeypatch):
    """fp16 throughput over the fp32 matmul rate printed 460% "of matmul" on a GPU."""
    import declare.bench.speed as speed

    asked = []
    monkeypatch.setattr(speed, "matmul_rate", lambda device, precision: asked.append((device, precision)) or 1.0)
    methods = [Method("a", None, "cuda", "fp16", network=object()), Method("b", None, "cuda", "fp32", network=object()),
               Method("c", None, "cpu", "fp32", network=object()), Method("d", None, "cuda", "fp16", network=object()),
               baseline_method("identity")]
    rates = speed.matmul_rates(methods)
    assert sorted(rates) == sorted(asked) == [("cpu", "fp32"), ("cuda", "fp16"), ("cuda", "fp32")]


def test_matmul_rate_runs_at_the_precision_asked(monkeypatch):
    import declare.bench.speed as speed

    seen = []
    real_rand = torch.rand
    monkeypatch.setattr(torch, "rand", lambda *a, **k: seen.append(k["dtype"]) or real_rand(*a, **k))
    assert speed.matmul_rate("cpu", "fp32", n=64, repeats=2) > 0
    assert speed.matmul_rate("cpu", "fp16", n=64, repeats=2) > 0
    assert seen == [torch.float32] * 2 + [torch.float16] * 2


def test_speed_refuses_fp16_on_the_cpu_and_goes_on(tmp_path):
    result = CliRunner().invoke(main, ["bench", "speed", "--preset", "tiny", "--sizes", "0.01",
                                       "--device", "cpu", "--precision", "fp16", "--precision", "fp32",
                                       "--repeats", "1", "--warmup", "0", "--json", "-"])
    assert result.exit_code == 0, result.output
    for engine in ("onnx", "torch"):
        assert f"skipped preset:tiny with {engine} on cpu (fp16)" in result.output
    doc = json.loads(result.stdout)
    assert [(r["engine"], r["precision"]) for r in doc["rows"]] == [("onnx", "fp32"), ("torch", "fp32")]


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
    assert methods == ["identity", "global-gain", "student"]
    assert len(doc["images"]) == 9
    # the global-gain baseline is the input times GLOBAL_GAIN, scored like any method
    from declare.bench.methods import GLOBAL_GAIN
    from declare.metrics import psnr

    gain = [r for r in doc["summary"] if r["method"] == "global-gain"][0]
    x = [np.asarray(Image.open(data / "blended" / f"{i}.png"), np.float32) / 255 for i in range(3)]
    t = [np.asarray(Image.open(data / "transmission_layer" / f"{i}.png"), np.float32) / 255 for i in range(3)]
    by_hand = np.mean([psnr(np.clip(a * GLOBAL_GAIN, 0, 1), b) for a, b in zip(x, t)])
    assert gain["psnr"] == pytest.approx(by_hand, abs=1e-4)
    assert gain["psnr"] > identity["psnr"]  # truths are darker: dimming alone gains PSNR ...
    assert gain["psnr_fit"] == pytest.approx(identity["psnr_fit"], abs=1e-4)  # ... not PSNR after a gain fit


def test_quality_with_yang2019_table_csv_and_plot(tmp_path):
    pytest.importorskip("frr")
    data = _pairs(tmp_path / "mini")
    csv_path, plot = tmp_path / "q.csv", tmp_path / "q.png"
    result = CliRunner().invoke(main, ["bench", "quality", "--data", str(data), "--baseline", "yang2019",
                                       "--csv", str(csv_path), "--plot", str(plot), "--per-image"])
    assert result.exit_code == 0, result.output
    assert "yang2019" in result.output and "PSNR dB" in result.output
    methods = [r["method"] for r in csv.DictReader(csv_path.open())]
    assert sorted(methods) == sorted(["identity", "global-gain", DEFAULT, "yang2019"] * 3)  # the default too
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


@pytest.mark.parametrize("make", ["missing", "empty", "no pairs"])
def test_quality_unusable_folder_is_one_line_and_exit_2(tmp_path, make):
    folder = tmp_path / "data"
    if make != "missing":
        folder.mkdir()
    if make == "no pairs":
        Image.new("RGB", (8, 8)).save(folder / "lonely.png")
    good = _pairs(tmp_path / "good")
    result = CliRunner().invoke(main, ["bench", "quality", "--data", str(good), "--data", str(folder)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("declare: error:") and str(folder) in lines[0]
    assert ("not a folder" if make == "missing" else "no input/ground-truth pairs") in lines[0]


def test_pairs_in_reads_ceilnet_layout():
    from photos import shared

    folder = shared("ceilnet-synthetic")
    pairs = pairs_in(folder)
    assert len(pairs) == 23 and all(p.truth.stem.endswith("-label1") for p in pairs)


def test_two_checkpoints_with_one_file_name_get_their_own_rows():
    from declare.bench.methods import unique_labels

    specs = ["runs/a/student/student.safetensors", "runs/b/student/student.safetensors",
             "other/teacher.safetensors", "small"]
    assert unique_labels(specs) == {specs[0]: "a/student/student", specs[1]: "b/student/student",
                                    specs[2]: "teacher", "small": "small"}


def test_sir2_gets_a_row_per_subset_and_the_whole_with_published_figures(tmp_path):
    from test_data import sir2_tree

    counts = sir2_tree(tmp_path / "SIR2")
    result = CliRunner().invoke(main, ["bench", "quality", "--data", str(tmp_path / "SIR2"),
                                       "--published", "--json", "-"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)["summary"]
    measured = [(r["dataset"], r["method"], r["images"]) for r in summary if r["images"]]
    methods = ("identity", "global-gain", DEFAULT)
    assert measured == [("SIR2", m, 11) for m in methods] + [
        (f"SIR2/{s}", m, counts[s]) for s in sorted(counts) for m in methods]
    published = {(r["dataset"], r["method"]): r["ssim"] for r in summary if "[published]" in r["method"]}
    assert published[("SIR2", "DECLARE (paper) [published]")] == 0.9009
    assert published[("SIR2/SolidObjectDataset", "ERRNet [published]")] == 0.8872
    assert published[("SIR2/Postcard Dataset", "IBCLN [published]")] == 0.8880
    assert published[("SIR2/Wildscene", "Yang et al. 2019 [published]")] == 0.8526
    assert all(r["psnr"] is None and r["images"] is None for r in summary if "[published]" in r["method"])


def test_published_rows_sit_beside_measured_ones_in_one_table(tmp_path):
    real20, nature = _pairs(tmp_path / "real20"), _pairs(tmp_path / "nature20", count=2)
    other = _pairs(tmp_path / "kim2020", count=1)
    result = CliRunner().invoke(main, ["bench", "quality", "--data", str(real20), "--data", str(nature),
                                       "--data", str(other), "--published"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    rows = [line.split() for line in lines if line.startswith(("real20", "nature20", "kim2020"))]
    assert [r[:2] for r in rows if r[1] == "identity"] == [["real20", "identity"], ["nature20", "identity"],
                                                          ["kim2020", "identity"]]
    ours = [line for line in lines if line.startswith("real20") and "DECLARE (paper) [published]" in line]
    assert len(ours) == 1 and "0.8196" in ours[0] and "0.0187" in ours[0]
    assert any(line.startswith("nature20") and "IBCLN [published]" in line and "0.7845" in line
               for line in lines)
    assert not any(line.startswith("kim2020") and "[published]" in line for line in lines)
    assert "not measured here" in result.output


def test_quality_json_is_written_as_it_goes(tmp_path, monkeypatch):
    """A run interrupted on the second image keeps the first image's scores."""
    from declare.bench import methods as bench_methods

    calls = []

    def flaky(h=0.11):
        def run(x):
            calls.append(1)
            if len(calls) == 2:
                raise KeyboardInterrupt
            return x
        return run

    monkeypatch.setattr(bench_methods, "yang2019", flaky)
    data, out = _pairs(tmp_path / "mini"), tmp_path / "partial.json"
    result = CliRunner().invoke(main, ["bench", "quality", "--data", str(data), "--baseline", "yang2019",
                                       "--json", str(out)])
    assert result.exit_code == 130 and "interrupted; 4 scores so far are in" in result.output
    doc = json.loads(out.read_text())
    assert doc["complete"] is False
    assert {(r["image"], r["method"]) for r in doc["images"]} == {
        ("0.png", "identity"), ("0.png", "global-gain"), ("0.png", DEFAULT), ("0.png", "yang2019")}


def test_progress_counts_images_times_methods_even_for_bad_pairs(tmp_path):
    from declare.bench.quality import evaluate, pairs_in

    data = _pairs(tmp_path / "mini")
    (data / "blended" / "1.png").write_bytes(b"broken")
    steps, errors = [], []
    methods = [baseline_method("identity"), Method("half", lambda x: x * 0.5)]
    rows = list(evaluate("mini", pairs_in(data), methods, on_error=lambda *a: errors.append(a),
                         on_step=lambda image, method: steps.append((image, method))))
    assert len(steps) == 3 * 2 and len(errors) == 1 and [len(r) for r in rows] == [2, 2]


def test_ssim_choice_reaches_the_scores(tmp_path):
    data = _pairs(tmp_path / "mini")
    scores = {}
    for kind in ("gaussian", "paper"):
        result = CliRunner().invoke(main, ["bench", "quality", "--data", str(data), "--ssim", kind,
                                           "--json", "-"])
        assert result.exit_code == 0, result.output
        doc = json.loads(result.stdout)
        assert doc["ssim"] == kind
        scores[kind] = doc["summary"][0]["ssim"]
    assert scores["gaussian"] != pytest.approx(scores["paper"], abs=1e-4)


def _tradeoff_inputs(tmp_path):
    quality = {"summary": [
        {"dataset": "a", "method": "identity", "psnr": 20.0, "ssim": 0.80},
        {"dataset": "a", "method": "fast", "psnr": 21.0, "ssim": 0.82},
        {"dataset": "a", "method": "slow", "psnr": 19.0, "ssim": 0.79},
        {"dataset": "a/sub", "method": "fast", "psnr": 99.0, "ssim": 0.99},   # subsets are not sets
        {"dataset": "b", "method": "identity", "psnr": 10.0, "ssim": 0.30},
        {"dataset": "b", "method": "fast", "psnr": 10.5, "ssim": 0.29},
        {"dataset": "b", "method": "slow", "psnr": 13.0, "ssim": 0.35},
        {"dataset": "b", "method": "DECLARE [published]", "psnr": None, "ssim": 0.9}]}
    speed = {"rows": [{"method": "fast", "megapixels": 12.0, "seconds": 3.0},
                      {"method": "slow", "megapixels": 12.0, "seconds": 30.0},
                      {"method": "fast", "megapixels": 2.0, "seconds": 0.5}]}
    (tmp_path / "q.json").write_text(json.dumps(quality))
    (tmp_path / "s.json").write_text(json.dumps(speed))
    return ["bench", "tradeoff", "--quality", str(tmp_path / "q.json"), "--speed", str(tmp_path / "s.json")]


def test_tradeoff_averages_each_set_gain_over_identity(tmp_path):
    args = _tradeoff_inputs(tmp_path)
    result = CliRunner().invoke(main, args + ["--json", str(tmp_path / "t.json"), "--plot", str(tmp_path / "t.png")])
    assert result.exit_code == 0, result.output
    points = {p["method"]: p for p in json.loads((tmp_path / "t.json").read_text())["points"]}
    assert set(points) == {"fast", "slow"}
    assert points["fast"]["seconds"] == 3.0 and points["slow"]["seconds"] == 30.0
    assert points["fast"]["psnr_gain"] == pytest.approx(0.75)      # (+1 + 0.5) / 2
    assert points["fast"]["min_ssim_gain"] == pytest.approx(-0.01)
    assert points["slow"]["psnr_gain"] == pytest.approx(1.0)       # (-1 + 3) / 2
    assert points["slow"]["min_psnr_gain"] == pytest.approx(-1.0)
    assert Image.open(tmp_path / "t.png").size[0] > 400


def test_tradeoff_without_that_size_is_one_line(tmp_path):
    result = CliRunner().invoke(main, _tradeoff_inputs(tmp_path) + ["--megapixels", "24"])
    assert result.exit_code == 1
    assert "no 24 MP rows (they have: 2, 12)" in result.output
