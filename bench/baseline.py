"""The straightforward design the bench compares against (kept out of the package on purpose).

Training: batches from a torchvision DataLoader with a per-image ToTensor transform, binarized per batch.
IWAE-k: every input duplicated k times and pushed through encoder *and* decoder; the GMVAE's mixture prior
evaluated by broadcasting a (samples, components, z) tensor."""
import math
import torch
from torch.utils.data import DataLoader
from torchvision import datasets, transforms
from vaebook.distributions import sample_gaussian, log_normal, log_bernoulli_with_logits


def dataloader_batches(root, batch_size=100, seed=0):
    "An endless iterator of dynamically binarized (batch, 784) batches, the DataLoader way."
    ds = datasets.MNIST(root, train=True, download=False, transform=transforms.ToTensor())
    g = torch.Generator().manual_seed(seed)
    while True:
        for x, _ in DataLoader(ds, batch_size=batch_size, shuffle=True, generator=g, drop_last=True):
            yield torch.bernoulli(x.view(x.size(0), -1))


def train_baseline(model, batches, iters, lr=1e-3, extra=lambda: ()):
    "Plain Adam loop over `batches` (each step's loss also gets `*extra()`); returns seconds per iteration."
    import time
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    t = time.perf_counter()
    for _ in range(iters):
        x = next(batches)
        opt.zero_grad(); model.loss(x, *extra())[0].backward(); opt.step()
    return (time.perf_counter() - t) / iters


def log_mixture_broadcast(z, m, v):
    "log (1/K) sum_k N(z; m_k, v_k) through a (..., K, d) tensor."
    return torch.logsumexp(log_normal(z.unsqueeze(-2), m, v), -1) - math.log(m.shape[0])


@torch.no_grad()
def niwae_duplicate(model, x, iw, images_per_chunk=1):
    "Negative IWAE-iw bound by duplicating each input iw times (encoder and decoder), `images_per_chunk` at a time."
    out = []
    for s in range(0, len(x), images_per_chunk):
        xb = x[s:s + images_per_chunk]
        xr = xb.repeat_interleave(iw, 0)                       # (c * iw, 784)
        qm, qv = model.enc(xr)
        z = sample_gaussian(qm, qv)
        if hasattr(model, 'prior'):
            logp = log_mixture_broadcast(z, *model.prior())
        else:
            logp = log_normal(z, torch.zeros_like(z), torch.ones_like(z))
        logw = log_bernoulli_with_logits(xr, model.dec(z)) + logp - log_normal(z, qm, qv)
        out.append(-(torch.logsumexp(logw.view(-1, iw), 1) - math.log(iw)))
    return torch.cat(out).mean().item()
