"""SEW-ResNet builders on SpikingJelly's neurons, layers and surrogates.

The paper's network (Fang et al. 2021, "Deep residual learning in spiking neural
networks"; §3 and §A.1 of the paper):

* direct input: the analog image is presented at each of ``T`` timesteps;
* stem ``Conv3x3(64) -> BN -> PLIF`` for 32x32 inputs, no max-pool (the ImageNet stem
  is 7x7/128 with a max-pool);
* basic blocks ``Conv3x3 -> BN -> PLIF -> Conv3x3 -> BN -> PLIF`` whose output is
  ADDed to the shortcut (SEW "ADD" connect function); where a block changes stride or
  width the shortcut is ``Conv1x1 -> BN -> PLIF``;
* global average pooling, a linear head, logits averaged over the ``T`` steps.

PLIF neurons (Fang et al. 2021, ICCV) have a learnable membrane time constant and use
the sigmoid surrogate gradient. The two PLIF layers of every block are the "residual
branch spiking layers" named ``L1``, ``L2``, ... in forward order; the stem is ``L0``.

The architecture is described by a plain dict (``arch``) so that it can be stored in
checkpoints and compared: :func:`build_model` makes the network from it.
"""
from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn as nn
from spikingjelly.activation_based import functional, layer, neuron, surrogate

__all__ = ["SEWResNet", "PLIF", "build_model", "sew_resnet18_arch", "small_sew_resnet_arch"]

_ARCH_KEYS = {"in_channels", "n_classes", "stem_channels", "widths", "blocks", "T",
              "init_tau", "surrogate_alpha", "v_threshold", "detach_reset"}


def sew_resnet18_arch(n_classes: int = 100, in_channels: int = 3) -> dict:
    """The paper's SEW-ResNet18: 8 blocks (2 per stage), widths 64-128-256-512, T=4."""
    return dict(in_channels=in_channels, n_classes=n_classes, stem_channels=64,
                widths=[64, 128, 256, 512], blocks=[2, 2, 2, 2], T=4, init_tau=2.0,
                surrogate_alpha=4.0, v_threshold=1.0, detach_reset=True)


def small_sew_resnet_arch(n_classes: int = 10, in_channels: int = 1,
                          widths=(16, 32, 64), blocks=(2, 2, 2), stem_channels: int = 16) -> dict:
    """A small network of the same block, neuron and T=4 code path (default profile)."""
    arch = sew_resnet18_arch(n_classes, in_channels)
    arch.update(stem_channels=stem_channels, widths=list(widths), blocks=list(blocks))
    return arch


class _ContiguousGrad(torch.autograd.Function):
    """Identity whose backward hands on a contiguous gradient (see :class:`PLIF`)."""

    @staticmethod
    def forward(ctx, x):
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return grad.contiguous()


class PLIF(neuron.ParametricLIFNode):
    """SpikingJelly's PLIF neuron with its membrane in float32 and contiguous tensors.

    - Under bf16 autocast (``amp``) the convolutions and BatchNorm hand on bf16 currents;
      SpikingJelly would then build the membrane ``v`` in bf16 (threshold and reset in bf16,
      its slow Python loop instead of the fused kernel). Here autocast is off inside the
      neuron and the input is cast to float32, so the dynamics are the fp32 ones; the 0/1
      spikes go on in float32 and the next convolution casts them (exactly) to bf16.
    - With ``channels_last`` the 5-D ``(T, N, C, H, W)`` currents are strided, and
      SpikingJelly's Triton kernel takes a strided layout as a compile-time constant: one
      compilation per layer shape, batch size and direction. The input is made contiguous
      (and, in backward, so is the incoming gradient), so each kernel compiles once.

    Same parameters and state dict as ``ParametricLIFNode``: checkpoints load either way.
    """

    def multi_step_forward(self, x_seq: torch.Tensor, *args, **kwargs):
        x = x_seq.float().contiguous()
        kind = x.device.type
        if kind in ("cpu", "cuda") and torch.is_autocast_enabled(kind):
            with torch.autocast(kind, enabled=False):
                out = super().multi_step_forward(x, *args, **kwargs)
        else:
            out = super().multi_step_forward(x, *args, **kwargs)
        return _ContiguousGrad.apply(out) if out.requires_grad else out


