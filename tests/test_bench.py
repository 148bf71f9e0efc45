"""The bench's baseline must compute what the package computes, or its ratios compare different things."""
import sys
from pathlib import Path
import pytest
import torch
from vaebook.vae import vae
from vaebook.gmvae import gmvae
from vaebook.ssvae import SSVAE
from vaebook.fsvae import fsvae

sys.path.insert(0, str(Path(__file__).parents[1] / 'bench'))
import baseline  # noqa: E402


def same_draws(f, g, seed=1):
    "f() and g() under the same random draws."
    torch.manual_seed(seed); a = f()
    torch.manual_seed(seed); b = g()
    return a, b


@pytest.mark.parametrize('make', [lambda: vae(10), lambda: gmvae(10, 500)], ids=['vae', 'gmvae'])
def test_vae_losses_agree(make):
    torch.manual_seed(0)
    m = make(); x = torch.bernoulli(torch.rand(50, 784))
    ours, base = same_draws(lambda: m.loss(x)[0], lambda: baseline.vae_loss(baseline.stock(m), x))
    assert abs(ours.item() - base.item()) < 1e-3 * abs(base.item())


def test_ssvae_loss_agrees():
    torch.manual_seed(0)
    m = SSVAE(64, gw=1, cw=100)
    x, xl, yl = torch.bernoulli(torch.rand(20, 784)), torch.bernoulli(torch.rand(10, 784)), torch.arange(10)
    ours, base = same_draws(lambda: m.loss(x, xl, yl)[0], lambda: baseline.ssvae_loss(baseline.stock(m), x, xl, yl))
    assert abs(ours.item() - base.item()) < 1e-3 * abs(base.item())


def test_fsvae_loss_agrees_and_loader_converts_exactly():
    torch.manual_seed(0)
    m = fsvae(10)
    X, y = (torch.rand(8, 3072) * 255).round() / 255, torch.arange(8)
    ours, base = same_draws(lambda: m.loss(X, y)[0], lambda: baseline.fsvae_loss(baseline.stock(m), X, y))
    assert abs(ours.item() - base.item()) < 1e-3 * abs(base.item())
    xb, yb = next(baseline.image_loader(X, y, batch_size=8))
    order = yb.argsort()
    assert torch.allclose(xb[order], X, atol=1e-6)  # the uint8 HWC round trip gives back the same pixels


def test_stock_swaps_only_activations():
    m = vae(10); s = baseline.stock(m)
    assert [type(l).__name__ for l in s.enc.net] == ['Linear', 'ELU', 'Linear', 'ELU', 'Linear']
    assert all(isinstance(l, torch.nn.ELU) for l in s.enc.net if type(l).__name__ == 'ELU')
    assert all(torch.equal(a, b) for a, b in zip(m.state_dict().values(), s.state_dict().values()))


def test_stack_computes_each_models_loss_and_gradient_as_if_alone():
    "Stacked, each model gets the loss and the gradient it gets alone (to float rounding), and its own update."
    import copy
    from stacking import Stack
    torch.manual_seed(0)
    models = [vae(10) for _ in range(3)]
    alone = [copy.deepcopy(m) for m in models]
    xs = [torch.bernoulli(torch.rand(20, 784)) for _ in models]
    st = Stack(models, randomness='same')   # one noise draw shared by the stack, so each model can replay it alone
    torch.manual_seed(5); losses = st.losses(xs)[0]; losses.sum().backward()
    for i, (m, x) in enumerate(zip(alone, xs)):
        torch.manual_seed(5); loss = m.loss(x)[0]; loss.backward()
        assert abs(loss.item() - losses[i].item()) < 1e-5 * abs(loss.item())
        for name, p in m.named_parameters():
            g = st.params['m.' + name].grad[i]
            # float32 sums in another order: differences of order 1e-6 of the gradient's size
            assert (g - p.grad).norm() < 1e-4 * p.grad.norm() + 1e-7, name
    before = st.model(1, models[1]).state_dict()['enc.net.0.weight']
    st.opt.step()
    assert not torch.equal(st.model(1, models[1]).state_dict()['enc.net.0.weight'], before)
