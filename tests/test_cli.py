"The console script as a user meets it: refusals are one line with exit 2, data and run errors one line with exit 1."
import os, shutil
from conftest import BIN, run
from vaebook.registry import run_config
from vaebook.runs import run_dir

VAEBOOK = str(BIN / 'vaebook')


def one_error_line(r):
    lines = [l for l in r.stderr.splitlines() if l.strip() and not l.startswith('usage:') and not l.startswith('  ')]
    assert 'Traceback' not in r.stderr, r.stderr
    assert len(lines) == 1, r.stderr
    return lines[0]


def test_unknown_model_is_usage_error():
    r = run([VAEBOOK, '--model', 'pixelcnn', '--train'])
    assert r.returncode == 2 and 'invalid choice' in one_error_line(r)


def test_bad_weights_and_sizes(tmp_path):
    for args, msg in [(['--gw', 'nan'], 'finite'), (['--cw', '-3'], '>= 0'), (['--z', '0'], 'at least 1'),
                      (['--iter_max', '0'], 'at least 1'), (['--iter_max', '5', '--iter_save', '9'], 'larger than'),
                      (['--seed', str(2 ** 32)], 'from 0 to 4294967295'), (['--z', str(10 ** 9)], 'GiB of memory'),
                      (['--model', 'gmvae', '--k', str(10 ** 9)], 'GiB of memory')]:
        r = run([VAEBOOK, '--train', '--runs-dir', str(tmp_path), *args])
        assert r.returncode == 2 and msg in one_error_line(r), (args, r.stderr)
    assert not any(tmp_path.iterdir())  # nothing started


def test_missing_data_dir(tmp_path):
    r = run([VAEBOOK, '--train', '--iter_max', '1', '--data-dir', str(tmp_path / 'nowhere'), '--runs-dir', str(tmp_path / 'runs')])
    line = one_error_line(r)
    assert r.returncode == 1 and 'missing' in line and 'nowhere' in line
    assert not (run_dir(run_config('vae', iter_max=1), tmp_path / 'runs') / 'checkpoint.pt').exists()


def test_empty_data_dir(tmp_path):
    r = run([VAEBOOK, '--train', '--iter_max', '1', '--data-dir', str(tmp_path), '--runs-dir', str(tmp_path / 'runs')])
    assert r.returncode == 1 and 'missing' in one_error_line(r)


def test_unwritable_places_are_one_line(tmp_path, mnist_dir):
    "A runs directory that is a file, or a cache under a HOME that is a file: one line, before any training."
    (tmp_path / 'file').write_text('')
    r = run([VAEBOOK, '--train', '--iter_max', '1', '--runs-dir', str(tmp_path / 'file'), '--data-dir', str(mnist_dir)])
    assert r.returncode == 1 and 'cannot write the run directory' in one_error_line(r), r.stderr
    env = {k: v for k, v in os.environ.items() if k != 'VAEBOOK_CACHE'}
    r = run([VAEBOOK, '--train', '--iter_max', '1', '--runs-dir', str(tmp_path / 'runs'), '--data-dir', str(mnist_dir)],
            env={**env, 'HOME': str(tmp_path / 'file')})
    assert r.returncode == 1 and 'set VAEBOOK_CACHE to a writable directory' in one_error_line(r), r.stderr


def test_corrupt_mnist_file(tmp_path, mnist_dir):
    raw = tmp_path / 'MNIST' / 'raw'; raw.mkdir(parents=True)
    for f in (mnist_dir / 'MNIST' / 'raw').glob('*.gz'): shutil.copy(f, raw / f.name)
    (raw / 'train-images-idx3-ubyte.gz').write_bytes(b'not a gzip file')
    r = run([VAEBOOK, '--train', '--iter_max', '1', '--data-dir', str(tmp_path), '--runs-dir', str(tmp_path / 'runs')],
            env={'VAEBOOK_CACHE': str(tmp_path / 'cache'), 'PATH': '/usr/bin:/bin', 'HOME': str(tmp_path)})
    assert r.returncode == 1 and 'corrupt' in one_error_line(r)
    assert (raw / 'train-images-idx3-ubyte.gz').read_bytes() == b'not a gzip file'


