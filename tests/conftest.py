import os, sys, subprocess
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# a relative VAEBOOK_DATA (the README's ../shared/data) means relative to where pytest was started; notebooks and
# subprocesses run elsewhere (nbdev_test runs in nbs/), so hand them the absolute path
if os.environ.get('VAEBOOK_DATA'):
    os.environ['VAEBOOK_DATA'] = str(Path(os.environ['VAEBOOK_DATA']).resolve())


@pytest.fixture(scope='session')
def root(): return ROOT


def run(args, **kw):
    "Run a command in the project root, capturing text output."
    return subprocess.run(args, cwd=kw.pop('cwd', ROOT), capture_output=True, text=True, **kw)


@pytest.fixture(scope='session')
def mnist_dir():
    d = os.environ.get('VAEBOOK_DATA')
    if not d or not (Path(d) / 'MNIST' / 'raw' / 't10k-images-idx3-ubyte.gz').exists():
        pytest.skip('VAEBOOK_DATA does not point at a directory holding MNIST/raw/ (see README)')
    return Path(d)
