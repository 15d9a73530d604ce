"""Weights: download, resume, verify, cache and offline use against a local server.

The server runs on 127.0.0.1 in a thread started by the test; nothing else is
contacted. Each failure mode is a mode of that server.
"""

import dataclasses
import hashlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from declare import registry, weights
from declare.checkpoint import save_checkpoint
from declare.cli import main
from declare.registry import ModelEntry
from declare.weights import WeightsError, fetch
from declare_models import Student, get_config
from photos import copy_real


class Server:
    """Serves files with Range support; ``mode`` makes it misbehave on purpose."""

    def __init__(self):
        self.files, self.mode, self.requests = {}, "ok", []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                outer.requests.append((self.path, self.headers.get("Range")))
                data = outer.files.get(self.path)
                if data is None:
                    self.send_error(404)
                    return
                if outer.mode == "hang":
                    time.sleep(3)  # longer than the client's timeout, bounded
                    return
                start = 0
                rng = self.headers.get("Range")
                if rng and outer.mode != "no-range":
                    start = int(rng.split("=")[1].split("-")[0])
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if outer.mode == "cut":
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self):
        if self.thread.is_alive():
            self.httpd.shutdown()
            self.httpd.server_close()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def model_bytes(tmp_path_factory):
    """A real checkpoint of several download chunks (the small preset, ~450 KB)."""
    torch.manual_seed(0)
    path = save_checkpoint(tmp_path_factory.mktemp("m") / "m.safetensors", Student(get_config("small")))
    return path.read_bytes()


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("DECLARE_CACHE_DIR", str(folder))
    monkeypatch.delenv("DECLARE_OFFLINE", raising=False)
    monkeypatch.delenv("DECLARE_WEIGHTS_URL", raising=False)
    return folder


def register(monkeypatch, server, data, name="test-model", sha=None, urls=None):
    server.files[f"/files/{name}.safetensors"] = data
    entry = ModelEntry(name=name, arch="student", preset="small",
                       urls=tuple(urls or [f"{server.base}/files/{name}.safetensors"]),
                       sha256=sha or hashlib.sha256(data).hexdigest(), size=len(data),
                       licence="MIT", description="a tiny test model")
    monkeypatch.setitem(registry.MODELS, name, entry)
    return entry


def test_full_download_then_cache_hit_with_the_server_down(server, monkeypatch, model_bytes, cache):
    entry = register(monkeypatch, server, model_bytes)
    path = fetch(entry, progress=False)
    assert path == cache / "test-model.safetensors"
    assert path.read_bytes() == model_bytes
    assert not list(cache.glob("*.part"))
    server.stop()
    assert fetch(entry, progress=False) == path
    monkeypatch.setenv("DECLARE_OFFLINE", "1")
    assert fetch(entry, progress=False) == path


def test_download_resumes_after_the_server_cuts_the_connection(server, monkeypatch, model_bytes, cache):
    entry = register(monkeypatch, server, model_bytes)
    server.mode = "cut"
    with pytest.raises(WeightsError, match="kept for resuming"):
        fetch(entry, progress=False)
    part = cache / "test-model.safetensors.part"
    half = part.stat().st_size
    assert 0 < half < len(model_bytes)
    server.mode = "ok"
    path = fetch(entry, progress=False)
    assert path.read_bytes() == model_bytes
    assert server.requests[-1][1] == f"bytes={half}-"


def test_server_that_ignores_range_restarts_cleanly(server, monkeypatch, model_bytes, cache):
    entry = register(monkeypatch, server, model_bytes)
    (cache).mkdir(parents=True)
    (cache / "test-model.safetensors.part").write_bytes(model_bytes[:100])
    server.mode = "no-range"
    assert fetch(entry, progress=False).read_bytes() == model_bytes


def test_checksum_mismatch_deletes_the_download(server, monkeypatch, model_bytes, cache):
    entry = register(monkeypatch, server, model_bytes, sha="0" * 64)
    with pytest.raises(WeightsError, match="checksum mismatch.*deleted"):
        fetch(entry, progress=False)
    assert not list(cache.glob("test-model*.safetensors*"))


def test_404_names_the_file_to_place_by_hand(server, monkeypatch, model_bytes, cache):
    entry = register(monkeypatch, server, model_bytes)
    server.files.clear()
    with pytest.raises(WeightsError) as info:
        fetch(entry, progress=False)
    message = str(info.value)
    assert "HTTP 404" in message and str(cache / "test-model.safetensors") in message
    assert entry.sha256 in message


