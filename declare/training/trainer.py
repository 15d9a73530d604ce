"""The training loop, the same for both stages (paper section 5.1).

What each stage optimises lives in :mod:`declare.training.stages`; this loop
owns the data, the optimizer steps, mixed precision, DistributedDataParallel,
checkpoints, logs and resume. Under ``torchrun`` each process takes its share
of every batch order and DistributedDataParallel averages the gradients (gloo
on the CPU, nccl on GPUs); only rank 0 writes logs and checkpoints.

Every sample, crop and batch order derives from (seed, epoch, index), so a run
resumed from a checkpoint continues exactly where it stopped.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch.utils.data import ConcatDataset, DataLoader, Subset

from declare.data.datasets import (DataError, PairFolder, SyntheticSequences,
                                   images_in, mixture_order, open_dataset, split_photos)
from declare.metrics import score
from declare.device import DeviceError, pick_device
from declare.training.config import TrainConfig
from declare.training.ema import WeightAverage
from declare.training.state import latest, load_state, save_state
from declare.training.validation import load_real_sets, score_real
from declare.training.stages import STAGES, StageError
from declare_models import get_config, losses




class TrainError(Exception):
    """A training run that cannot start; one line for the user."""


class Trainer:
    def __init__(self, cfg: TrainConfig):
        self.cfg = cfg
        self.rank, self.world = _init_distributed()
        self.device = self._device()
        self.out = Path(cfg.out)
        try:
            self.model_cfg = dataclasses.replace(get_config(cfg.preset), **cfg.model_switches())
        except KeyError as exc:
            raise TrainError(exc.args[0]) from None
        torch.manual_seed(cfg.seed)
        self.train_sets, self.val_set = self._datasets()
        self.bank = self._photo_bank()
        self.perceptual = self._perceptual()
        try:
            self.stage = STAGES[cfg.stage](cfg, self.model_cfg, self.device, self.perceptual)
        except StageError as exc:
            raise TrainError(str(exc)) from None
        self.model = self.stage.model
        self.ema = WeightAverage(self.model, cfg.ema_decay) if cfg.ema_decay else None
        self.optimizers = self.stage.optimizers()
        self.step, self.epoch = 0, 0
        self.best_score = None  # real-pair selection score of best.safetensors
        self._bar_extra: dict[str, str] = {}
        if cfg.resume:
            self._resume()
        elif latest(self.out / "checkpoints") or (self.out / f"{cfg.stage}.safetensors").exists():
            raise TrainError(f"{self.out} holds an earlier run: --resume to continue it, "
                             "or choose another --out")
        self.stage.wrap(self._wrap)
        self.amp_dtype = self._amp_dtype()
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)

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

    def _datasets(self):
        cfg = self.cfg
        if not cfg.data:
            raise TrainError("no training data: give --data FOLDER (sequences, pairs or photos)")
        train, val = [], []
        for root in cfg.data:
            try:
                t, v = self._open(root)
            except DataError as exc:
                raise TrainError(str(exc)) from None
            if cfg.stage == "teacher" and isinstance(_base(t), PairFolder):
                raise TrainError(f"{root}: image pairs have no views to teach from; "
                                 "use them for the student stage")
            train.append(t)
            if v is not None:
                val.append(v)
        self.real_sets, others = load_real_sets(cfg.val_data, cfg.val_size)
        held_out = cfg.held_out_pairs()
        if held_out:
            pair_roots = [r for r, t in zip(cfg.data, train) if isinstance(_base(t), PairFolder)]
            self.real_sets = load_real_sets(pair_roots, cfg.val_size, held_out, "-val")[0] + self.real_sets
        for root in others:
            try:
                val.append(open_dataset(root, cfg.crop, cfg.seed, False, cfg.val_count, synthetic=cfg.synthesis))
            except DataError as exc:
                raise TrainError(f"--val-data {exc}") from None
        return train, (ConcatDataset(val) if val else None)

    def _open(self, root: str):
        """A training dataset and its held-out validation part."""
        cfg = self.cfg
        probe = open_dataset(root, cfg.crop, cfg.seed, True, cfg.epoch_size, synthetic=cfg.synthesis)
        if isinstance(probe, SyntheticSequences):
            train_photos, val_photos = split_photos(images_in(Path(root)), cfg.val_fraction, cfg.seed)
            train = SyntheticSequences(train_photos, cfg.epoch_size, cfg.crop, cfg.seed, True, cfg.synthesis)
            val = (SyntheticSequences(val_photos, cfg.val_count, cfg.crop, cfg.seed + 1, False, cfg.synthesis)
                   if len(val_photos) >= 2 else None)
            return train, val
        held_out = cfg.held_out_pairs()
        if isinstance(probe, PairFolder) and held_out is not None:
            try:
                return PairFolder(root, cfg.crop, cfg.seed, True, exclude=held_out), None
            except DataError:
                raise TrainError(f"{root}: every pair is listed in --val-pairs") from None
        n = len(probe)
        order = np.random.default_rng(cfg.seed).permutation(n)
        n_val = min(cfg.val_count, int(round(n * cfg.val_fraction))) if n > 4 else 0
        val_base = type(probe)(root, cfg.crop, cfg.seed, augment=False)
        val = Subset(val_base, sorted(order[:n_val].tolist())) if n_val else None
        return Subset(probe, sorted(order[n_val:].tolist())), val

    def _photo_bank(self):
        """Synthetic batches made on the device; pairs and sequences beside them come from
        their (in-memory) datasets one sample at a time."""
        from declare.data.bank import PhotoBank

        sets = [d for d in self.train_sets if isinstance(d, SyntheticSequences)]
        if not (self.cfg.data_on_device and sets):
            return None
        if not PhotoBank.fits(sets):
            if self.rank == 0:
                print("declare train: note: the photos are too large to hold in memory at once; "
                      "the loader makes the batches", file=sys.stderr)
            return None
        return PhotoBank(sets, self.device)

    def _perceptual(self) -> losses.PerceptualLoss:
        """L_P's network: the one asked for, or (auto) the paper's VGG-19 if its weights
        are at hand, else none, loudly. The stand-ins are never chosen for the user: on
        real pairs neither trained a better student than no L_P (README)."""
        choice, vgg = self.cfg.perceptual, self.cfg.vgg_weights or _cached_vgg()
        if choice == "auto":
            choice = "vgg19" if vgg else "off"
        try:
            if choice == "off":
                loss = losses.PerceptualLoss()
                loss.reason = "turned off"
            else:
                loss = losses.PerceptualLoss(vgg if choice == "vgg19" else None, network=choice).to(self.device)
        except (OSError, ValueError, RuntimeError) as exc:
            raise TrainError(f"--vgg-weights: {exc}".splitlines()[0]) from None
        if not loss.enabled and self.cfg.perceptual not in ("auto", "off"):
            raise TrainError(f"--perceptual {self.cfg.perceptual}: {loss.reason}")
        if loss.enabled and self.rank == 0 and not self.cfg.quiet:
            print(f"declare train: perceptual loss L_P: {loss.reason}", file=sys.stderr)
        if not loss.enabled and self.cfg.perceptual == "auto" and self.rank == 0:
            print("declare train: WARNING: the perceptual loss L_P is OFF: no VGG-19 ImageNet "
                  "weights (give --vgg-weights FILE, or place vgg19.pth in the model cache); "
                  "--perceptual efficientnet-lite0 or hed use stand-ins (README)", file=sys.stderr)
        return loss

    def _wrap(self, module):
        if self.world == 1:
            return module
        ids = [self.device.index] if self.device.type == "cuda" else None
        return torch.nn.parallel.DistributedDataParallel(module, device_ids=ids,
                                                         find_unused_parameters=True)

    def _resume(self) -> None:
        path = latest(self.out / "checkpoints")
        if path is None and not (self.out / f"{self.cfg.stage}.safetensors").exists() \
                and not (self.out / "log.jsonl").exists():
            return  # nothing there yet: --resume starts the run (one command for every call)
        if path is None:
            raise TrainError(f"--resume: no checkpoint in {self.out / 'checkpoints'}")
        counters = load_state(path, self.model, self.optimizers, self._extra_state())
        self.step, self.epoch = int(counters["step"]), int(counters["epoch"])
        best = self.out / "best.safetensors"
        if best.exists():
            from declare.checkpoint import read_metadata

            meta = read_metadata(best)
            if int(meta.get("step", 0)) <= self.step and "val_score" in meta:
                self.best_score = float(meta["val_score"])
        self._forget_log_after(self.step)
        self._log({"event": "resume", "step": self.step, "from": str(path)})

    def _forget_log_after(self, step: int) -> None:
        """Drop log records past the checkpoint: those steps are about to be redone."""
        path = self.out / "log.jsonl"
        if self.rank != 0 or not path.exists():
            return
        lines = path.read_text().splitlines()
        kept = [line for line in lines if line.strip() and json.loads(line).get("step", 0) <= step]
        path.write_text("".join(line + "\n" for line in kept))

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

        if self.rank == 0:
            self.out.mkdir(parents=True, exist_ok=True)
            (self.out / "config.json").write_text(self.cfg.to_json())
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
                    self._log({"step": self.step, "epoch": self.epoch, "lr": self._lr(),
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
            self._log({"event": "time budget", "step": self.step, "minutes": self.cfg.max_minutes})
            return None
        if self.step % self.cfg.val_every:
            self._validate_and_select()
        final = self._finish() if self.rank == 0 else None
        if self.world > 1:
            dist.barrier()
        return final

    def _out_of_time(self, started: float) -> bool:
        """All ranks agree, so they stop at the same step."""
        if self.cfg.max_minutes is None:
            return False
        done = torch.tensor([int(time.perf_counter() - started > 60 * self.cfg.max_minutes)],
                            device=self.device)
        if self.world > 1:
            dist.all_reduce(done, op=dist.ReduceOp.MAX)
        return bool(done.item())

    def _validate_and_select(self) -> None:
        if self.val_set is not None:
            self._log({"step": self.step, "val": self.validate()})
        if self.real_sets and self.rank == 0:
            real = self.validate_real(self.shipped_model)
            record = {"step": self.step, "val_real": real}
            if self.ema is not None:  # the raw weights beside the average, for the learning curve
                record["val_real_raw"] = self.validate_real(self.model)
            self._log(record)
            self._bar_extra = {"real": f"{real['score']:+.2f}"}
            if self.best_score is None or real["score"] > self.best_score:
                from declare.checkpoint import save_checkpoint

                self.best_score = real["score"]
                save_checkpoint(self.out / "best.safetensors", self.shipped_model,
                                metadata={**self._counters(), "val_score": real["score"]})

    def _finish(self) -> Path:
        """The stage's weights: with real-pair validation, the best-scoring ones
        (the last ones beside them as STAGE-last); otherwise the last."""
        import shutil

        from declare.checkpoint import save_checkpoint

        final = self.out / f"{self.cfg.stage}.safetensors"
        if self.real_sets and (self.out / "best.safetensors").exists():
            save_checkpoint(self.out / f"{self.cfg.stage}-last.safetensors", self.shipped_model,
                            metadata=self._counters())
            shutil.copyfile(self.out / "best.safetensors", final)
            return final
        return save_checkpoint(final, self.shipped_model, metadata=self._counters())

    def _batches(self):
        cfg = self.cfg
        sizes = [len(d) for d in self.train_sets]
        weights = cfg.data_weights or [1.0] * len(sizes)
        per_epoch = self.steps_per_epoch * cfg.batch_size * self.world
        order = mixture_order(sizes, weights, per_epoch, cfg.seed, self.epoch)
        mine = order[self.rank::self.world]
        start = (self.step % self.steps_per_epoch) * cfg.batch_size
        for d in self.train_sets:
            (d.dataset if isinstance(d, Subset) else d).set_epoch(self.epoch)
        if self.bank is not None:
            offsets = np.cumsum([0] + sizes[:-1])
            which = np.searchsorted(offsets, mine[start:], side="right") - 1
            items = [(int(d), int(i - offsets[d])) for d, i in zip(which, mine[start:])]
            for k in range(0, len(items) - cfg.batch_size + 1, cfg.batch_size):
                yield self._mixed_batch(items[k:k + cfg.batch_size])
            return
        data = Subset(ConcatDataset(self.train_sets), mine[start:])
        loader = DataLoader(data, batch_size=cfg.batch_size, shuffle=False, drop_last=True,
                            num_workers=cfg.workers, pin_memory=self.device.type == "cuda")
        for batch in loader:
            yield {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}

    def _mixed_batch(self, items: list[tuple[int, int]]) -> dict[str, torch.Tensor]:
        """One batch: the synthetic items rendered by the bank, the others loaded, concatenated."""
        banked = [d for d in self.train_sets if isinstance(d, SyntheticSequences)]
        synthetic = [(banked.index(self.train_sets[d]), i) for d, i in items
                     if isinstance(self.train_sets[d], SyntheticSequences)]
        parts = [self.bank.batch(synthetic)] if synthetic else []
        others = [self.train_sets[d][i] for d, i in items if not isinstance(self.train_sets[d], SyntheticSequences)]
        if others:
            loaded = torch.utils.data.default_collate(others)
            parts.append({k: v.to(self.device) for k, v in loaded.items()})
        return parts[0] if len(parts) == 1 else {k: torch.cat([p[k] for p in parts]) for k in parts[0]}

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

    # --- validation, logs, checkpoints -------------------------------------------

    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        """Mean PSNR/SSIM of the centre transmission on the held-out data, and of the input."""
        self.model.eval()
        scores = {"psnr": [], "ssim": [], "input_psnr": []}
        for batch in DataLoader(self.val_set, batch_size=self.cfg.batch_size):
            frames = batch["frames"].to(self.device)
            with self._autocast():
                pred = self.stage.validation_forward(frames).float().clamp(0, 1).cpu()
            for k in range(pred.shape[0]):
                p, t = pred[k].permute(1, 2, 0).numpy(), batch["t"][k, 1].permute(1, 2, 0).numpy()
                for name, value in score(p, t, ("psnr", "ssim")).items():
                    scores[name].append(value)
                scores["input_psnr"].append(score(batch["frames"][k, 1].permute(1, 2, 0).numpy(), t, ("psnr",))["psnr"])
        self.model.train()
        return {k: round(float(np.mean(v)), 4) for k, v in scores.items()}

    def validate_real(self, model) -> dict:
        """Whole real photos through glass cleaned by ``model``, beside the input
        (declare.training.validation)."""
        self.model.eval()

        def clean(x: torch.Tensor) -> torch.Tensor:
            with self._autocast():
                return self.stage.clean_photo(x, model)

        try:
            return score_real(clean, self.real_sets, self.device)
        finally:
            self.model.train()

    def _log(self, record: dict) -> None:
        if self.rank != 0:
            return
        self.out.mkdir(parents=True, exist_ok=True)
        with open(self.out / "log.jsonl", "a") as f:
            f.write(json.dumps(record) + "\n")

    def _save(self) -> None:
        if self.rank != 0:
            return
        save_state(self.out / "checkpoints", self.step, self.model, self.optimizers, self._extra_state(),
                   self._counters(), self.cfg.keep_checkpoints)

    def _extra_state(self) -> dict:
        return {**self.stage.extra_state(), **({"ema": self.ema} if self.ema is not None else {})}

    @property
    def shipped_model(self):
        """What validation scores and the run ships: the weight average, or the weights."""
        return self.ema.model if self.ema is not None else self.model

    def _counters(self) -> dict:
        """What every checkpoint of this run records beside its weights."""
        return {"step": self.step, "epoch": self.epoch, "stage": self.cfg.stage, "preset": self.cfg.preset}


def _base(dataset):
    """The dataset behind a Subset."""
    return dataset.dataset if isinstance(dataset, Subset) else dataset


def _init_distributed() -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)
    if world > 1:
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _cached_vgg() -> str | None:
    from declare.weights import cache_dir

    for name in ("vgg19.safetensors", "vgg19.pth"):
        path = cache_dir() / name
        if path.is_file():
            return str(path)
    return None
