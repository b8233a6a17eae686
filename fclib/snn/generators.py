"""Small image generators whose latent grids MANGO searches (the MANGO paper, Pospelov et
al., "Fast gradient-free activation maximization for neurons in spiking neural networks",
§3.2 and Appendix B).

No pretrained weights can be downloaded, so both are trained here on the training digits:

* :func:`train_gan` — an SN-GAN (Miyato et al. 2018): hinge loss, every discriminator layer
  spectrally normalised; latent ``d`` coordinates (default 16) searched on a grid of ``n``
  points (default 64) on [-4, 4] (the paper's code uses d = 128 on CIFAR).
* :func:`train_vqvae` — a VQ-VAE (van den Oord et al. 2017): 4 × 4 code positions, 32
  codewords, straight-through gradients, commitment 0.25; its latent is the code index grid
  (d = 16 positions, n = 32 codewords).

Both generate the dataset's native 8 × 8 digits in [0, 1] and upsample them exactly as
:func:`fclib.io.datasets.load_digits` does (``ndimage.zoom(order=1)`` is linear, so it is
applied as a fixed matrix, then clipped to [0, 1]). Trained generators are saved under a
key of their parameters and code (written to a temporary name and renamed).
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from fclib._util import seed_of
from fclib.io import datasets as fdata
from fclib.snn.device import fp32_inference, model_device
from fclib.snn.mei import one_thread
from fclib.store import artefact_key, cached

__all__ = ["LatentGenerator", "digits_native", "downsample_native", "upsample_matrix",
           "train_gan", "train_vqvae", "load_or_train", "class_coverage", "digit_generator",
           "image_generator"]


def upsample_matrix(native: int, size: int) -> np.ndarray:
    """The ``(native², size²)`` matrix of ``ndimage.zoom(img, size / native, order=1)``
    (bilinear zoom is linear in the image: the matrix is the zoom of each unit image)."""
    from scipy import ndimage

    eye = np.eye(native * native, dtype=np.float64).reshape(-1, native, native)
    return np.stack([ndimage.zoom(e, size / native, order=1).ravel() for e in eye])


def digits_native(test_fraction: float, rng, max_train: int | None = None) -> np.ndarray:
    """The training digits of the split that :func:`fclib.pipeline.inputs.load_split` makes
    (same fraction and seed ``rng``), at their native 8 × 8: ``(n, 1, 8, 8)`` float32 in
    [0, 1]."""
    imgs, labels, names = fdata.load_digits(8)
    return fdata.split_dataset(imgs, labels, names, test_fraction, rng, max_train or None
                               ).train_images


def downsample_native(images: np.ndarray, native: int = 8) -> np.ndarray:
    """Images ``(n, 1, s, s)`` (e.g. Fashion-MNIST's 28 x 28) at the generators' native
    ``native`` x ``native``: averaged over blocks of ``s // native`` pixels (anti-aliased),
    then zoomed bilinearly to ``native``; float32 in [0, 1]."""
    from scipy import ndimage

    x = np.asarray(images, dtype=np.float32)
    if x.ndim != 4 or x.shape[1] != 1 or x.shape[2] != x.shape[3]:
        raise ValueError(f"images must be (n, 1, s, s), got shape {x.shape}")
    side = x.shape[-1]
    k = max(side // native, 1)
    m = side // k
    x = x[:, 0, :m * k, :m * k].reshape(len(x), m, k, m, k).mean((2, 4))
    if m != native:
        x = np.stack([ndimage.zoom(im, native / m, order=1) for im in x])
    return np.clip(x, 0, 1).astype(np.float32)[:, None]


class LatentGenerator(nn.Module):
    """``x = g(index)``: a grid index ``(K, d)`` → images ``(K, 1, size, size)``.

    ``kind`` is ``"gan"`` (index → latent ``linspace(-4, 4, n)[index]`` → MLP) or
    ``"vqvae"`` (index → codewords on the 4 × 4 grid → decoder)."""

    def __init__(self, kind: str, d: int, n: int, size: int, native: int = 8,
                 code_dim: int = 8, hidden: int = 256):
        super().__init__()
        if kind not in ("gan", "vqvae"):
            raise ValueError(f"kind must be 'gan' or 'vqvae', got {kind!r}")
        self.kind, self.d, self.n, self.size, self.native = kind, d, n, size, native
        self.config = dict(kind=kind, d=d, n=n, size=size, native=native, code_dim=code_dim,
                           hidden=hidden)
        if kind == "gan":
            self.net = nn.Sequential(nn.Linear(d, hidden // 2), nn.ReLU(),
                                     nn.Linear(hidden // 2, hidden), nn.ReLU(),
                                     nn.Linear(hidden, native * native))
            self.register_buffer("grid", torch.linspace(-4.0, 4.0, n))
        else:
            side = int(round(np.sqrt(d)))
            if side * side != d or native != 2 * side:
                raise ValueError(f"the VQ-VAE needs d = (native/2)^2 code positions, got d={d}")
            self.codebook = nn.Parameter(torch.randn(n, code_dim) * 0.5)
            self.net = nn.Sequential(nn.Conv2d(code_dim, 32, 3, padding=1), nn.ReLU(),
                                     nn.ConvTranspose2d(32, 1, 4, stride=2, padding=1))
            self.encoder = nn.Sequential(nn.Conv2d(1, 32, 4, stride=2, padding=1), nn.ReLU(),
                                         nn.Conv2d(32, code_dim, 3, padding=1))
        self.register_buffer("up", torch.from_numpy(upsample_matrix(native, size)).float())

    def native_images(self, latent: torch.Tensor) -> torch.Tensor:
        """Native ``(K, 1, 8, 8)`` images in [0, 1] from latents (GAN: ``(K, d)`` vectors;
        VQ-VAE: ``(K, code_dim, 4, 4)`` quantised codes)."""
        h = self.net(latent)
        return torch.sigmoid(h).reshape(-1, 1, self.native, self.native)

    def upsample(self, native: torch.Tensor) -> torch.Tensor:
        """Native images → dataset-sized images, as :func:`fclib.io.datasets.load_digits`."""
        flat = native.reshape(native.shape[0], -1) @ self.up
        return flat.clamp(0.0, 1.0).reshape(-1, 1, self.size, self.size)

    def latent(self, index) -> torch.Tensor:
        idx = torch.as_tensor(np.asarray(index), dtype=torch.int64, device=self.up.device)
        if self.kind == "gan":
            return self.grid[idx]
        side = int(round(np.sqrt(self.d)))
        return self.codebook[idx].reshape(-1, side, side, self.codebook.shape[1]
                                          ).permute(0, 3, 1, 2)

    @torch.no_grad()
    def forward(self, index) -> torch.Tensor:
        """Images ``(K, 1, size, size)`` of the grid indices ``(K, d)``."""
        return self.upsample(self.native_images(self.latent(index)))


def _sn_discriminator(n_in: int, hidden: int) -> nn.Module:
    sn = nn.utils.parametrizations.spectral_norm
    return nn.Sequential(sn(nn.Linear(n_in, hidden)), nn.LeakyReLU(0.2),
                         sn(nn.Linear(hidden, hidden // 2)), nn.LeakyReLU(0.2),
                         sn(nn.Linear(hidden // 2, 1)))


def train_gan(images: np.ndarray, size: int, *, d: int = 16, n: int = 64, steps: int = 3000,
              batch_size: int = 64, lr: float = 2e-4, rng=0) -> LatentGenerator:
    """Train an SN-GAN on native images ``(N, 1, 8, 8)`` (hinge loss; z ~ N(0, I) while
    training; the search grid covers [-4, 4]). ``generator.train_seconds`` holds the time.
    ``rng``: an int seed (or a Generator that draws one, :func:`fclib._util.seed_of`) for
    torch's global generator and the batches' ``default_rng(seed)``."""
    seed = seed_of(rng)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    native = images.shape[-1]
    gen = LatentGenerator("gan", d, n, size, native)
    disc = _sn_discriminator(native * native, 256)
    og = torch.optim.Adam(gen.net.parameters(), lr=lr, betas=(0.5, 0.999))
    od = torch.optim.Adam(disc.parameters(), lr=lr, betas=(0.5, 0.999))
    data = torch.from_numpy(images.reshape(len(images), -1).astype(np.float32))
    t0 = time.perf_counter()
    for _ in range(steps):
        real = data[torch.from_numpy(rng.integers(0, len(data), batch_size))]
        fake = gen.native_images(torch.randn(batch_size, d)).reshape(batch_size, -1)
        loss_d = F.relu(1 - disc(real)).mean() + F.relu(1 + disc(fake.detach())).mean()
        od.zero_grad()
        loss_d.backward()
        od.step()
        loss_g = -disc(fake).mean()
        og.zero_grad()
        loss_g.backward()
        og.step()
    gen.train_seconds = time.perf_counter() - t0
    return gen.eval()


def train_vqvae(images: np.ndarray, size: int, *, n: int = 32, code_dim: int = 8,
                steps: int = 2000, batch_size: int = 64, lr: float = 2e-3,
                beta: float = 0.25, rng=0) -> LatentGenerator:
    """Train a VQ-VAE (4 × 4 codes, ``n`` codewords) on native images ``(N, 1, 8, 8)``:
    loss ``‖x − x̂‖² + ‖sg[z_e] − e‖² + β ‖z_e − sg[e]‖²``, straight-through gradients.
    ``rng``: seeds as in :func:`train_gan`."""
    seed = seed_of(rng)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    native = images.shape[-1]
    gen = LatentGenerator("vqvae", (native // 2) ** 2, n, size, native, code_dim=code_dim)
    opt = torch.optim.Adam(gen.parameters(), lr=lr)
    data = torch.from_numpy(images.astype(np.float32))
    t0 = time.perf_counter()
    for _ in range(steps):
        x = data[torch.from_numpy(rng.integers(0, len(data), batch_size))]
        ze = gen.encoder(x)                                          # (B, e, 4, 4)
        flat = ze.permute(0, 2, 3, 1).reshape(-1, code_dim)
        code = torch.cdist(flat, gen.codebook).argmin(1)
        e = gen.codebook[code].reshape(ze.shape[0], 4, 4, code_dim).permute(0, 3, 1, 2)
        zq = ze + (e - ze).detach()
        loss = (F.mse_loss(gen.native_images(zq), x) + F.mse_loss(e, ze.detach())
                + beta * F.mse_loss(ze, e.detach()))
        opt.zero_grad()
        loss.backward()
        opt.step()
    gen.train_seconds = time.perf_counter() - t0
    return gen.eval()


def load_or_train(kind: str, directory, key, images: np.ndarray, size: int,
                  **params) -> LatentGenerator:
    """The generator saved as ``<directory>/<kind>-<key>.pt``, or a new one trained with
    :func:`train_gan` / :func:`train_vqvae` and saved there (:func:`fclib.store.cached`:
    under the file's lock, written atomically, so two processes train it once).
    ``images`` may be a function returning them, called only when training is needed.
    ``key`` must identify the images and ``params``: a string, or ``(key, inputs)`` of
    :func:`fclib.store.artefact_key` (the inputs are then stored in the file)."""
    train = {"gan": train_gan, "vqvae": train_vqvae}.get(kind)
    if train is None:
        raise ValueError(f"kind must be 'gan' or 'vqvae', got {kind!r}")
    key, stamp = (key, None) if isinstance(key, str) else (key[0], key)

    def compute() -> dict:
        with one_thread():  # small layers: threads cost more than they give on a busy machine
            gen = train(images() if callable(images) else images, size, **params)
        return dict(config=gen.config, state=gen.state_dict(),
                    train_seconds=gen.train_seconds, params=params)

    return cached(Path(directory) / f"{kind}-{key}.pt", compute, torch.save, _load_generator,
                  key=stamp)


def _load_generator(path) -> LatentGenerator:
    ck = torch.load(path, map_location="cpu", weights_only=False)
    gen = LatentGenerator(**ck["config"])
    gen.load_state_dict(ck["state"])
    gen.train_seconds = ck["train_seconds"]
    return gen.eval()


@torch.no_grad()
def class_coverage(gen: LatentGenerator, model, n_samples: int = 1000, rng=0,
                   n_classes: int | None = None) -> np.ndarray:
    """Share of ``n_samples`` generated images that the classifier ``model`` assigns to each
    class (the mode-collapse check: every class should get >= 3 %). GAN latents are drawn
    from N(0, I) as in training; VQ-VAE indices uniformly, with a torch generator seeded by
    ``rng`` (an int seed, or a Generator that draws one: :func:`fclib._util.seed_of`)."""
    g = torch.Generator().manual_seed(seed_of(rng))  # drawn on the CPU: the same draw on any device
    if gen.kind == "gan":
        z = torch.randn(n_samples, gen.d, generator=g).to(gen.up.device)
        x = gen.upsample(gen.native_images(z))
    else:
        x = gen(torch.randint(0, gen.n, (n_samples, gen.d), generator=g).numpy())
    model.eval()
    x = x.to(model_device(model))
    with fp32_inference():
        pred = torch.cat([model(x[i:i + 250]).argmax(1) for i in range(0, n_samples, 250)])
    n_classes = n_classes or int(model.arch["n_classes"])
    return np.bincount(pred.cpu().numpy(), minlength=n_classes) / n_samples


def digit_generator(kind: str, directory, *, size: int, test_fraction: float, rng,
                    max_train: int | None = None, steps: int = 2000) -> LatentGenerator:
    """A generator of the training digits of a split (``kind`` ``"gan"`` or ``"vqvae"``,
    default sizes), cached in ``directory`` under a key of its parameters and this code.
    ``rng``: the split's and the training's int seed (a Generator draws one,
    :func:`fclib._util.seed_of`). ``generator.key`` holds the key."""
    seed = seed_of(rng)
    params = dict(kind=kind, size=size, test_fraction=test_fraction, seed=seed,
                  max_train=max_train or 0, steps=steps)
    return _keyed(kind, directory, params, lambda: digits_native(test_fraction, seed, max_train),
                  size, steps, seed)


def _keyed(kind, directory, params: dict, native_images, size: int, steps: int,
           seed: int) -> LatentGenerator:
    """:func:`load_or_train` under the key of ``params`` and this code (``generator.key``);
    ``native_images()`` is called only when the generator must be trained."""
    key = artefact_key("fclib.snn.generators", params)
    gen = load_or_train(kind, directory, key, native_images, size, steps=steps, rng=seed)
    gen.key = key[0]
    return gen


def image_generator(kind: str, directory, images: np.ndarray, *, dataset: str, size: int,
                    rng, max_train: int | None = None, steps: int = 2000) -> LatentGenerator:
    """A generator of a data set's training ``images`` (``(n, 1, s, s)``, e.g. Fashion-MNIST),
    trained at the native 8 x 8 of :func:`downsample_native` and upsampled to ``size`` as the
    digits' generators are; cached in ``directory`` under a key of its parameters and this
    code (``generator.key``); ``rng`` as in :func:`digit_generator`. The digits take
    :func:`digit_generator` (their native images are the originals)."""
    seed = seed_of(rng)
    images = np.asarray(images)
    if max_train:
        images = images[:max_train]
    params = dict(kind=kind, dataset=dataset, size=size, seed=seed, n_images=len(images),
                  steps=steps)
    return _keyed(kind, directory, params, lambda: downsample_native(images), size, steps, seed)
