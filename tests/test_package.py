"""The package as a user imports it, outside its notebooks: no undefined names, and every model's interface runs."""
import subprocess, sys
from conftest import ROOT, run


def test_static_check():
    "pyflakes (pinned in the dev extras) finds no undefined name, unused import or unused variable in vaebook/."
    files = [str(p) for p in sorted((ROOT / 'vaebook').glob('*.py')) if p.name != '_modidx.py']
    r = run([sys.executable, '-m', 'pyflakes', *files])
    assert r.returncode == 0 and not r.stdout.strip(), r.stdout + r.stderr


SMOKE = """
import torch
from vaebook.vae import VAE
from vaebook.gmvae import GMVAE
from vaebook.ssvae import SSVAE
from vaebook.fsvae import FSVAE
from vaebook.latent import BetaVAE
from vaebook.likelihood import IWAE, VampPrior
torch.manual_seed(0)
x = torch.bernoulli(torch.rand(3, 784))
xc, y = torch.rand(3, 3072), torch.tensor([0, 4, 9])
for m, args in [(VAE(), (x,)), (GMVAE(k=7), (x,)), (SSVAE(z_dim=8), (x,)), (FSVAE(), (xc, y)), (BetaVAE(beta=4), (x,)),
                 (IWAE(iw=3), (x,)), (VampPrior(k=7, iw=2), (x,))]:
    nelbo = m.negative_elbo_bound(*args)[0]
    niwae = m.negative_iwae_bound(*args, 5)[0]
    if hasattr(m, 'iw'): m.loss(x)[0].backward()   # the training bound reaches every parameter
    if hasattr(m, 'iw'): assert all(p.grad is not None for p in m.parameters())
    s = m.sample_x(4)
    assert torch.isfinite(nelbo) and torch.isfinite(niwae) and s.shape[0] == 4 and 0 <= s.min() and s.max() <= 1
    print(type(m).__name__, 'ok')
"""


def test_every_model_in_a_fresh_interpreter():
    r = subprocess.run([sys.executable, '-c', SMOKE], capture_output=True, text=True, cwd='/')
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ['VAE', 'ok', 'GMVAE', 'ok', 'SSVAE', 'ok', 'FSVAE', 'ok', 'BetaVAE', 'ok', 'IWAE', 'ok', 'VampPrior', 'ok']
