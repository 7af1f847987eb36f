"""Quality measures that do not depend on any feature network, so a result cannot grade itself.

- style distance: the sliced Wasserstein distance between the 7x7 colour patches of the
  result and of the style image, at each level of a 6-level Gaussian pyramid (so both fine
  strokes and large shapes count), averaged over levels; lower is closer to the style.
- content similarity: SSIM of the blurred luminance of the result and of the photo
  (blurred so that painted texture does not count as lost content); 1 is identical.
Images are float tensors (3, H, W) in 0..1; both functions resize the second image to the
first one's size (the style image to its longest side) before comparing.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

LEVELS = 6
PATCH = 7
DIRECTIONS = 128
MAX_PATCHES = 16384
LUMA = (0.299, 0.587, 0.114)


def gaussian_kernel(sigma: float) -> torch.Tensor:
    """A normalised 1-D Gaussian of radius 3 sigma."""
    radius = max(1, round(3 * sigma))
    x = torch.arange(-radius, radius + 1, dtype=torch.float32)
    kernel = torch.exp(-0.5 * (x / sigma) ** 2)
    return kernel / kernel.sum()


def blur(image: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of a (C, H, W) or (B, C, H, W) tensor, reflecting at the edges."""
    batch = image if image.dim() == 4 else image[None]
    c = batch.shape[1]
    k = gaussian_kernel(sigma)
    r = k.numel() // 2
    x = F.pad(batch, (r, r, r, r), mode="reflect")
    x = F.conv2d(x, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    x = F.conv2d(x, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)
    return x if image.dim() == 4 else x[0]


def pyramid(image: torch.Tensor, levels: int = LEVELS) -> list[torch.Tensor]:
    """Gaussian pyramid: the image, then blurred and halved `levels - 1` times."""
    out = [image]
    for _ in range(levels - 1):
        out.append(blur(out[-1], 1.0)[:, ::2, ::2])
    return out


def _patches(image: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """(P, 3*7*7) colour patches of a (3, H, W) image, at most MAX_PATCHES of them at random."""
    patches = F.unfold(image[None], PATCH)[0].T
    if patches.shape[0] > MAX_PATCHES:
        patches = patches[torch.randperm(patches.shape[0], generator=generator)[:MAX_PATCHES]]
    return patches


def _quantiles(values: torch.Tensor, count: int) -> torch.Tensor:
    """`count` evenly spaced quantiles of each column of (P, D) values."""
    ordered = values.sort(0).values
    index = torch.linspace(0, ordered.shape[0] - 1, count).round().long()
    return ordered[index]


def sliced_wasserstein(a: torch.Tensor, b: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Sliced 1-Wasserstein distance between the patch sets of two (3, H, W) images."""
    pa, pb = _patches(a, generator), _patches(b, generator)
    directions = torch.randn(pa.shape[1], DIRECTIONS, generator=generator)
    directions /= directions.norm(dim=0, keepdim=True)
    count = min(pa.shape[0], pb.shape[0])
    return (_quantiles(pa @ directions, count) - _quantiles(pb @ directions, count)).abs().mean()


def resize(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """A (3, H, W) image resized to (height, width), antialiased."""
    if tuple(image.shape[-2:]) == tuple(size):
        return image
    return F.interpolate(image[None], size=size, mode="bicubic", antialias=True, align_corners=False)[0].clamp(0, 1)


def fit_longest(image: torch.Tensor, longest: int) -> torch.Tensor:
    """A (3, H, W) image resized so that its longest side is `longest`."""
    h, w = image.shape[-2:]
    scale = longest / max(h, w)
    return resize(image, (max(PATCH, round(h * scale)), max(PATCH, round(w * scale))))


def style_distances_by_level(result: torch.Tensor, style: torch.Tensor, seed: int = 0) -> list[float]:
    """The patch SWD between `result` and `style` at each pyramid level, finest first: a 7x7
    patch at level k spans 7 * 2^k pixels of the result, so the last levels see large shapes."""
    style = fit_longest(style, max(result.shape[-2:]))
    generator = torch.Generator().manual_seed(seed)
    levels = zip(pyramid(result.float()), pyramid(style.float()))
    return [float(sliced_wasserstein(a, b, generator)) for a, b in levels if min(*a.shape[-2:], *b.shape[-2:]) >= PATCH]


def style_distance(result: torch.Tensor, style: torch.Tensor, seed: int = 0) -> float:
    """Mean over pyramid levels of the patch SWD between `result` and `style` (lower is closer)."""
    distances = style_distances_by_level(result, style, seed)
    return sum(distances) / len(distances)


def luminance(image: torch.Tensor) -> torch.Tensor:
    """(1, H, W) Rec. 601 luma of a (3, H, W) RGB image."""
    return (torch.tensor(LUMA).view(3, 1, 1) * image).sum(0, keepdim=True)


def ssim(a: torch.Tensor, b: torch.Tensor, sigma: float = 1.5) -> float:
    """Mean SSIM (Wang et al. 2004) of two (1, H, W) images in 0..1, Gaussian window."""
    c1, c2 = 0.01**2, 0.03**2
    mu_a, mu_b = blur(a, sigma), blur(b, sigma)
    var_a = blur(a * a, sigma) - mu_a**2
    var_b = blur(b * b, sigma) - mu_b**2
    cov = blur(a * b, sigma) - mu_a * mu_b
    score = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return float(score.mean())


def content_similarity(result: torch.Tensor, photo: torch.Tensor, blur_sigma: float = 2.0) -> float:
    """SSIM of the blurred luminance of `result` and `photo` (photo resized to the result's size)."""
    photo = resize(photo.float(), (result.shape[-2], result.shape[-1]))
    return ssim(blur(luminance(result.float()), blur_sigma), blur(luminance(photo), blur_sigma))
