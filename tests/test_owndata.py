"""Your own data (issue 27): scikit-learn's bundled 8x8 digits written as a user would write them, an .npz file and a
folder of images, trained, evaluated and sampled through the command line, the Python API and a chapter; a torchvision
dataset read from a data directory; and every kind of bad data refused in one line with nothing written."""
import contextlib, gzip, io, shutil
import numpy as np
import pytest
import torch
from conftest import BIN, ROOT, run
from vaebook.cli import main
from vaebook.experiment import run_experiment
from vaebook.owndata import read_torchvision
from vaebook.registry import run_config

sklearn = pytest.importorskip('sklearn.datasets')


@pytest.fixture(scope='module')
def digits(tmp_path_factory):
    from PIL import Image
    d = tmp_path_factory.mktemp('digits')
    dg = sklearn.load_digits()
    imgs = (dg.images * 255 / 16).round().astype(np.uint8)
    np.savez(d / 'digits.npz', x=imgs, y=dg.target)
    for i, (im, c) in enumerate(zip(imgs, dg.target)):
        (d / 'folder' / str(c)).mkdir(parents=True, exist_ok=True)
        Image.fromarray(im).save(d / 'folder' / str(c) / f'{i}.png')
    return d


def cli(*argv):
    "Exit code and stderr of `vaebook argv` run in this process."
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()) as out:
        try: code = main(list(argv))
        except SystemExit as e: code = e.code   # a usage error
    return code, err.getvalue(), out.getvalue()


@pytest.mark.parametrize('data', ['digits.npz', 'folder'])
def test_the_readme_command_trains_and_evaluates(digits, tmp_path, data):
    code, err, out = cli('--model', 'vae', '--dataset', str(digits / data), '--train', '--iwae', '--iter_max', '200',
                         '--batch_size', '50', '--runs-dir', str(tmp_path))
    assert code == 0, err
    nelbo = float(out.split('test split: NELBO ')[1].split()[0])
    niwae = [float(out.split(f'negative IWAE-{k}: ')[1].split()[0]) for k in (1, 10, 100, 1000)]
    assert 0 < niwae[-1] < niwae[0] and abs(niwae[0] - nelbo) < 3, out   # IWAE-1 estimates the ELBO; more samples, a tighter bound
    # the run is named by the data's name and a digest of its contents (its config keeps the path: a moved file is
    # refused as other settings rather than taken for the same data)
    assert [p.name.split('_dataset=')[1].split('-')[0] for p in tmp_path.iterdir()] == [data.split('.')[0]]


def test_api_trains_evaluates_and_samples_grey_values(digits, tmp_path):
    c = run_config('vae', dataset=str(digits / 'digits.npz'), binarize='none', iter_max=200, batch_size=50)
    exp = run_experiment([c], tmp_path, iws=(1, 10))
    f = exp.frame
    assert set(f['split']) == {'test'} and set(f['measure']) == {'nelbo', 'kl', 'rec', 'niwae'}
    model = exp.models[0]
    assert model.enc.x_dim == 64 and type(model.likelihood).__name__ == 'ContinuousBernoulli'
    s = model.sample_x(16)
    assert s.shape == (16, 64) and 0 <= s.min() and s.max() <= 1


def test_a_torchvision_dataset_from_the_data_directory(tmp_path, mnist_dir):
    # FashionMNIST's files have MNIST's names and format: MNIST's, unpacked into a data directory, stand in for them
    raw = tmp_path / 'FashionMNIST' / 'raw'; raw.mkdir(parents=True)
    for f in (mnist_dir / 'MNIST' / 'raw').glob('*.gz'):
        with gzip.open(f) as src, open(raw / f.stem, 'wb') as dst: shutil.copyfileobj(src, dst)
    d = read_torchvision('FashionMNIST', tmp_path)
    assert d.x.shape == (60000, 784) and d.x_test.shape == (10000, 784) and d.shape == (1, 28, 28)
    assert d.y.bincount().tolist()[:2] == [5923, 6742]   # MNIST's own class counts: the files were read, not made up


def test_bad_data_is_one_line_and_writes_nothing(digits, tmp_path):
    from PIL import Image
    imgs = np.load(digits / 'digits.npz')['x']
    bad = tmp_path / 'bad'; bad.mkdir()
    cases = {
        'shape.npz': (dict(x=np.zeros(10, np.uint8)), 'shape (n, ...)'),
        'dtype.npz': (dict(x=imgs.astype(np.int32)), 'dtype int32'),
        'nan.npz': (dict(x=np.where(imgs > 200, np.nan, imgs / 255)), 'NaN or infinite'),
        'range.npz': (dict(x=imgs.astype(np.float32)), 'floats must lie in [0, 1]'),
        'labels.npz': (dict(x=imgs, y=np.arange(5)), 'one label per image'),
        'small.npz': (dict(x=imgs[:40]), 'fewer than a batch of 100'),
    }
    for name, (arrays, _) in cases.items(): np.savez(bad / name, **arrays)
    (bad / 'empty.npz').write_bytes(b'')
    cases['empty.npz'] = (None, 'not a readable .npz')
    (bad / 'nofolder').mkdir()
    cases['nofolder'] = (None, 'ImageFolder')
    corrupt = bad / 'corrupt' / '0'; corrupt.mkdir(parents=True)
    for i in range(3): Image.fromarray(imgs[i]).save(corrupt / f'{i}.png')
    (corrupt / 'x.png').write_bytes(b'\x89PNG\r\n not an image')
    cases['corrupt'] = (None, 'x.png is not a readable image')
    runs = tmp_path / 'runs'
    for name, (_, why) in cases.items():
        code, err, _ = cli('--model', 'vae', '--dataset', str(bad / name), '--train', '--iwae', '--iter_max', '10', '--runs-dir', str(runs))
        assert code == 1 and why in err and len(err.strip().splitlines()) == 1, (name, code, err)
    assert not runs.exists() or not list(runs.glob('*/checkpoint.pt'))
    code, err, _ = cli('--model', 'fsvae', '--dataset', str(digits / 'digits.npz'), '--train')
    assert code == 2 and 'fsvae reads svhn or colored-mnist' in err


