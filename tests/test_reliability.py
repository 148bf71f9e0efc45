"Interrupted runs lose nothing: kills, Ctrl-C and torn checkpoint writes, through the real console script."
import os, signal, subprocess, time
import pytest
import torch
from conftest import BIN, ROOT

VAEBOOK = str(BIN / 'vaebook')


def cmd(runs, *extra, iters=300):
    return [VAEBOOK, '--model', 'vae', '--train', '--iter_max', str(iters), '--iter_save', '100', '--seed', '3',
            '--device', 'cpu', '--runs-dir', str(runs), *extra]


def params(runs):
    return torch.load(runs / 'model=vae_z=10_run=0000' / 'checkpoint.pt', weights_only=False)


def start_and_wait_for_checkpoint(runs, sig):
    p = subprocess.Popen(cmd(runs), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ckpt = runs / 'model=vae_z=10_run=0000' / 'checkpoint.pt'
    t0 = time.time()
    while not ckpt.exists():
        assert p.poll() is None, p.stderr.read()
        assert time.time() - t0 < 120, 'no checkpoint after 120 s'
        time.sleep(0.05)
    p.send_signal(sig)
    out, err = p.communicate(timeout=60)
    return p.returncode, err


@pytest.fixture(scope='module')
def reference_run(tmp_path_factory, mnist_dir):
    runs = tmp_path_factory.mktemp('uninterrupted')
    r = subprocess.run(cmd(runs), cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return params(runs)


def assert_same(a, b):
    assert a['iteration'] == b['iteration'] == 300
    for k in a['model']: assert torch.equal(a['model'][k], b['model'][k]), k


def test_sigkill_then_resume_is_bit_identical(tmp_path, reference_run):
    code, _ = start_and_wait_for_checkpoint(tmp_path, signal.SIGKILL)
    assert code == -signal.SIGKILL
    assert params(tmp_path)['iteration'] < 300
    r = subprocess.run(cmd(tmp_path, '--resume'), cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert_same(params(tmp_path), reference_run)


def test_ctrl_c_writes_checkpoint_and_resumes(tmp_path, reference_run):
    code, err = start_and_wait_for_checkpoint(tmp_path, signal.SIGINT)
    assert code == 130 and 'interrupted' in err and 'Traceback' not in err, err
    it = params(tmp_path)['iteration']
    assert 100 <= it < 300
    r = subprocess.run(cmd(tmp_path, '--resume'), cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert_same(params(tmp_path), reference_run)


def test_torn_write_leaves_previous_checkpoint(tmp_path, mnist_dir):
    from vaebook.training import save_checkpoint, load_checkpoint
    f = tmp_path / 'checkpoint.pt'
    save_checkpoint(f, model={'w': torch.ones(3)}, iteration=1)
    # a writer killed mid-write leaves only a partial temporary file beside the real one
    (tmp_path / 'checkpoint.pt.tmp').write_bytes(b'\x80\x02partial')
    assert load_checkpoint(f)['iteration'] == 1
    save_checkpoint(f, model={'w': torch.zeros(3)}, iteration=2)
    assert load_checkpoint(f)['iteration'] == 2 and not (tmp_path / 'checkpoint.pt.tmp').exists()


def test_existing_run_needs_overwrite(tmp_path, mnist_dir):
    rd = tmp_path / 'model=vae_z=10_run=0000'; rd.mkdir(); (rd / 'notes.txt').write_text('keep me')
    r = subprocess.run(cmd(tmp_path, iters=100), cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 2 and 'already exists' in r.stderr and (rd / 'notes.txt').read_text() == 'keep me'


def test_bad_papermill_parameter_is_refused(tmp_path):
    r = subprocess.run([str(BIN / 'papermill'), 'nbs/01_vae.ipynb', str(tmp_path / 'out.ipynb'), '-p', 'z', '0',
                        '-p', 'run', str(tmp_path / 'runs')], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode != 0 and 'setting z must be an integer >= 1, got 0' in r.stderr + r.stdout
    assert not (tmp_path / 'runs').exists()


def test_bad_ssvae_weight_through_papermill(tmp_path):
    r = subprocess.run([str(BIN / 'papermill'), 'nbs/04_ssvae.ipynb', str(tmp_path / 'out.ipynb'), '-p', 'gw', '-1',
                        '-p', 'run', str(tmp_path / 'runs'), '-p', 'results', str(tmp_path / 'ssvae.json')],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode != 0 and 'setting gw must be a finite number >= 0, got -1' in r.stderr + r.stdout
    assert not (tmp_path / 'runs').exists() and not (tmp_path / 'ssvae.json').exists()
