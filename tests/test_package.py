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
from vaebook.registry import MODELS, make_model, run_config
from vaebook.colour import DATASETS
torch.manual_seed(0)
x = torch.bernoulli(torch.rand(3, 784))
xc, y = torch.rand(3, 3072), torch.tensor([0, 4, 9])
for name, spec in MODELS.items():   # every model of the registry, as its small recipe
    small = {'k': 7} if 'k' in spec.shape else {}
    if 'iw' in spec.shape: small['iw'] = 3
    if 'beta' in spec.shape: small['beta'] = 4.0
    if 'dataset' in spec.shape: small['dataset'] = DATASETS[-1]
    m = make_model(run_config(name, **small))
    if spec.data == 'digits': args, labels = (xc,), (y,)
    elif spec.data == 'labelled': args, labels = (x,), ()
    else: args, labels = (x,), ()
    nelbo = m.negative_elbo_bound(*args, *labels)[0]
    niwae = m.negative_iwae_bound(*args, 5, *labels)[0]
    if spec.data != 'labelled':   # the training objective reaches every parameter
        m.loss(*args, *labels)[0].backward()
        assert all(p.grad is not None for p in m.parameters()), name
    s = m.sample_x(4)
    assert torch.isfinite(nelbo) and torch.isfinite(niwae) and s.shape[0] == 4 and 0 <= s.min() and s.max() <= 1
    print(name, 'ok')
"""


def test_every_model_in_a_fresh_interpreter():
    from vaebook.registry import MODELS
    r = subprocess.run([sys.executable, '-c', SMOKE], capture_output=True, text=True, cwd='/')
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [w for m in MODELS for w in (m, 'ok')]
