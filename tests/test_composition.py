"""The composed models are the models they replaced: for every recipe of the book, the same initial weights from the
same seed, the same training losses draw for draw, the same trained weights and the same bounds, to the last bit.
The models as they were (subclasses of the VAE, before the parts were composed) are kept in legacy_models.py."""
import tempfile
import pytest
import torch
import legacy_models as L
from vaebook.data import Batches, binarize
from vaebook.registry import make_model, run_config
from vaebook.training import seed_everything, train

# recipe -> (its run config, the legacy model it replaces)
RECIPES = {
    'vae': (run_config('vae'), lambda: L.VAE(10)),
    'gmvae': (run_config('gmvae'), lambda: L.GMVAE(10, 500)),
    'iwae iw=5': (run_config('iwae', iw=5), lambda: L.IWAE(10, iw=5)),
    'iwae iw=50': (run_config('iwae', iw=50), lambda: L.IWAE(10, iw=50)),   # three chunks of draws a step
    'gmiwae iw=5': (run_config('gmiwae', iw=5), lambda: L.GMIWAE(10, 500, iw=5)),
    'vampprior iw=1': (run_config('vampprior', iw=1), lambda: L.VampPrior(10, 500, iw=1)),
    'vampprior iw=5': (run_config('vampprior', iw=5), lambda: L.VampPrior(10, 500, iw=5)),
    'betavae beta=1': (run_config('betavae', beta=1), lambda: L.BetaVAE(10, beta=1)),
    'betavae beta=4': (run_config('betavae', beta=4), lambda: L.BetaVAE(10, beta=4)),
    'fsvae': (run_config('fsvae', dataset='colored-mnist'), lambda: L.FSVAE(10)),
}


def legacy_state(model) -> dict:
    "The legacy model's weights under the composed model's names (its prior's parameters now belong to `prior`)."
    return {('prior.' + k if k in ('z_pre', 'u_pre') else k): v for k, v in model.state_dict().items()}


def batches(config):
    "Stand-in training data of the recipe's shape (no MNIST needed): fixed grey images binarized afresh, or colour images with labels."
    g = torch.Generator().manual_seed(7)
    if config['model'] == 'fsvae':
        return Batches(torch.rand(400, 3072, generator=g), torch.randint(10, (400,), generator=g), batch_size=100, seed=0)
    return Batches(torch.rand(400, 784, generator=g) ** 3, batch_size=100, seed=0, transform=binarize)


def trained(model, config, d):
    seed_everything(1)
    return train(model, batches(config), d, iter_max=12, lr=config['lr'], config={'model': 'test'}, progress=False, log_every=1)


@pytest.mark.parametrize('recipe', RECIPES)
def test_composed_model_equals_the_model_it_replaced(recipe):
    config, make_legacy = RECIPES[recipe]
    seed_everything(0); old = make_legacy()
    seed_everything(0); new = make_model(config)
    want = legacy_state(old)
    assert list(new.state_dict()) == list(want) or sorted(new.state_dict()) == sorted(want)
    assert all(torch.equal(new.state_dict()[k], w) for k, w in want.items()), 'initial weights differ'
    # the optimiser's state is kept by parameter position: the order must be the legacy order
    assert [p.shape for p in new.parameters()] == [p.shape for p in old.parameters()]
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        h_old, h_new = trained(old, config, a), trained(new, config, b)
    assert [r['loss'] for r in h_new] == [r['loss'] for r in h_old], 'losses differ'
    assert [sorted(r) for r in h_new] == [sorted(r) for r in h_old]   # the same parts logged
    want = legacy_state(old)
    assert all(torch.equal(new.state_dict()[k], w) for k, w in want.items()), 'trained weights differ'
    # the bounds and samples of the trained models, with the same draws
    x, args = batches(config)(0), ()
    if isinstance(x, tuple): x, args = x[0], (x[1],)
    with torch.no_grad():
        torch.manual_seed(3); e_old = old.negative_elbo_bound(x, *args)
        torch.manual_seed(3); e_new = new.negative_elbo_bound(x, *args)
        assert all(torch.equal(a, b) for a, b in zip(e_old, e_new))
        if not args:   # the FSVAE's legacy bound took (x, y, iw): its value is checked in chapter 5
            torch.manual_seed(4); i_old = old.negative_iwae_bound(x, 100)
            torch.manual_seed(4); i_new = new.negative_iwae_bound(x, 100)
            assert all(torch.equal(a, b) for a, b in zip(i_old, i_new))
        torch.manual_seed(5); s_old = old.sample_x(6)
        torch.manual_seed(5); s_new = new.sample_x(6)
        assert torch.equal(s_old, s_new)


def test_a_checkpoint_from_before_composition_loads():
    "A GMVAE and a VampPrior saved by the legacy models (their prior's parameters at the top level) load into the composed ones."
    for make_old, config in ((lambda: L.GMVAE(10, 500), run_config('gmvae')), (lambda: L.VampPrior(10, 500, iw=5), run_config('vampprior', iw=5))):
        seed_everything(2); old = make_old()
        new = make_model(config)
        new.load_state_dict(old.state_dict())
        assert all(torch.equal(new.state_dict()[k], w) for k, w in legacy_state(old).items())
