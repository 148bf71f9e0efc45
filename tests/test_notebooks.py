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
    for nb in ('01_vae', '02_gmvae', '03_iwae'):
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
