"The notebooks are the source: their inline tests pass and the package is exactly what they export."
import json
from conftest import ROOT, BIN, run


def test_nbdev_test(mnist_dir):
    r = run([str(BIN / 'nbdev_test'), '--path', 'nbs'])
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]


def test_export_matches_package(tmp_path):
    before = {p.name: p.read_text() for p in (ROOT / 'vaebook').glob('*.py')}
    r = run([str(BIN / 'nbdev_export')])
    assert r.returncode == 0, r.stderr
    after = {p.name: p.read_text() for p in (ROOT / 'vaebook').glob('*.py')}
    changed = [n for n in after if before.get(n) != after[n]]
    assert not changed, f'nbdev_export changed {changed}: run nbdev_export and commit vaebook/'


def test_chapters_have_papermill_parameters():
    import papermill
    for nb in ('01_vae', '02_gmvae', '03_iwae', '04_ssvae', '05_fsvae'):
        params = papermill.inspect_notebook(str(ROOT / 'nbs' / f'{nb}.ipynb'))
        assert params, f'{nb} has no cell tagged "parameters"'
    assert {'iter_max', 'z', 'seeds', 'device', 'data_dir', 'run', 'reuse'} <= set(papermill.inspect_notebook(str(ROOT / 'nbs/01_vae.ipynb')))
    assert 'k' in papermill.inspect_notebook(str(ROOT / 'nbs/02_gmvae.ipynb'))


def test_nbdev_clean_keeps_parameters_tag(tmp_path):
    import shutil
    src = ROOT / 'nbs' / '01_vae.ipynb'
    shutil.copy(src, tmp_path / 'x.ipynb')
    r = run([str(BIN / 'nbdev_clean'), '--fname', str(tmp_path / 'x.ipynb')])
    assert r.returncode == 0, r.stderr
    cells = json.loads((tmp_path / 'x.ipynb').read_text())['cells']
    assert any('parameters' in c.get('metadata', {}).get('tags', []) for c in cells)


def test_papermill_gw_reaches_the_loss(tmp_path, mnist_dir):
    "`-p gw 0.001` must train with 0.001: the logged loss is 0.001 * nelbo + 100 * ce, and the results say 0.001."
    r = run([str(BIN / 'papermill'), 'nbs/04_ssvae.ipynb', str(tmp_path / 'out.ipynb'), '-p', 'gw', '0.001',
             '-p', 'iter_max', '4', '-y', 'seeds: [0]', '-p', 'run', str(tmp_path / 'runs'),
             '-p', 'results', str(tmp_path / 'ssvae.json')])
    assert r.returncode == 0, r.stderr[-3000:]
    [log] = (tmp_path / 'runs').glob('ssvae_*gw=0.001_*seed=0/metrics.jsonl')
    row = json.loads(log.read_text().splitlines()[-1])
    assert row['iteration'] == 4
    assert abs(row['loss'] - (0.001 * row['nelbo'] + 100 * row['ce'])) < 1e-4 * row['loss']
    res = json.loads((tmp_path / 'ssvae.json').read_text())
    assert res['runs']['gw=0.001/seed=0']['gw'] == 0.001 and set(res['summary']) == {'accuracy/gw=0.001'}