def test_hanging_server_times_out(server, monkeypatch, model_bytes):
    entry = register(monkeypatch, server, model_bytes)
    server.mode = "hang"
    start = time.monotonic()
    with pytest.raises(WeightsError, match="timed out"):
        fetch(entry, progress=False, timeout=(2, 0.5))
    assert time.monotonic() - start < 2.5


def test_offline_without_cache_says_what_to_do(server, monkeypatch, model_bytes, cache):
    entry = register(monkeypatch, server, model_bytes)
    monkeypatch.setenv("DECLARE_OFFLINE", "1")
    with pytest.raises(WeightsError, match="DECLARE_OFFLINE.*place it at"):
        fetch(entry, progress=False)
    assert server.requests == []


def test_mirrors_in_order_and_the_mirror_override(server, monkeypatch, model_bytes, cache):
    name = "test-model"
    good = f"{server.base}/files/{name}.safetensors"
    entry = register(monkeypatch, server, model_bytes, urls=[f"{server.base}/gone/{name}.safetensors", good])
    assert fetch(entry, progress=False).read_bytes() == model_bytes
    assert [p for p, _ in server.requests] == [f"/gone/{name}.safetensors", f"/files/{name}.safetensors"]
    (cache / f"{name}.safetensors").unlink()
    server.files[f"/mirror/{name}.safetensors"] = model_bytes
    monkeypatch.setenv("DECLARE_WEIGHTS_URL", f"{server.base}/mirror/")
    assert fetch(entry, progress=False).read_bytes() == model_bytes
    assert server.requests[-1][0] == f"/mirror/{name}.safetensors"


def test_a_pickle_from_the_network_is_refused(server, monkeypatch, tmp_path, cache):
    pickled = tmp_path / "model.pt"
    torch.save(Student(get_config("tiny")).state_dict(), pickled)
    entry = register(monkeypatch, server, pickled.read_bytes())
    with pytest.raises(WeightsError, match="not a safetensors file"):
        fetch(entry, progress=False)
    assert not list(cache.glob("test-model.safetensors*"))


def test_concurrent_fetches_download_once(server, monkeypatch, model_bytes):
    entry = register(monkeypatch, server, model_bytes)
    results, errors = [], []

    def get():
        try:
            results.append(fetch(entry, progress=False))
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=get) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors and len(set(results)) == 1
    assert results[0].read_bytes() == model_bytes
    assert len(server.requests) == 1


def test_damaged_cache_is_fetched_again(server, monkeypatch, model_bytes, cache):
    entry = register(monkeypatch, server, model_bytes)
    path = fetch(entry, progress=False)
    path.write_bytes(b"x" * len(model_bytes))
    assert fetch(entry, progress=False).read_bytes() == model_bytes
    assert len(server.requests) == 2


def test_models_commands_and_model_by_name(server, monkeypatch, model_bytes, cache, tmp_path):
    register(monkeypatch, server, model_bytes)
    runner = CliRunner()
    listed = runner.invoke(main, ["models", "list"])
    assert listed.exit_code == 0 and "test-model" in listed.output and " - " in listed.output
    missing = runner.invoke(main, ["models", "path", "test-model"])
    assert missing.exit_code == 1 and str(cache / "test-model.safetensors") in missing.stdout
    got = runner.invoke(main, ["models", "download", "test-model", "-q"])
    assert got.exit_code == 0 and got.stdout.strip() == str(cache / "test-model.safetensors")
    assert "cached" in runner.invoke(main, ["models", "list"]).output
    photo = copy_real(tmp_path)
    cleaned = runner.invoke(main, [str(photo), "--model", "test-model", "-q"])
    assert cleaned.exit_code == 0, cleaned.output
    assert photo.with_name(photo.stem + ".declare.jpg").exists()
    removed = runner.invoke(main, ["models", "remove", "test-model"])
    assert removed.exit_code == 0 and not (cache / "test-model.safetensors").exists()
    unknown = runner.invoke(main, ["models", "download", "nope"])
    assert unknown.exit_code == 1 and "unknown model 'nope'" in unknown.output


def test_nothing_registered_yet_is_said_plainly(monkeypatch, cache):
    monkeypatch.setattr(registry, "DEFAULT_MODEL", None)
    with pytest.raises(WeightsError, match="no trained model is installed"):
        weights.resolve(None)


