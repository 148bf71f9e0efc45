"""The models as they were before the composed core (vaebook 180b1f9, chapters 1, 2, 5, 7 and 8), kept only so that
tests/test_composition.py can prove the composed models equal to them: same initial weights, same losses draw for
draw, same trained weights. Not part of the package; never edit it to make a test pass."""
from __future__ import annotations
import math
import torch
from torch import nn
import torch.nn.functional as F
from vaebook.distributions import (sample_gaussian, log_normal, kl_normal, log_bernoulli_with_logits, log_normal_mixture)
from vaebook.networks import Encoder, Decoder, gaussian_parameters, svhn_encoder, svhn_decoder


class VAE(nn.Module):
    "Gaussian-latent VAE on binarized MNIST: encoder q(z|x), Bernoulli decoder p(x|z), standard normal prior."
    name = 'vae'
    # (image, sample) pairs decoded at once by the IWAE bound: small enough that a chunk's (rows, 784) logits stay in
    # a CPU's L3 cache through the elementwise passes (2,000 ran 1.9x faster than 20,000 on the book's machine)
    chunk_rows = 2000

    def __init__(self, z_dim: int = 10, x_dim: int = 784, h: int = 300, depth: int = 2, act='elu'):
        super().__init__()
        self.z_dim = z_dim
        self.enc, self.dec = Encoder(z_dim, x_dim, h=h, depth=depth, act=act), Decoder(z_dim, x_dim, h=h, depth=depth, act=act)

    def log_prior(self, z: torch.Tensor) -> torch.Tensor:
        "log p(z) for `z: (..., z_dim)` -> `(...)`."
        return log_normal(z, torch.zeros_like(z), torch.ones_like(z))

    def kl_term(self, z, qm, qv) -> torch.Tensor:
        "KL(q(z|x) || p(z)) per image `(batch,)`: in closed form for the standard normal prior."
        return kl_normal(qm, qv, torch.zeros_like(qm), torch.ones_like(qv))

    def negative_elbo_bound(self, x: torch.Tensor):
        "`x: (batch, 784)` binary -> batch means of `(nelbo, kl, rec)`, one reparameterised draw per image."
        qm, qv = self.enc(x)
        z = sample_gaussian(qm, qv)
        kl = self.kl_term(z, qm, qv)
        rec = -log_bernoulli_with_logits(x, self.dec(z))
        return (kl + rec).mean(), kl.mean(), rec.mean()

    def negative_iwae_bound(self, x: torch.Tensor, iw: int):
        "`x: (batch, 784)` binary, `iw` >= 1 samples -> batch means of `(niwae, kl, rec)`."
        if iw < 1: raise ValueError(f'iw must be at least 1, not {iw}')
        qm, qv = self.enc(x)
        B = x.shape[0]
        step = max(1, min(iw, self.chunk_rows // B))
        lse = kl_sum = rec_sum = 0
        for s in range(0, iw, step):
            n = min(step, iw - s)
            z = sample_gaussian(qm.expand(n, B, -1), qv.expand(n, B, -1))       # (n, B, z)
            logpx = log_bernoulli_with_logits(x, self.dec(z))                 # (n, B)
            kl = log_normal(z, qm, qv) - self.log_prior(z)                    # (n, B)
            chunk = torch.logsumexp(logpx - kl, 0)
            lse = chunk if s == 0 else torch.logaddexp(lse, chunk)
            kl_sum, rec_sum = kl_sum + kl.sum(0), rec_sum - logpx.sum(0)
        niwae = -(lse - math.log(iw))
        return niwae.mean(), (kl_sum / iw).mean(), (rec_sum / iw).mean()

    def loss(self, x: torch.Tensor):
        "Training objective: the negative ELBO of a batch, with its parts to log."
        nelbo, kl, rec = self.negative_elbo_bound(x)
        return nelbo, {'nelbo': nelbo.detach(), 'kl': kl.detach(), 'rec': rec.detach()}

    def sample_z(self, n: int) -> torch.Tensor:
        "`n` draws from the prior: `(n, z_dim)`."
        p = next(self.parameters())
        return torch.randn(n, self.z_dim, device=p.device)

    @torch.no_grad()
    def sample_x(self, n: int) -> torch.Tensor:
        "Decoder probabilities sigmoid(dec(z)) for `n` prior draws: `(n, 784)` in [0, 1] (shown as images)."
        return torch.sigmoid(self.dec(self.sample_z(n)))


class GMVAE(VAE):
    "The VAE with a learned uniform mixture of `k` diagonal Gaussians as its prior p(z)."
    name = 'gmvae'

    def __init__(self, z_dim: int = 10, k: int = 500, x_dim: int = 784, h: int = 300, **net):
        super().__init__(z_dim, x_dim, h, **net)
        self.k = k
        # rows 0..k-1 parameterise the means, rows k..2k-1 the variances (through softplus)
        self.z_pre = nn.Parameter(torch.randn(1, 2 * k, z_dim) / math.sqrt(k * z_dim))

    def prior(self) -> tuple[torch.Tensor, torch.Tensor]:
        "Component means and variances, each `(k, z_dim)`."
        m, v = gaussian_parameters(self.z_pre, dim=1)
        return m[0], v[0]

    def log_prior(self, z: torch.Tensor) -> torch.Tensor:
        "log p(z) under the mixture, `z: (..., z_dim)` -> `(...)`."
        return log_normal_mixture(z, *self.prior())

    def kl_term(self, z, qm, qv) -> torch.Tensor:
        "Single-sample estimate log q(z|x) - log p(z) per image `(batch,)`."
        return log_normal(z, qm, qv) - self.log_prior(z)

    def sample_z(self, n: int) -> torch.Tensor:
        "`n` draws from the mixture: a uniform component, then its Gaussian: `(n, z_dim)`."
        m, v = self.prior()
        idx = torch.randint(self.k, (n,), device=m.device)
        return sample_gaussian(m[idx], v[idx])


def bound_loss(model: VAE, x: torch.Tensor, iw: int):
    "Training loss of `x: (batch, 784)` on the `iw`-sample bound: the ELBO's (`VAE.loss`) at `iw` = 1, else the negative IWAE bound."
    if iw == 1: return VAE.loss(model, x)
    niwae, kl, rec = model.negative_iwae_bound(x, iw)
    return niwae, {'niwae': niwae.detach(), 'kl': kl.detach(), 'rec': rec.detach()}

class OnTheBound:
    "Mixed in before a model of the VAE family: it trains on the `iw`-sample bound (`iw` = 1: the model's own ELBO)."
    def set_iw(self, iw: int):
        "Check and keep the number of importance samples `iw` of the training bound."
        if iw < 1: raise ValueError(f'iw must be at least 1, not {iw}')
        self.iw = iw

    def loss(self, x: torch.Tensor):
        "The negative `iw`-sample bound of a batch `x: (batch, 784)` (the ELBO at `iw` = 1), with the parts to log."
        return bound_loss(self, x, self.iw)

class IWAE(OnTheBound, VAE):
    "Chapter 1's VAE trained on the `iw`-sample importance-weighted bound (Burda et al. 2016); `iw` = 1 is the VAE."
    name = 'iwae'

    def __init__(self, z_dim: int = 10, iw: int = 5, x_dim: int = 784, h: int = 300, **net):
        super().__init__(z_dim, x_dim, h, **net)
        self.set_iw(iw)

class GMIWAE(OnTheBound, GMVAE):
    "Chapter 2's GMVAE (a learned `k`-component mixture prior) trained on the `iw`-sample bound; `iw` = 1 is the GMVAE."
    name = 'gmiwae'

    def __init__(self, z_dim: int = 10, k: int = 500, iw: int = 5, x_dim: int = 784, h: int = 300, **net):
        super().__init__(z_dim, k, x_dim, h, **net)
        self.set_iw(iw)

class VampPrior(OnTheBound, GMVAE):
    "The VAE with the VampPrior: a uniform mixture of q(z|u_k) over `k` learned pseudo-inputs; trained on the `iw`-sample bound."
    name = 'vampprior'

    def __init__(self, z_dim: int = 10, k: int = 500, iw: int = 1, x_dim: int = 784, h: int = 300, **net):
        VAE.__init__(self, z_dim, x_dim, h, **net)   # the mixture's parameters come from the encoder, not GMVAE's table
        self.k = k
        self.set_iw(iw)
        self.u_pre = nn.Parameter(math.log(0.05 / 0.95) + 0.1 * torch.randn(k, x_dim))
        self._fixed = None   # the prior's parameters while one bound is computed (see negative_iwae_bound)

    def pseudo_inputs(self) -> torch.Tensor:
        "The pseudo-inputs u_k = sigmoid(a_k) in (0, 1): `(k, 784)`."
        return torch.sigmoid(self.u_pre)

    def prior(self) -> tuple[torch.Tensor, torch.Tensor]:
        "Component means and variances `(k, z_dim)`: the encoder's posterior at each pseudo-input."
        return self._fixed if self._fixed is not None else self.enc(self.pseudo_inputs())

    def negative_iwae_bound(self, x: torch.Tensor, iw: int):
        "As the VAE's; the pseudo-inputs are encoded once per call, not once per chunk of samples."
        self._fixed = self.enc(self.pseudo_inputs())   # IWAE-5000 decodes 250 chunks: 500 encoder passes each, otherwise
        try: return super().negative_iwae_bound(x, iw)
        finally: self._fixed = None



class BetaVAE(VAE):
    "The VAE trained on distortion + `beta` x rate; its bounds (`negative_elbo_bound`, IWAE) stay the true ones."
    name = 'betavae'

    def __init__(self, z_dim: int = 10, beta: float = 1.0, **kw):
        super().__init__(z_dim, **kw)
        self.beta = float(beta)

    def loss(self, x: torch.Tensor):
        "rec + beta * kl of a batch `x: (batch, 784)`, logging the true `nelbo` beside it."
        nelbo, kl, rec = self.negative_elbo_bound(x)
        return rec + self.beta * kl, {'nelbo': nelbo.detach(), 'kl': kl.detach(), 'rec': rec.detach()}



class FSVAE(nn.Module):
    "Class-conditional VAE for 32x32x3 images: q(z|x,y), Gaussian p(x|y,z) with fixed variance `x_var`."
    name = 'fsvae'

    def __init__(self, z_dim: int = 10, y_dim: int = 10, x_var: float = 0.1):
        super().__init__()
        self.z_dim, self.y_dim, self.x_var = z_dim, y_dim, x_var
        self.enc, self.dec = svhn_encoder(z_dim, y_dim), svhn_decoder(z_dim, y_dim)

    def log_px(self, x: torch.Tensor, mean: torch.Tensor) -> torch.Tensor:
        "log N(x; mean, x_var I) summed over pixels: `x, mean: (..., 3072)` -> `(...)`."
        return log_normal(x, mean, torch.full_like(mean, self.x_var))

    def negative_elbo_bound(self, x: torch.Tensor, y: torch.Tensor):
        "`x: (batch, 3072)` in [0, 1], `y: (batch,)` labels -> batch means of `(nelbo, kl, rec)`."
        y1 = F.one_hot(y, self.y_dim).float()
        qm, qv = self.enc(x, y1)
        z = sample_gaussian(qm, qv)
        kl = kl_normal(qm, qv, torch.zeros_like(qm), torch.ones_like(qv))
        rec = -self.log_px(x, self.dec(z, y1))
        return (kl + rec).mean(), kl.mean(), rec.mean()

    def negative_iwae_bound(self, x: torch.Tensor, y: torch.Tensor, iw: int):
        "`x: (batch, 3072)`, `y: (batch,)`, `iw` >= 1 samples -> batch means of `(niwae, kl, rec)`, a bound on log p(x | y)."
        if iw < 1: raise ValueError(f'iw must be at least 1, not {iw}')
        y1 = F.one_hot(y, self.y_dim).float()
        qm, qv = self.enc(x, y1)
        z = sample_gaussian(qm.expand(iw, *qm.shape), qv.expand(iw, *qv.shape))   # (iw, B, z): memory grows with iw
        logpx = self.log_px(x, self.dec(z, y1.expand(iw, *y1.shape)))              # (iw, B)
        kl = log_normal(z, qm, qv) - log_normal(z, torch.zeros_like(z), torch.ones_like(z))
        niwae = -(torch.logsumexp(logpx - kl, 0) - math.log(iw))
        return niwae.mean(), kl.mean(), -logpx.mean()

    def loss(self, x: torch.Tensor, y: torch.Tensor):
        "Training objective: the negative ELBO of a labelled batch, with its parts to log."
        nelbo, kl, rec = self.negative_elbo_bound(x, y)
        return nelbo, {'nelbo': nelbo.detach(), 'kl': kl.detach(), 'rec': rec.detach()}

    @torch.no_grad()
    def decode(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        "Decoder means clipped to [0, 1]: `z: (n, z_dim)`, `y: (n,)` -> `(n, 3072)`."
        return self.dec(z, F.one_hot(y, self.y_dim).float()).clamp(0, 1)

    @torch.no_grad()
    def sample_x(self, n: int, y: torch.Tensor | None = None) -> torch.Tensor:
        "Clipped decoder means for `n` prior draws with labels `y` (default: 0..9 cycled): `(n, 3072)`."
        dev = next(self.parameters()).device
        y = torch.arange(n, device=dev) % self.y_dim if y is None else y
        return self.decode(torch.randn(n, self.z_dim, device=dev), y)

    @torch.no_grad()
    def content_style_grid(self, n_styles: int = 20) -> torch.Tensor:
        "Row i fixes y = i, column j one prior draw z_j: `(y_dim * n_styles, 3072)`, row-major."
        dev = next(self.parameters()).device
        z = torch.randn(n_styles, self.z_dim, device=dev).repeat(self.y_dim, 1)
        y = torch.arange(self.y_dim, device=dev).repeat_interleave(n_styles)
        return self.decode(z, y)

    @torch.no_grad()
    def transfer_style(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        "Encode each image `x: (n, 3072)` with its label, decode its posterior mean under all labels: `(n, y_dim, 3072)`."
        qm, _ = self.enc(x, F.one_hot(y, self.y_dim).float())
        n = len(x)
        out = self.decode(qm.repeat_interleave(self.y_dim, 0), torch.arange(self.y_dim, device=x.device).repeat(n))
        return out.reshape(n, self.y_dim, -1)