def test_train_then_evaluate(tmp_path, mnist_dir):
    args = ['--runs-dir', str(tmp_path), '--device', 'cpu', '--data-dir', str(mnist_dir)]
    r = run([VAEBOOK, '--model', 'gmvae', '--k', '5', '--train', '--iter_max', '30', *args])
    assert r.returncode == 0, r.stderr
    r = run([VAEBOOK, '--model', 'gmvae', '--k', '5', '--iwae', '--iter_max', '30', *args])
    assert r.returncode == 0 and 'negative IWAE-1000' in r.stdout, r.stderr
    # a checkpoint of another k, copied where the k=6 run lives, is refused, not silently loaded
    src, dst = (run_dir(run_config('gmvae', k=k, iter_max=30), tmp_path) for k in (5, 6))
    dst.mkdir(); shutil.copy(src / 'checkpoint.pt', dst)
    r = run([VAEBOOK, '--model', 'gmvae', '--k', '6', '--iwae', '--iter_max', '30', *args])
    assert r.returncode == 1 and 'other settings: k=5 (wanted 6)' in one_error_line(r)


def test_checkpoint_of_more_iterations_is_not_passed_off(tmp_path, mnist_dir):
    "A 20-iteration checkpoint is neither evaluated nor resumed as a 10-iteration run."
    args = ['--runs-dir', str(tmp_path), '--device', 'cpu', '--data-dir', str(mnist_dir)]
    assert run([VAEBOOK, '--train', '--iter_max', '20', *args]).returncode == 0
    r = run([VAEBOOK, '--iwae', '--iter_max', '10', *args])
    assert r.returncode == 2 and 'no checkpoint at' in one_error_line(r)
    ten, twenty = (run_dir(run_config('vae', iter_max=n), tmp_path) for n in (10, 20))
    ten.mkdir(); shutil.copy(twenty / 'checkpoint.pt', ten)
    before = (ten / 'checkpoint.pt').read_bytes()
    for extra in (['--iwae'], ['--train', '--resume']):
        r = run([VAEBOOK, *extra, '--iter_max', '10', *args])
        assert r.returncode == 1 and 'iter_max=20 (wanted 10)' in one_error_line(r), r.stderr
    assert (ten / 'checkpoint.pt').read_bytes() == before


def test_truncated_checkpoint(tmp_path, mnist_dir):
    args = ['--runs-dir', str(tmp_path), '--device', 'cpu', '--data-dir', str(mnist_dir), '--iter_max', '5']
    assert run([VAEBOOK, '--train', *args]).returncode == 0
    ck = run_dir(run_config('vae', iter_max=5), tmp_path) / 'checkpoint.pt'
    data = ck.read_bytes(); ck.write_bytes(data[:len(data) // 2])
    for extra in (['--iwae'], ['--train', '--resume']):
        r = run([VAEBOOK, *extra, *args])
        assert r.returncode == 1 and 'truncated' in one_error_line(r), r.stderr
    assert ck.read_bytes() == data[:len(data) // 2]   # left as it was, for the user to inspect


def test_ssvae_reads_only_the_data_dir_given(tmp_path, mnist_dir):
    "--data-dir alone (no VAEBOOK_DATA, an empty cache) is enough for the SSVAE, whose labelled set is a CS236 subset."
    env = {k: v for k, v in os.environ.items() if k != 'VAEBOOK_DATA'}
    env['VAEBOOK_CACHE'] = str(tmp_path / 'cache')
    r = run([VAEBOOK, '--model', 'ssvae', '--gw', '0.5', '--train', '--iwae', '--iter_max', '3', '--device', 'cpu',
             '--data-dir', str(mnist_dir), '--runs-dir', str(tmp_path / 'runs')], env=env)
    assert r.returncode == 0, r.stderr
    assert 'accuracy' in r.stdout.lower(), r.stdout
