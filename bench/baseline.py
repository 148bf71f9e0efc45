"""The straightforward design the bench compares against (kept out of the package on purpose).

What a first, careful implementation of the same models would do, using stock PyTorch throughout:
- data: a torchvision DataLoader with a per-image ToTensor transform, binarized per batch (MNIST);
- layers and losses: the same architectures and parameters, but torch's own `nn.ELU`, `F.softplus`,
  `F.binary_cross_entropy_with_logits` and `torch.distributions.Normal`, and Adam with its default settings;
- SSVAE: the ten labels enumerated by repeating each image ten times and concatenating the one-hot label;
- IWAE-k: every input duplicated k times through encoder *and* decoder; the GMVAE's mixture prior evaluated by
  broadcasting a (samples, components, z) tensor.
"""
import copy, math, time
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torchvision import datasets, transforms
from vaebook.distributions import sample_gaussian, log_normal, kl_normal


def stock(model):
    "A copy of `model` (same parameters) whose activations are torch's own `nn.ELU`."
    m = copy.deepcopy(model)
    for mod in m.modules():
        if isinstance(mod, nn.Sequential):
            for i, layer in enumerate(mod):
                if type(layer).__name__ == 'ELU': mod[i] = nn.ELU()
    return m


def enc(m, x, y=None):
    "q(z | x[, y]) of `m`'s encoder network with torch's own softplus: `qm, qv`."
    h = m.enc.net(x if y is None else torch.cat([x, y], -1))
    qm, h = h.chunk(2, -1)
    return qm, F.softplus(h) + 1e-8


def prior(m):
    "The GMVAE's mixture means and variances `(k, z)`, with torch's own softplus."
    mk, h = m.prior.z_pre[0].chunk(2, 0)
    return mk, F.softplus(h) + 1e-8


def endless(loader):
    while True: yield from loader


def mnist_loader(root, batch_size=100, seed=0):
    "Dynamically binarized (batch, 784) MNIST batches, the DataLoader way."
    ds = datasets.MNIST(root, train=True, download=False, transform=transforms.ToTensor())
    dl = DataLoader(ds, batch_size=batch_size, shuffle=True, generator=torch.Generator().manual_seed(seed), drop_last=True)
    return (torch.bernoulli(x.view(len(x), -1)) for x, _ in endless(dl))


class _Images(Dataset):
    "uint8 HWC images and labels, converted one at a time by ToTensor (as torchvision's SVHN dataset does)."
    def __init__(self, X, y):
        self.X = (X * 255).round().to(torch.uint8).view(len(X), 3, 32, 32).permute(0, 2, 3, 1).numpy()
        self.y, self.t = y, transforms.ToTensor()
    def __len__(self): return len(self.X)
    def __getitem__(self, i): return self.t(self.X[i]), self.y[i]


def image_loader(X, y, batch_size=100, seed=0):
    "(batch, 3072) colour images in [0, 1] with labels, the DataLoader way."
    dl = DataLoader(_Images(X, y), batch_size=batch_size, shuffle=True, generator=torch.Generator().manual_seed(seed), drop_last=True)
    return ((x.view(len(x), -1), yb) for x, yb in endless(dl))


def bce(x, logits):
    "-log Bernoulli(x; sigmoid(logits)) summed over pixels, the stock way."
    return F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction='none').sum(-1)


def log_mixture_broadcast(z, m, v):
    "log (1/K) sum_k N(z; m_k, v_k) through a (..., K, d) tensor."
    return torch.logsumexp(log_normal(z.unsqueeze(-2), m, v), -1) - math.log(m.shape[0])


def vae_loss(m, x):
    "Negative ELBO of a VAE (closed-form KL) or GMVAE (single-sample KL against the broadcast mixture)."
    qm, qv = enc(m, x)
    z = sample_gaussian(qm, qv)
    if hasattr(m.prior, 'z_pre'): kl = log_normal(z, qm, qv) - log_mixture_broadcast(z, *prior(m))
    else: kl = kl_normal(qm, qv, torch.zeros_like(qm), torch.ones_like(qv))
    return (kl + bce(x, m.dec(z))).mean()


def ssvae_loss(m, x, xl, yl):
    "gw * NELBO (labels enumerated by repeating x) + cw * cross-entropy."
    B, Y = len(x), m.y_dim
    logits = m.cls(x)
    q, log_q = logits.softmax(-1), logits.log_softmax(-1)
    kl_y = (q * (log_q + math.log(Y))).sum(-1)
    y = torch.eye(Y).repeat_interleave(B, 0)
    xr = x.repeat(Y, 1)
    qm, qv = enc(m, xr, y)
    z = sample_gaussian(qm, qv)
    kl_z = kl_normal(qm, qv, torch.zeros_like(qm), torch.ones_like(qv)).view(Y, B)
    rec = bce(xr, m.dec(z, y)).view(Y, B)
    nelbo = (kl_y + (q.T * (kl_z + rec)).sum(0)).mean()
    return m.gw * nelbo + m.cw * F.cross_entropy(m.cls(xl), yl)


def fsvae_loss(m, x, y):
    "Negative ELBO of the class-conditional Gaussian VAE, the likelihood from torch.distributions."
    y1 = F.one_hot(y, m.enc.y_dim).float()
    qm, qv = enc(m, x, y1)
    z = sample_gaussian(qm, qv)
    kl = kl_normal(qm, qv, torch.zeros_like(qm), torch.ones_like(qv))
    rec = -torch.distributions.Normal(m.dec(z, y1), math.sqrt(m.likelihood.x_var)).log_prob(x).sum(-1)
    return (kl + rec).mean()


def train_baseline(model, batches, loss, iters, lr=1e-3):
    "Plain Adam loop: `loss(model, *next(batches))` for `iters` steps; returns seconds per iteration."
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    t = time.perf_counter()
    for _ in range(iters):
        b = next(batches)
        opt.zero_grad(); loss(model, *(b if isinstance(b, tuple) else (b,))).backward(); opt.step()
    return (time.perf_counter() - t) / iters


@torch.no_grad()
def niwae_duplicate(model, x, iw, images_per_chunk=1):
    "Negative IWAE-iw bound by duplicating each input iw times (encoder and decoder), `images_per_chunk` at a time."
    out = []
    for s in range(0, len(x), images_per_chunk):
        xr = x[s:s + images_per_chunk].repeat_interleave(iw, 0)          # (c * iw, 784)
        qm, qv = enc(model, xr)
        z = sample_gaussian(qm, qv)
        logp = log_mixture_broadcast(z, *prior(model)) if hasattr(model, 'prior') else log_normal(z, torch.zeros_like(z), torch.ones_like(z))
        logw = -bce(xr, model.dec(z)) + logp - log_normal(z, qm, qv)
        out.append(-(torch.logsumexp(logw.view(-1, iw), 1) - math.log(iw)))
    return torch.cat(out).mean().item()
