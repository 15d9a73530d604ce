"""The training loop, the same for both stages (paper section 5.1).

As BasicSR's train.py, the loop only makes data, steps the stage, logs, validates and
saves; each of those is an object it is handed: the data mixture
(:mod:`declare.training.mixture`), the stage's objective (:mod:`declare.training.stages`),
the perceptual network (:mod:`declare.training.perceptual`), validation
(:mod:`declare.training.validation`) and the run folder (:mod:`declare.training.run_folder`:
log, checkpoints, resume, best weights). The loop owns optimizer steps, the learning-rate
schedule, the weight average, mixed precision and DistributedDataParallel. Under
``torchrun`` each process takes its share of every batch order and DistributedDataParallel
averages the gradients (gloo on the CPU, nccl on GPUs); only rank 0 writes.

Every sample, crop and batch order derives from (seed, epoch, index), so a run
resumed from a checkpoint continues exactly where it stopped.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist

from declare.device import DeviceError, pick_device
from declare.training.config import TrainConfig
from declare.training.ema import WeightAverage
from declare.training.mixture import DataMixture, MixtureError
from declare.training.perceptual import PerceptualError, choose_perceptual
from declare.training.run_folder import RunFolder, RunFolderError, resumes
from declare.training.stages import STAGES, StageError
from declare.training.validation import Validator
from declare_models import get_config


class TrainError(Exception):
    """A training run that cannot start; one line for the user."""


class Trainer:
    def __init__(self, cfg: TrainConfig):
        self.cfg = cfg
        self.rank, self.world = _init_distributed()
        self.device = self._device()
        try:
            self.model_cfg = dataclasses.replace(get_config(cfg.preset), **cfg.model_switches())
        except KeyError as exc:
            raise TrainError(exc.args[0]) from None
        torch.manual_seed(cfg.seed)
        try:
            self.data = DataMixture(cfg, self.device, self.rank, self.world)
            self.perceptual = choose_perceptual(cfg, self.device, self.rank)
            self.folder = RunFolder(cfg.out, cfg.stage, self.rank)
            self.stage = STAGES[cfg.stage](cfg, self.model_cfg, self.device, self.perceptual,
                                           resumes(cfg.resume, cfg.out))
        except (MixtureError, PerceptualError, StageError) as exc:
            raise TrainError(str(exc)) from None
        self.validator = Validator(self.data.val_set, self.data.real_sets, cfg.batch_size, self.device,
                                   self.model_cfg.keep_tone)
        self.model = self.stage.model
        self.ema = WeightAverage(self.model, cfg.ema_decay) if cfg.ema_decay else None
        self.optimizers = self.stage.optimizers()
        self.step, self.epoch = 0, 0
        self._bar_extra: dict[str, str] = {}
        try:
            if cfg.resume:
                counters = self.folder.resume(self.model, self.optimizers, self._extra_state())
                if counters is not None:
                    self.step, self.epoch = int(counters["step"]), int(counters["epoch"])
            else:
                self.folder.refuse_earlier_run()
        except RunFolderError as exc:
            raise TrainError(str(exc)) from None
        self.stage.wrap(self._wrap)
        self.amp_dtype = self._amp_dtype()
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)

    # the mixture's parts, by the names the rest of declare and its tests use
    train_sets = property(lambda self: self.data.train_sets)
    real_sets = property(lambda self: self.data.real_sets)
    bank = property(lambda self: self.data.bank)

    # --- set-up -----------------------------------------------------------------

    def _device(self) -> torch.device:
        if self.world > 1 and torch.cuda.is_available() and self.cfg.device in ("auto", "cuda"):
            local = int(os.environ.get("LOCAL_RANK", 0))
            torch.cuda.set_device(local)
            return torch.device("cuda", local)
        try:
            return pick_device(self.cfg.device)
        except DeviceError as exc:
            raise TrainError(str(exc)) from None

    def _amp_dtype(self) -> torch.dtype | None:
        if not (self.cfg.amp and self.device.type == "cuda"):
            return None
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16

    def _wrap(self, module):
        if self.world == 1:
            return module
        ids = [self.device.index] if self.device.type == "cuda" else None
        return torch.nn.parallel.DistributedDataParallel(module, device_ids=ids,
                                                         find_unused_parameters=True)

    # --- the loop ---------------------------------------------------------------

    @property
    def steps_per_epoch(self) -> int:
        return max(1, self.cfg.epoch_size // (self.cfg.batch_size * self.world))

    @property
    def total_steps(self) -> int:
        return self.cfg.steps if self.cfg.steps is not None else self.cfg.epochs * self.steps_per_epoch

    def run(self) -> Path | None:
        """Train to the end (or --max-minutes); returns the final checkpoint's path (rank 0),
        None when the time budget stopped it first."""
        from tqdm import tqdm

        self.folder.start(self.cfg.to_json())
        bar = tqdm(total=self.total_steps, initial=self.step, unit="step", dynamic_ncols=True,
                   disable=self.rank != 0 or self.cfg.quiet or not sys.stderr.isatty())
        started, done_at_start = time.perf_counter(), self.step
        window: dict[str, list[float]] = {}
        out_of_time = False
        while self.step < self.total_steps and not out_of_time:
            self.epoch = self.step // self.steps_per_epoch
            self._set_lr()
            for batch in self._batches():
                if self.cfg.lr_schedule == "cosine":
                    self._set_lr()
                terms = self._train_step(batch)
                self.step += 1
                for k, v in terms.items():
                    window.setdefault(k, []).append(v)
                bar.update(1)
                bar.set_postfix({**{k: f"{v:.3f}" for k, v in terms.items()}, **self._bar_extra})
                if self.step % self.cfg.log_every == 0 or self.step == self.total_steps:
                    rate = (time.perf_counter() - started) / (self.step - done_at_start)
                    self.folder.log({"step": self.step, "epoch": self.epoch, "lr": self._lr(),
                                     "loss": {k: float(np.mean(v)) for k, v in window.items()},
                                     "seconds_per_step": round(rate, 4)})
                    window = {}
                if self.step % self.cfg.val_every == 0:
                    self._validate_and_select()
                if self.step % self.cfg.checkpoint_every == 0:
                    self._save()
                out_of_time = self._out_of_time(started)
                if out_of_time or self.step >= self.total_steps or self.step % self.steps_per_epoch == 0:
                    break
        bar.close()
        if self.step % self.cfg.checkpoint_every:
            self._save()
        if out_of_time and self.step < self.total_steps:
            self.folder.log({"event": "time budget", "step": self.step, "minutes": self.cfg.max_minutes})
            return None
        if self.step % self.cfg.val_every:
            self._validate_and_select()
        final = (self.folder.finish(self.shipped_model, self._counters(), bool(self.real_sets))
                 if self.rank == 0 else None)
        if self.world > 1:
            dist.barrier()
        return final

    def _batches(self):
        return self.data.batches(self.step, self.epoch, self.steps_per_epoch)

    def _out_of_time(self, started: float) -> bool:
        """All ranks agree, so they stop at the same step."""
        if self.cfg.max_minutes is None:
            return False
        done = torch.tensor([int(time.perf_counter() - started > 60 * self.cfg.max_minutes)],
                            device=self.device)
        if self.world > 1:
            dist.all_reduce(done, op=dist.ReduceOp.MAX)
        return bool(done.item())

    def _set_lr(self) -> None:
        cfg = self.cfg
        if cfg.lr_schedule == "cosine":
            done = min(1.0, self.step / max(1, self.total_steps))
            lr = cfg.lr * (cfg.lr_decay + (1 - cfg.lr_decay) * 0.5 * (1 + np.cos(np.pi * done)))
        else:
            lr = cfg.lr * cfg.lr_decay ** (self.epoch // cfg.lr_decay_every)
        for opt in self.optimizers.values():
            for group in opt.param_groups:
                group["lr"] = lr

    def _lr(self) -> float:
        return self.optimizers["model"].param_groups[0]["lr"]

    def _autocast(self):
        return torch.autocast("cuda", dtype=self.amp_dtype, enabled=self.amp_dtype is not None)

    def _train_step(self, batch) -> dict[str, float]:
        self.model.train()
        with self._autocast():
            terms, after = self.stage.losses(batch, self._all_ranks_have)
        total = sum(w * v for w, v in terms.values())
        opt = self.optimizers["model"]
        opt.zero_grad(set_to_none=True)
        self.scaler.scale(total).backward()
        self.scaler.step(opt)
        report = {k: float(v.detach()) for k, (_, v) in terms.items()}
        if after is not None:
            report["discriminator"] = after(self.optimizers, self._autocast, self.scaler)
        self.scaler.update()
        if self.ema is not None:
            self.ema.update(self.model)
        report["total"] = float(total.detach())
        return report

    def _all_ranks_have(self, rows: torch.Tensor) -> bool:
        """True when every process's batch has multi-view samples, so that all of
        them take (or all skip) the collective discriminator step together."""
        have = torch.tensor([int(bool(rows.any()))], device=self.device)
        if self.world > 1:
            dist.all_reduce(have, op=dist.ReduceOp.MIN)
        return bool(have.item())

    # --- validation and checkpoints ----------------------------------------------

    @property
    def shipped_model(self):
        """What validation scores and the run ships: the weight average, or the weights."""
        return self.ema.model if self.ema is not None else self.model

    def _validate_and_select(self) -> None:
        if self.validator.val_set is not None:
            self.folder.log({"step": self.step, "val": self.validate()})
        if self.real_sets and self.rank == 0:
            real = self.validate_real(self.shipped_model)
            record = {"step": self.step, "val_real": real}
            if self.ema is not None:  # the raw weights beside the average, for the learning curve
                record["val_real_raw"] = self.validate_real(self.model)
            self.folder.log(record)
            self._bar_extra = {"real": f"{real['score']:+.2f}"}
            self.folder.select(real["score"], self.shipped_model, self._counters())

    def validate(self) -> dict[str, float]:
        """Mean PSNR/SSIM of the centre transmission on the held-out data, and of the input."""
        self.model.eval()

        def forward(frames: torch.Tensor) -> torch.Tensor:
            with self._autocast():
                return self.stage.validation_forward(frames)

        try:
            return self.validator.synthetic(forward)
        finally:
            self.model.train()

    def validate_real(self, model) -> dict:
        """Whole real photos through glass cleaned by ``model``, beside the input."""
        self.model.eval()

        def clean(x: torch.Tensor) -> torch.Tensor:
            with self._autocast():
                return self.stage.clean_photo(x, model)

        try:
            return self.validator.real(clean)
        finally:
            self.model.train()

    def _save(self) -> None:
        self.folder.save(self.step, self.model, self.optimizers, self._extra_state(), self._counters(),
                         self.cfg.keep_checkpoints, self.ema.model if self.ema is not None else None)

    def _extra_state(self) -> dict:
        return {**self.stage.extra_state(), **({"ema": self.ema} if self.ema is not None else {})}

    def _counters(self) -> dict:
        """What every checkpoint of this run records beside its weights."""
        return {"step": self.step, "epoch": self.epoch, "stage": self.cfg.stage, "preset": self.cfg.preset}


def _init_distributed() -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)
    if world > 1:
        return dist.get_rank(), dist.get_world_size()
    return 0, 1
