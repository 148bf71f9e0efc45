"""Interrupted and concurrent runs lose nothing: kills, stop signals, torn writes and a second process on the same run,
through the real console script."""
import os, signal, subprocess, time
import pytest
import torch
from conftest import BIN, ROOT
from vaebook.registry import run_config
from vaebook.runs import run_dir

VAEBOOK = str(BIN / 'vaebook')


def cmd(runs, *extra, iters=300, save=100):
    return [VAEBOOK, '--model', 'vae', '--train', '--iter_max', str(iters), '--iter_save', str(save), '--seed', '3',
            '--device', 'cpu', '--runs-dir', str(runs), *extra]


def ckpt_of(runs, iters=300):
    return run_dir(run_config('vae', iter_max=iters, seed=3), runs) / 'checkpoint.pt'


def params(runs):
    return torch.load(ckpt_of(runs), weights_only=False)


def start(args):
    return subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(path, p, timeout=120):
    t0 = time.time()
    while not (path.exists() and path.stat().st_size > 0):
        assert p.poll() is None, p.stderr.read()
        assert time.time() - t0 < timeout, f'no {path.name} after {timeout} s'
        time.sleep(0.02)


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
    p = start(cmd(tmp_path))
    wait_for(ckpt_of(tmp_path), p)
    p.kill(); p.communicate(timeout=60)
    assert params(tmp_path)['iteration'] < 300
    with open(ckpt_of(tmp_path).parent / 'metrics.jsonl', 'a') as f: f.write('{"iteration": 12')   # a torn last line
    r = subprocess.run(cmd(tmp_path, '--resume'), cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert_same(params(tmp_path), reference_run)


@pytest.mark.parametrize('sig', [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: signal.Signals(s).name)
def test_stop_signal_writes_checkpoint_and_resumes(tmp_path, reference_run, sig):
    p = start(cmd(tmp_path))
    wait_for(ckpt_of(tmp_path), p)
    p.send_signal(sig)
    _, err = p.communicate(timeout=60)
    name = signal.Signals(sig).name
    it = params(tmp_path)['iteration']
    assert p.returncode == 128 + sig and 'Traceback' not in err, err
    assert f'interrupted by {name}; the checkpoint in' in err and f'holds iteration {it}; add --resume' in err, err
    assert 100 <= it < 300
    r = subprocess.run(cmd(tmp_path, '--resume'), cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert_same(params(tmp_path), reference_run)


def test_two_quick_ctrl_c_name_only_a_real_checkpoint(tmp_path, mnist_dir):
    """Two Ctrl-C 10 ms apart: the second may stop the run before the first's checkpoint is written (or the two may
    arrive as one). Either way the message names a checkpoint only if one exists, with the iteration it holds."""
    from vaebook.training import checkpoint_iteration
    p = start(cmd(tmp_path, iters=5000, save=5000))
    wait_for(ckpt_of(tmp_path, 5000).parent / 'metrics.jsonl', p)
    p.send_signal(signal.SIGINT); time.sleep(0.01); p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130 and 'Traceback' not in err, err
    ck = ckpt_of(tmp_path, 5000)
    if ck.exists(): assert f'holds iteration {checkpoint_iteration(ck)}; add --resume' in err, err
    else: assert 'interrupted by SIGINT; no checkpoint was written' in err, err


def test_second_training_of_one_run_is_refused(tmp_path, mnist_dir):
    first = start(cmd(tmp_path, iters=3000, save=3000))
    wait_for(ckpt_of(tmp_path, 3000).parent / 'metrics.jsonl', first)
    r = subprocess.run(cmd(tmp_path, '--resume', iters=3000, save=3000), cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 1 and f'is in use by another process (pid {first.pid})' in r.stderr, r.stderr
    first.send_signal(signal.SIGINT); first.communicate(timeout=60)
    rows = (ckpt_of(tmp_path, 3000).parent / 'metrics.jsonl').read_text().splitlines()
    its = [int(l.split('"iteration": ')[1].split(',')[0]) for l in rows]
    assert its == sorted(set(its)), its   # one writer: no interleaved or repeated rows


def test_two_first_runs_on_an_empty_cache(tmp_path, mnist_dir):
    "Two processes that both build the decompressed MNIST cache at once both succeed."
    env = {**os.environ, 'VAEBOOK_CACHE': str(tmp_path / 'cache')}
    ps = [subprocess.Popen(cmd(tmp_path / f'runs{s}', iters=5, save=5), cwd=ROOT, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True) for s in (0, 1)]
    for p in ps:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    assert sorted(f.name for f in (tmp_path / 'cache' / 'mnist' / 'MNIST' / 'raw').iterdir()) == [
        't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte', 'train-images-idx3-ubyte', 'train-labels-idx1-ubyte']


def test_ctrl_c_during_evaluation(tmp_path, mnist_dir):
    args = [VAEBOOK, '--model', 'gmvae', '--iter_max', '5', '--device', 'cpu', '--runs-dir', str(tmp_path)]
    assert subprocess.run([*args, '--train'], cwd=ROOT, capture_output=True).returncode == 0
    p = start([*args, '--iwae'])
    lock, t0 = run_dir(run_config('gmvae', iter_max=5), tmp_path) / '.lock', time.time()
    while lock.read_text().strip() != str(p.pid):   # the evaluation holds the run's lock: the bounds are under way
        assert p.poll() is None, p.stderr.read()
        assert time.time() - t0 < 120, 'the evaluation did not start within 120 s'
        time.sleep(0.01)
    p.send_signal(signal.SIGINT)   # IWAE-1000 alone takes seconds: this lands inside the evaluation
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130 and 'Traceback' not in err, err
    assert 'interrupted by SIGINT during the evaluation; nothing was written' in err, err
    assert not (run_dir(run_config('gmvae', iter_max=5), tmp_path) / 'evaluation.json').exists()


def test_torn_write_leaves_previous_checkpoint(tmp_path):
    from vaebook.training import save_checkpoint, load_checkpoint
    f = tmp_path / 'checkpoint.pt'
    save_checkpoint(f, model={'w': torch.ones(3)}, iteration=1)
    # a writer killed mid-write leaves only a partial temporary file beside the real one
    (tmp_path / '.checkpoint.pt.x.tmp').write_bytes(b'\x80\x02partial')
    assert load_checkpoint(f)['iteration'] == 1
    save_checkpoint(f, model={'w': torch.zeros(3)}, iteration=2)
    assert load_checkpoint(f)['iteration'] == 2


def test_bad_papermill_parameter_is_refused(tmp_path):
    for args, msg in [(['-p', 'z', '0'], 'setting z must be an integer >= 1, got 0'),
                      (['-y', 'iws: [1, 0]'], 'setting iws must be a non-empty list, each an integer >= 1'),
                      (['-y', 'seeds: [-1]'], 'setting seeds must be a non-empty list, each an integer from 0'),
                      (['-p', 'iter_mx', '10'], 'no parameter iter_mx (did you mean iter_max?)')]:
        r = subprocess.run([str(BIN / 'papermill'), 'nbs/01_vae.ipynb', str(tmp_path / 'out.ipynb'), *args,
                            '-p', 'runs_dir', str(tmp_path / 'runs'), '-p', 'results_dir', str(tmp_path / 'res')],
                           cwd=ROOT, capture_output=True, text=True)
        assert r.returncode != 0 and msg in r.stderr + r.stdout, (args, r.stderr[-2000:])
    assert not (tmp_path / 'runs').exists() and not (tmp_path / 'res').exists()


def test_bad_ssvae_weight_through_papermill(tmp_path):
    r = subprocess.run([str(BIN / 'papermill'), 'nbs/04_ssvae.ipynb', str(tmp_path / 'out.ipynb'), '-p', 'gw', '-1',
                        '-p', 'runs_dir', str(tmp_path / 'runs'), '-p', 'results_dir', str(tmp_path / 'res')],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode != 0 and 'setting gw must be None (all three experiments) or a finite number >= 0, got -1' in r.stderr + r.stdout
    assert not (tmp_path / 'runs').exists() and not (tmp_path / 'res').exists()
