"""A chapter's runs on a real Dask cluster (issue 27): a scheduler and two workers on 127.0.0.1, started here as a user
would start them, train the runs; their checkpoints and results equal a local run's at the same thread count."""
import contextlib, io, json, os, subprocess, time
import pytest
import torch
from conftest import BIN, ROOT
import vaebook.experiment as experiment
from vaebook.experiment import run_experiment
from vaebook.registry import SettingsError, run_config
from vaebook.runs import run_dir

pytest.importorskip('distributed')


@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    d = tmp_path_factory.mktemp('dask')
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    sf = d / 'scheduler.json'
    procs = [subprocess.Popen([str(BIN / 'dask'), 'scheduler', '--host', '127.0.0.1', '--port', '0', '--no-dashboard',
                               '--scheduler-file', str(sf)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        for _ in range(120):
            if sf.exists() and sf.read_text().strip(): break
            time.sleep(0.5)
        address = json.loads(sf.read_text())['address']
        procs += [subprocess.Popen([str(BIN / 'dask'), 'worker', '--scheduler-file', str(sf), '--nthreads', '1', '--nworkers', '1',
                                    '--no-dashboard', '--local-directory', str(d / f'w{i}')], cwd=ROOT, env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for i in range(2)]
        from distributed import Client
        with Client(address, timeout='60s') as c: c.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for p in procs: p.terminate()
        for p in procs: p.wait(30)


def test_runs_train_on_the_cluster_as_they_would_here(cluster, tmp_path, mnist_dir):
    configs = [run_config('vae', iter_max=60, batch_size=20, seed=s) for s in (0, 1)]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)   # the workers' thread count, for the local runs and both evaluations
    try:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            far = run_experiment(configs, tmp_path / 'far', results=tmp_path / 'far.json', iws=(1, 10), scheduler=cluster)
        assert out.getvalue().count('trained and scored on the cluster') == 2, out.getvalue()
        assert 'checkpoint reused' in out.getvalue()   # the driver then only evaluates what the workers trained
        here = run_experiment(configs, tmp_path / 'here', results=tmp_path / 'here.json', iws=(1, 10))
    finally: torch.set_num_threads(threads)
    for c in configs:
        a = torch.load(run_dir(c, tmp_path / 'far') / 'checkpoint.pt', weights_only=False)['model']
        b = torch.load(run_dir(c, tmp_path / 'here') / 'checkpoint.pt', weights_only=False)['model']
        assert all(torch.equal(a[k], b[k]) for k in a)
    cols = ['label', 'split', 'measure', 'eval_iw', 'value']
    assert far.frame[cols].equals(here.frame[cols])


def test_an_unreachable_scheduler_is_one_line(tmp_path, monkeypatch, mnist_dir):
    monkeypatch.setattr(experiment, 'CLUSTER_TIMEOUT', '2s')
    with pytest.raises(SettingsError, match='cannot reach the Dask scheduler at tcp://127.0.0.1:9'):
        run_experiment([run_config('vae', iter_max=5, batch_size=20)], tmp_path, scheduler='tcp://127.0.0.1:9')
    assert not list(tmp_path.glob('*/checkpoint.pt'))   # nothing trained, nothing written
    monkeypatch.setenv('VAEBOOK_SCHEDULER', 'tcp://127.0.0.1:9')   # the environment's scheduler is used likewise
    with pytest.raises(SettingsError, match='cannot reach'):
        run_experiment([run_config('vae', iter_max=5, batch_size=20)], tmp_path)