def _plif(arch: dict) -> PLIF:
    return PLIF(
        init_tau=arch["init_tau"], v_threshold=arch["v_threshold"],
        surrogate_function=surrogate.Sigmoid(alpha=arch["surrogate_alpha"]),
        detach_reset=arch["detach_reset"], step_mode="m")


def _conv_bn(cin: int, cout: int, k: int, stride: int) -> list[nn.Module]:
    return [layer.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False, step_mode="m"),
            layer.BatchNorm2d(cout, step_mode="m")]


class SEWBlock(nn.Module):
    """SEW basic block with the ADD connect function."""

    def __init__(self, cin: int, cout: int, stride: int, arch: dict):
        super().__init__()
        self.conv1, self.bn1 = _conv_bn(cin, cout, 3, stride)
        self.sn1 = _plif(arch)
        self.conv2, self.bn2 = _conv_bn(cout, cout, 3, 1)
        self.sn2 = _plif(arch)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(*_conv_bn(cin, cout, 1, stride), _plif(arch))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.sn1(self.bn1(self.conv1(x)))
        out = self.sn2(self.bn2(self.conv2(out)))
        identity = x if self.downsample is None else self.downsample(x)
        return out + identity


class SEWResNet(nn.Module):
    """SEW-ResNet in SpikingJelly's multi-step mode.

    ``forward`` takes images ``(N, C, H, W)`` and returns logits ``(N, n_classes)``
    averaged over the ``T`` timesteps. ``forward`` resets the neurons' state
    itself, so batches are independent.
    """

    def __init__(self, arch: dict):
        super().__init__()
        missing = _ARCH_KEYS - set(arch)
        if missing:
            raise ValueError(f"architecture dict lacks {sorted(missing)}")
        self.arch = dict(arch)
        self.T = int(arch["T"])
        conv, bn = _conv_bn(arch["in_channels"], arch["stem_channels"], 3, 1)
        self.stem = nn.Sequential(conv, bn, _plif(arch))
        blocks, cin = [], arch["stem_channels"]
        for stage, (width, n) in enumerate(zip(arch["widths"], arch["blocks"])):
            for b in range(n):
                stride = 2 if (stage > 0 and b == 0) else 1
                blocks.append(SEWBlock(cin, width, stride, arch))
                cin = width
        self.blocks = nn.Sequential(*blocks)
        self.fc = layer.Linear(cin, arch["n_classes"], step_mode="m")
        functional.set_step_mode(self, "m")

    def spiking_layers(self, include_stem: bool = False) -> "OrderedDict[str, nn.Module]":
        """The residual-branch PLIF layers ``L1``... in forward order (``L0``: stem)."""
        out = OrderedDict()
        if include_stem:
            out["L0"] = self.stem[2]
        i = 1
        for blk in self.blocks:
            out[f"L{i}"] = blk.sn1
            out[f"L{i + 1}"] = blk.sn2
            i += 2
        return out

    def reset_state(self) -> None:
        """Reset every neuron's membrane state (named so that ``reset_net`` skips it)."""
        functional.reset_net(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.reset_state()
        x = x.unsqueeze(0).expand(self.T, *x.shape)
        x = self.blocks(self.stem(x))
        # global average pooling as a mean: the same value as AdaptiveAvgPool2d((1, 1)),
        # whose CUDA backward has no deterministic implementation
        x = x.mean(dim=(3, 4))  # (T, N, C)
        return self.fc(x).mean(0)


def build_model(arch: dict) -> SEWResNet:
    """Make the network an ``arch`` dict describes."""
    return SEWResNet(arch)


def arch_summary(arch: dict) -> str:
    return (f"SEW-ResNet stem {arch['stem_channels']}, widths {list(arch['widths'])}, blocks "
            f"{list(arch['blocks'])}, in {arch['in_channels']} ch, {arch['n_classes']} classes, "
            f"T={arch['T']}")