def test_bundled_weights_work_with_no_network(monkeypatch, tmp_path, model_bytes, cache):
    shipped = tmp_path / "package-weights"
    shipped.mkdir()
    (shipped / "small-fp16.safetensors").write_bytes(model_bytes)
    entry = ModelEntry(name="shipped", arch="student", preset="small", urls=(),
                       sha256=hashlib.sha256(model_bytes).hexdigest(),
                       size=len(model_bytes), licence="MIT", description="ships inside the package",
                       bundled="small-fp16.safetensors")
    monkeypatch.setitem(registry.MODELS, "shipped", entry)
    monkeypatch.setattr(registry, "DEFAULT_MODEL", "shipped")
    monkeypatch.setattr(weights, "PACKAGE_WEIGHTS", shipped)
    monkeypatch.setenv("DECLARE_OFFLINE", "1")
    assert weights.resolve(None) == shipped / "small-fp16.safetensors"
    assert not cache.exists()


@pytest.mark.parametrize("name, arch", [(registry.DEFAULT_MODEL, "student"),
                                        (registry.DEFAULT_BURST_MODEL, "teacher")])
def test_the_shipped_defaults_are_intact_and_registered(name, arch):
    from declare.checkpoint import read_metadata

    assert name in registry.MODELS
    entry = registry.MODELS[name]
    path = weights.bundled_path(entry)
    assert path is not None and path.stat().st_size == entry.size
    assert weights.sha256_of(path) == entry.sha256
    meta = read_metadata(path)
    assert meta["arch"] == entry.arch == arch
    assert meta["stage"] == arch and meta["preset"] == entry.preset
    assert path.stat().st_size < 5 * 2 ** 20  # small enough to ship inside the package


def test_the_shipped_default_is_listed_and_never_removed(cache):
    runner = CliRunner()
    listing = runner.invoke(main, ["models", "list"])
    default = registry.DEFAULT_MODEL
    assert listing.exit_code == 0 and f"{default}*" in listing.output and "bundled" in listing.output
    result = runner.invoke(main, ["models", "remove", default])
    assert result.exit_code == 0 and "ships inside the package" in result.output
    assert weights.bundled_path(registry.MODELS[default]).is_file()


@pytest.mark.parametrize("mode", ["404", "ok"])
def test_no_lock_file_is_left_in_the_cache(server, monkeypatch, model_bytes, cache, mode):
    entry = register(monkeypatch, server, model_bytes)
    if mode == "404":
        server.files.clear()
        with pytest.raises(WeightsError):
            fetch(entry, progress=False)
    else:
        fetch(entry, progress=False)
    assert not list(cache.glob("*.lock"))


def test_downloading_an_unknown_name_lists_the_names_only(cache):
    result = CliRunner().invoke(main, ["models", "download", "nonexistent"])
    assert result.exit_code != 0
    assert "unknown model 'nonexistent'" in result.output and "checkpoint" not in result.output


def test_one_lookup_says_what_a_name_is():
    medium = registry.lookup("medium")
    assert medium.entry is registry.MODELS["medium"] and medium.preset == medium.entry.preset
    from declare_models import get_config

    assert medium.config == get_config(medium.entry.preset)  # the registered model names its preset
    tiny = registry.lookup("tiny")
    assert tiny.entry is None and tiny.config == get_config("tiny")
    with pytest.raises(KeyError, match="neither a registered model"):
        registry.lookup("nonexistent")
    shown = CliRunner().invoke(main, ["models", "show", "medium"])
    assert shown.exit_code == 0 and "preset medium" in shown.output and "student parameters" in shown.output
    assert CliRunner().invoke(main, ["models", "show", "nonexistent"]).exit_code == 1


def test_every_command_takes_the_default_from_one_rule(monkeypatch):
    monkeypatch.setattr(registry, "DEFAULT_MODEL", "small")
    assert registry.default_model() == "small"
    assert weights.resolve(None).name == registry.MODELS["small"].bundled
    from declare.bench.methods import default_spec

    assert default_spec(trained=True) == ("small", None) and default_spec()[0] == "small"


def test_a_downloaded_model_brings_its_graphs(server, monkeypatch, model_bytes, cache, tmp_path):
    """Graphs lie beside the checkpoint at the mirror; download, verify, run and remove them."""
    from declare.export import export_checkpoint
    from declare.registry import ModelFile

    source = tmp_path / "src" / "test-model.safetensors"
    source.parent.mkdir()
    source.write_bytes(model_bytes)
    graphs = export_checkpoint(source)
    for g in graphs:
        server.files[f"/files/{g.name}"] = g.read_bytes()
    entry = register(monkeypatch, server, model_bytes)
    entry = dataclasses.replace(entry, graphs=tuple(
        ModelFile(g.name, hashlib.sha256(g.read_bytes()).hexdigest(), g.stat().st_size) for g in graphs))
    monkeypatch.setitem(registry.MODELS, "test-model", entry)
    runner = CliRunner()
    got = runner.invoke(main, ["models", "download", "test-model", "-q"])
    assert got.exit_code == 0, got.output
    assert got.stdout.split() == [str(cache / n) for n in
                                  ("test-model.safetensors", "test-model.onnx", "test-model.statistics.onnx")]
    server.stop()
    photo = copy_real(tmp_path)
    cleaned = runner.invoke(main, [str(photo), "--model", "test-model", "--engine", "onnx", "-q"])
    assert cleaned.exit_code == 0, cleaned.output
    removed = runner.invoke(main, ["models", "remove", "test-model"])
    assert removed.exit_code == 0 and not list(cache.glob("test-model*"))


