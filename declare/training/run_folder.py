"""A run's folder: its log, checkpoints, resume, the best weights and the final ones.

``OUT/log.jsonl`` (one JSON record per line), ``OUT/config.json``, ``OUT/checkpoints/``
(the newest step-N pairs of weights and trainer state), ``OUT/best.safetensors`` (the
weights real-pair validation scored best) and ``OUT/STAGE.safetensors`` (what the run
ships: the best, with the last beside it as STAGE-last, or the last). Only rank 0 writes.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from declare.checkpoint import read_metadata, save_checkpoint
from declare.training.state import latest, load_state, save_state


def resumes(resume: bool, out: str | Path) -> bool:
    """Whether ``--resume`` goes on from a checkpoint in ``out`` (else the run starts there):
    the weights, the frozen ImageNet ones too, then come from that checkpoint."""
    return resume and latest(Path(out) / "checkpoints") is not None


class RunFolderError(Exception):
    """A folder that cannot take this run; one line for the user."""


class RunFolder:
    def __init__(self, out: str | Path, stage: str, rank: int = 0):
        self.path, self.stage, self.rank = Path(out), stage, rank
        self.best_score: float | None = None  # selection score of best.safetensors

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    @property
    def final(self) -> Path:
        return self.path / f"{self.stage}.safetensors"

    def refuse_earlier_run(self) -> None:
        if latest(self.checkpoints) or self.final.exists():
            raise RunFolderError(f"{self.path} holds an earlier run: --resume to continue it, "
                                 "or choose another --out")

    def start(self, config_json: str) -> None:
        if self.rank == 0:
            self.path.mkdir(parents=True, exist_ok=True)
            (self.path / "config.json").write_text(config_json)

    def log(self, record: dict) -> None:
        if self.rank != 0:
            return
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / "log.jsonl", "a") as f:
            f.write(json.dumps(record) + "\n")

    def resume(self, model, optimizers, modules) -> dict | None:
        """Restore the newest checkpoint into the given objects; its counters, or None when
        the folder holds no run yet (--resume starts it: one command for every call)."""
        path = latest(self.checkpoints)
        if path is None and not self.final.exists() and not (self.path / "log.jsonl").exists():
            return None
        if path is None:
            raise RunFolderError(f"--resume: no checkpoint in {self.checkpoints}")
        try:
            counters = load_state(path, model, optimizers, modules)
        except ValueError as exc:
            raise RunFolderError(f"--resume: {exc}") from None
        step = int(counters["step"])
        best = self.path / "best.safetensors"
        if best.exists():
            meta = read_metadata(best)
            if int(meta.get("step", 0)) <= step and "val_score" in meta:
                self.best_score = float(meta["val_score"])
        self._forget_log_after(step)
        self.log({"event": "resume", "step": step, "from": str(path)})
        return counters

    def _forget_log_after(self, step: int) -> None:
        """Drop log records past the checkpoint: those steps are about to be redone."""
        path = self.path / "log.jsonl"
        if self.rank != 0 or not path.exists():
            return
        lines = path.read_text().splitlines()
        kept = [line for line in lines if line.strip() and json.loads(line).get("step", 0) <= step]
        path.write_text("".join(line + "\n" for line in kept))

    def save(self, step: int, model, optimizers, modules, counters: dict, keep: int, averaged=None) -> None:
        if self.rank == 0:
            save_state(self.checkpoints, step, model, optimizers, modules, counters, keep, averaged)

    def select(self, score: float, model, counters: dict) -> None:
        """Keep ``model`` as best.safetensors when its score beats the best so far."""
        if self.rank == 0 and (self.best_score is None or score > self.best_score):
            self.best_score = score
            save_checkpoint(self.path / "best.safetensors", model, metadata={**counters, "val_score": score})

    def finish(self, model, counters: dict, selected: bool) -> Path:
        """The stage's weights: with real-pair selection, the best-scoring ones (the last
        beside them as STAGE-last); otherwise the last."""
        if selected and (self.path / "best.safetensors").exists():
            save_checkpoint(self.path / f"{self.stage}-last.safetensors", model, metadata=counters)
            shutil.copyfile(self.path / "best.safetensors", self.final)
            return self.final
        return save_checkpoint(self.final, model, metadata=counters)
