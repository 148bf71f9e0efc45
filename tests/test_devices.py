"""The device paths a CPU can check (issue 26): labels and codes on the model's device, devices given by name,
provenance in checkpoints and results, runs refused across kinds of device, and the GPU smoke script's CPU parts.
The 'meta' device stands in for a GPU: like one, it refuses to mix its tensors with the CPU's."""
import contextlib, io, json, math, sys
import pytest
import torch
from conftest import ROOT
from vaebook.experiment import run_experiment
from vaebook.fsvae import fsvae, transfer_style
from vaebook.latent import interpolate
from vaebook.registry import MODELS, run_config
from vaebook.runs import run_dir, train_run
from vaebook.ssvae import SSVAE
from vaebook.training import load_checkpoint, save_checkpoint

sys.path.insert(0, str(ROOT / 'bench'))
import gpu_smoke  # noqa: E402


def test_labels_and_codes_follow_the_model():
    m = fsvae(10).to('meta')
    x, y = torch.zeros(4, 3072, device='meta'), torch.arange(4)   # labels from the CPU, as a reader's DataLoader gives them
    assert m.negative_elbo_bound(x, y)[0].device.type == 'meta'
    assert transfer_style(m, x, y).shape == (4, 10, 3072)
    s = SSVAE().to('meta')
    assert s.classification_cross_entropy(torch.zeros(4, 784, device='meta'), y).device.type == 'meta'
    assert s.sample_x(4, y).device.type == 'meta'
    z0, z1 = torch.zeros(10, device='meta'), torch.ones(10, device='meta')
    assert interpolate(z0, z1, 5).device.type == 'meta'   # (slerp asks the angle's value: not on a meta tensor)


def test_ssvae_bound_in_chunks_estimates_the_same():
    "The SSVAE's IWAE bound in several chunks of draws (200 images at once) and in one (20 at once) agree within noise."
    torch.manual_seed(0)
    m, x = SSVAE(), torch.bernoulli(torch.rand(1, 784))
    with torch.no_grad():
        many = torch.stack([m.negative_iwae_bound(x.repeat(200, 1), 50)[0] for _ in range(5)])      # 5 chunks of 10 draws
        one = torch.stack([m.negative_iwae_bound(x.repeat(20, 1), 50)[0] for _ in range(50)])       # one chunk of 50
    # each side averages 1,000 independent per-image estimates; their spread sigma, from the one-chunk means of 20
    sigma = one.std().item() * math.sqrt(20)
    se = sigma * math.sqrt(1 / 1000 + 1 / 1000)
    assert abs(many.mean().item() - one.mean().item()) < 4 * se, (many.mean(), one.mean(), se)


def test_provenance_is_recorded_and_devices_are_not_mixed(tmp_path, mnist_dir):
    c = run_config('vae', iter_max=20, batch_size=20, seed=5)
    # a name, resolved by the one resolver (it crashed in torch.device before); 'auto' is the CPU where no GPU works
    train_run(c, tmp_path, device='auto' if not torch.cuda.is_available() else 'cpu')
    ckpt = run_dir(c, tmp_path) / 'checkpoint.pt'
    s = load_checkpoint(ckpt)
    assert (s['device'], s['threads'], s['torch'], s['gpu']) == ('cpu', [torch.get_num_threads()], [torch.__version__], [])
    exp = run_experiment([c], tmp_path, results=tmp_path / 'r.json', iws=(1,))
    run = json.loads((tmp_path / 'r.json').read_text())['runs']['5']
    assert (run['device'], run['threads'], run['torch'], run['gpu']) == ('cpu', [torch.get_num_threads()], [torch.__version__], [])
    assert exp.frame.query("measure == 'nelbo'")['device'].tolist() == ['cpu', 'cpu']
    # the same run, had it been made on a GPU: the CLI refuses to reuse it on the CPU in one line, unless told
    save_checkpoint(ckpt, **{**s, 'device': 'cuda'})
    from vaebook.cli import main
    args = ['--model', 'vae', '--iter_max', '20', '--batch_size', '20', '--seed', '5', '--device', 'cpu', '--runs-dir', str(tmp_path)]
    err = io.StringIO()
    with contextlib.redirect_stderr(err): assert main(['--train', '--resume', *args]) == 1
    assert 'was trained on cuda' in err.getvalue() and '--cross-device' in err.getvalue() and len(err.getvalue().splitlines()) == 1
    with contextlib.redirect_stderr(err): assert main(['--iwae', *args]) == 1
    assert main(['--train', '--resume', '--cross-device', *args]) == 0
    assert load_checkpoint(ckpt)['device'] == 'cuda'   # reused as it is: a finished run is not written again


@pytest.mark.parametrize('model', list(MODELS))
def test_smoke_resumes_every_model_exactly(model, mnist_dir):
    r = gpu_smoke.resumes_exactly(model, 'cpu', iters=40)
    assert r['resumed_bit_for_bit'], r


def test_smoke_moves_and_bounds_on_the_cpu(mnist_dir):
    assert all(gpu_smoke.moves_between('cpu', iters=20).values())
    assert gpu_smoke.diverges_safely('cpu') == {'stopped': True, 'checkpoint_iteration': 30, 'checkpoint_finite': True}
    b = gpu_smoke.bounds_agree('cpu', iters=100, iw=10, repeats=10)
    assert b['difference_in_se'] < 4, b