def test_a_graph_that_fails_its_checksum_is_deleted(server, monkeypatch, model_bytes, cache, tmp_path):
    from declare.registry import ModelFile

    entry = register(monkeypatch, server, model_bytes)
    server.files["/files/test-model.onnx"] = b"not the graph that was registered"
    entry = dataclasses.replace(entry, graphs=(ModelFile("test-model.onnx", "0" * 64, 33),))
    with pytest.raises(WeightsError, match="checksum mismatch"):
        fetch(entry.graph_entries()[0], progress=False)
    assert not list(cache.glob("test-model.onnx*"))


def test_models_list_says_what_each_is_for_without_history():
    """Descriptions are what ``models list`` shows: what the model is for, no dated
    changelog ('the default until ...'); which ones are defaults is computed and starred."""
    import re

    for entry in registry.MODELS.values():
        assert not re.search(r"\b20\d\d-\d\d-\d\d\b", entry.description), entry.name
        assert "default" not in entry.description, entry.name


def test_shipping_weights_names_the_bundled_file_it_replaces():
    """scripts/ship_default.py overwrites a bundled file: it has no default name (it once
    defaulted to small-fp16, no longer the default model)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("ship_default", Path(__file__).resolve().parents[1] / "scripts" / "ship_default.py")
    ship = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ship)
    with pytest.raises(SystemExit):
        ship.parse(["runs/x/student.safetensors"])
    assert ship.parse(["x.safetensors", "--name", "medium-fp16.safetensors"]).name == "medium-fp16.safetensors"


def test_the_manifest_of_bundled_files_is_what_ships(tmp_path):
    """registry.py takes each bundled file's checksum from declare/bundled/manifest.json,
    which ship_default.py writes: every shipped file is in it, and matches."""
    import importlib.util

    folder = registry.MANIFEST.parent
    shipped = {p.name for p in folder.iterdir() if p.suffix in (".safetensors", ".onnx")}
    manifest = registry._manifest()
    assert set(manifest) == shipped
    for name, entry in manifest.items():
        assert weights.sha256_of(folder / name) == entry["sha256"] and (folder / name).stat().st_size == entry["size"]
    spec = importlib.util.spec_from_file_location("ship_default", Path(__file__).resolve().parents[1] / "scripts"
                                                  / "ship_default.py")
    ship = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ship)
    own = tmp_path / "manifest.json"
    own.write_text('{"kept.onnx": {"sha256": "00", "size": 1}}')
    (tmp_path / "new.onnx").write_bytes(b"graph")
    ship.record([tmp_path / "new.onnx"], own)
    written = __import__("json").loads(own.read_text())
    assert written["kept.onnx"]["size"] == 1 and written["new.onnx"]["size"] == 5
    assert written["new.onnx"]["sha256"] == __import__("hashlib").sha256(b"graph").hexdigest()


def test_one_parser_reads_every_kind_of_model_string(tmp_path, checkpoints):
    """name, preset:NAME, a .json size file, a checkpoint path, an .onnx graph: read once
    (declare.model_name), and the session loads each the way its kind says."""
    from declare.model_name import parse_model_name
    from declare.session import Session

    assert parse_model_name(None) == parse_model_name(registry.DEFAULT_MODEL)
    assert parse_model_name(None, burst=True).name == registry.DEFAULT_BURST_MODEL
    assert parse_model_name("small").kind == "registered"
    assert (parse_model_name("preset:tiny").kind, parse_model_name("preset:tiny").name) == ("preset", "tiny")
    assert parse_model_name("sizes/wide.json").kind == "preset"
    assert parse_model_name("runs/x/student.safetensors").kind == "checkpoint"
    assert parse_model_name("mine.onnx").kind == "graph"
    student = checkpoints["student"]
    assert parse_model_name(str(student)).path == student
    fresh = Session.load("preset:tiny", "cpu")
    assert fresh.engine.kind == "student"
    graph = Session.load(str(student.with_suffix(".onnx")), "cpu")
    assert graph.engine.name == "onnx"
    with pytest.raises(Exception, match="no such checkpoint file"):
        Session.load(str(tmp_path / "missing.safetensors"), "cpu")