def test_chapter_one_runs_on_your_data(digits, tmp_path, mnist_dir):
    r = run([str(BIN / 'papermill'), str(ROOT / 'nbs' / '01_vae.ipynb'), str(tmp_path / 'out.ipynb'), '--cwd', str(ROOT),
             '-p', 'dataset', str(digits / 'digits.npz'), '-p', 'iter_max', '200', '-y', '{seeds: [0], schedules: [constant], iws: [1, 10]}',
             '-p', 'niwae_5000', 'False', '-p', 'runs_dir', str(tmp_path / 'runs'), '-p', 'results_dir', str(tmp_path / 'results')])
    assert r.returncode == 0, r.stderr[-3000:]
    import json
    res = json.loads((tmp_path / 'results' / 'vae.json').read_text())
    assert res['settings']['dataset'] == str(digits / 'digits.npz') and 'test/niwae_10' in res['runs']['0']
    assert not any(k.startswith('cs236/') for k in res['runs']['0'])
    assert torch.load(next((tmp_path / 'runs').glob('*/checkpoint.pt')), weights_only=False)['config']['dataset'] == str(digits / 'digits.npz')


def test_chapter_eight_runs_on_your_data(digits, tmp_path, mnist_dir):
    "Chapter 8's recipes on the 8x8 digits at a tiny budget: scored on their test split alone."
    r = run([str(BIN / 'papermill'), str(ROOT / 'nbs' / '08_likelihood.ipynb'), str(tmp_path / 'out.ipynb'), '--cwd', str(ROOT),
             '-p', 'dataset', str(digits / 'digits.npz'), '-p', 'iter_max', '60', '-p', 'k', '5', '-p', 'niwae_5000', 'False',
             '-y', '{seeds: [0], train_iws: [1, 2], gmvae_iws: [1], vamp_iws: [1], iws: [1, 10], workers: 1}',
             '-p', 'runs_dir', str(tmp_path / 'runs'), '-p', 'results_dir', str(tmp_path / 'results')])
    assert r.returncode == 0, r.stderr[-3000:]
    import json
    res = json.loads((tmp_path / 'results' / 'likelihood.json').read_text())
    assert {(v['model'], v['iw']) for v in res['runs'].values()} == {('vae', 1), ('iwae', 2), ('gmvae', 1), ('vampprior', 1)}
    assert all('test/niwae_10' in v and not any(k.startswith('cs236/') for k in v) for v in res['runs'].values())


def test_chapter_seven_runs_on_your_data(digits, tmp_path, mnist_dir):
    "Chapter 7 on the 8x8 digits at a tiny budget: its figures that move draw 8x8 images; vectors that are not images get one line."
    args = ['-p', 'iter_max', '60', '-y', '{betas: [0.5, 2]}', '-p', 'runs_dir', str(tmp_path / 'runs'), '-p', 'results_dir', str(tmp_path / 'results')]
    r = run([str(BIN / 'papermill'), str(ROOT / 'nbs' / '07_latent.ipynb'), str(tmp_path / 'out.ipynb'), '--cwd', str(ROOT),
             '-p', 'dataset', str(digits / 'digits.npz'), *args])
    assert r.returncode == 0, r.stderr[-3000:]
    import json
    res = json.loads((tmp_path / 'results' / 'latent.json').read_text())
    assert res['settings']['dataset'] == str(digits / 'digits.npz') and sorted(v['beta'] for v in res['runs'].values()) == [0.5, 2.0]
    out = json.loads((tmp_path / 'out.ipynb').read_text())
    html = ''.join(''.join(o.get('data', {}).get('text/html', '')) for c in out['cells'] for o in c.get('outputs', []))
    assert all(f'data-figure="{n}"' in html for n in ('latent-plane', 'latent-sliders', 'beta-reconstructions')) and html.count('"shape":[1,8,8]') == 3
    np.savez(tmp_path / 'vectors.npz', x=np.random.default_rng(0).random((300, 5)).astype(np.float32))
    r = run([str(BIN / 'papermill'), str(ROOT / 'nbs' / '07_latent.ipynb'), str(tmp_path / 'out2.ipynb'), '--cwd', str(ROOT),
             '-p', 'dataset', str(tmp_path / 'vectors.npz'), *args])
    assert r.returncode != 0 and 'chapter 7 looks at images' in r.stderr + r.stdout
