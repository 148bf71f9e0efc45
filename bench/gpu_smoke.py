"""GPU smoke test: what the CPU-built book cannot show about a GPU, in at most about 5 minutes on one GPU, offline.

    VAEBOOK_DATA=/path/to/data python bench/gpu_smoke.py --device cuda [--out runs/results/gpu_smoke.json] [--no-chapters]

1. every model of the registry trains 200 iterations on the device, and a run stopped at 100 and resumed ends with
   the same weights, bit for bit (the trainer runs deterministic algorithms there, chapter 0a1);
2. a loss that turns NaN stops the run with its last checkpoint finite (the device's non-finite flag is read at log
   steps and before checkpoints, not every step);
3. a checkpoint moves between the device and the CPU: refused without `cross_device`, loaded with it, the same weights;
4. the bounds agree: the VAE's IWAE-100 on the CS236 images, on the device and on the CPU, within Monte-Carlo noise;
5. papermill runs every chapter at the quick book's budgets with `-p device <device>`, into a temporary directory;
6. chapter 1's training (20,000 iterations at batch 100) and IWAE-5000 on the 10,000 test images, timed at the
   GPU's chunk size.

Parts 1-4 run on the CPU too (`--device cpu`); the suite runs them there at a smaller budget
(tests/test_devices.py). The numbers go to `--out` (under runs/ by default; chapter 6 reads the copy a GPU run
writes to book/results/gpu_smoke.json)."""
import argparse, json, math, subprocess, sys, tempfile, time
from pathlib import Path
import torch
from vaebook.book import CHAPTERS, chapter_params
from vaebook.data import eval_set
from vaebook.devices import get_device, provenance
from vaebook.evaluation import evaluate_niwae
from vaebook.records import git_commit
from vaebook.registry import MODELS, make_batches, make_model, run_config
from vaebook.runs import load_run, project_path, run_dir, train_run
from vaebook.training import CheckpointError, TrainingDiverged, load_checkpoint, save_checkpoint, seed_everything, train

# every model of the registry trains in seconds at its defaults but these (the FSVAE on coloured MNIST: SVHN needs a
# download); a new model needs a line here only if it does not
SMALL = {'gmvae': {'k': 20}, 'fsvae': {'dataset': 'colored-mnist'}, 'betavae': {'beta': 2.0}, 'iwae': {'iw': 5},
         'gmiwae': {'k': 20, 'iw': 5}, 'vampprior': {'k': 20, 'iw': 1}, 'hvae': {'iw': 2}}


def resumes_exactly(model: str, device, iters=200, ddir=None) -> dict:
    "Train `model` for `iters` iterations straight and with a stop at half way; whether the weights are the same."
    config = run_config(model, iter_max=iters, batch_size=20, **SMALL.get(model, {}))
    batches = make_batches(config, ddir)
    ends = []
    with tempfile.TemporaryDirectory() as d:
        for name, legs in (('straight', [iters]), ('resumed', [iters // 2, iters])):
            for it in legs:   # each leg a fresh process's worth of state: a new model, the checkpoint's random state
                seed_everything(config['seed']); m = make_model(config)
                t = time.perf_counter()
                train(m, batches, Path(d) / name, iter_max=it, iter_save=it, config=config, device=device, progress=False)
            ends.append({k: v.cpu() for k, v in m.state_dict().items()})
    same = all(torch.equal(ends[0][k], ends[1][k]) for k in ends[0])
    return {'model': model, 'iterations': iters, 'resumed_bit_for_bit': same, 'last_leg_seconds': time.perf_counter() - t}


def diverges_safely(device, ddir=None) -> dict:
    """A VAE whose loss turns NaN after iteration 30 (checkpoints every 10): the trainer stops with `TrainingDiverged`
    and the last checkpoint written holds finite weights. On a GPU the loss is checked at log steps and before each
    checkpoint, not every step (chapter 0d)."""
    config = run_config('vae', iter_max=100, batch_size=20)
    batches, calls = make_batches(config, ddir), []
    seed_everything(0); m = make_model(config)
    loss = m.loss
    def poisoned(x):
        calls.append(1); l, s = loss(x)
        return (l * float('nan') if len(calls) > 30 else l), s
    m.loss = poisoned
    with tempfile.TemporaryDirectory() as d:
        try: train(m, batches, d, iter_max=100, iter_save=10, config=config, device=device, progress=False, log_every=10); stopped = False
        except TrainingDiverged: stopped = True
        state = load_checkpoint(Path(d) / 'checkpoint.pt')
    return {'stopped': stopped, 'checkpoint_iteration': state['iteration'],
            'checkpoint_finite': all(torch.isfinite(v).all().item() for v in state['model'].values())}


def moves_between(device, ddir=None, iters=100) -> dict:
    """Train a VAE on `device`, then reuse it on the other kind of device (the CPU; on a CPU, a pretend GPU): refused
    without `cross_device`, the same weights with it."""
    device = get_device(device)
    config = run_config('vae', iter_max=iters, batch_size=20)
    with tempfile.TemporaryDirectory() as d:
        m, *_ = train_run(config, d, device=device, ddir=ddir)
        ckpt = run_dir(config, d) / 'checkpoint.pt'
        other = 'cpu'
        if device.type == 'cpu':   # no second kind of device here: relabel the checkpoint as made on a GPU
            save_checkpoint(ckpt, **{**load_checkpoint(ckpt), 'device': 'cuda'})
        try: load_run(config, d, other); refused = False
        except CheckpointError as e: refused = 'was trained on' in str(e)
        back = load_run(config, d, other, cross_device=True)
        same = all(torch.equal(a.cpu(), b.cpu()) for a, b in zip(m.state_dict().values(), back.state_dict().values()))
    return {'refused_without_cross_device': refused, 'same_weights_with_it': same}


def bounds_agree(device, ddir=None, iters=300, iw=100, repeats=10) -> dict:
    "A VAE's IWAE-`iw` on the CS236 images, `repeats` times on `device` and on the CPU: the difference in s.e. of it."
    config = run_config('vae', iter_max=iters, batch_size=20)
    x, _ = eval_set('cs236', ddir)
    with tempfile.TemporaryDirectory() as d:
        model, *_ = train_run(config, d, device='cpu', ddir=ddir)
        est = []
        for seed, dev in ((1, 'cpu'), (2, get_device(device))):   # other draws on each: on a CPU, a test of the noise itself
            model.to(dev); torch.manual_seed(seed)
            est.append(torch.tensor([evaluate_niwae(model, x, iw) for _ in range(repeats)], dtype=torch.float64))
    a, b = est
    se = math.sqrt(a.var().item() / len(a) + b.var().item() / len(b))
    return {'iw': iw, 'cpu': a.mean().item(), str(get_device(device)): b.mean().item(), 'difference_in_se': (a.mean() - b.mean()).abs().item() / se}


def chapters(device, timeout=240) -> dict:
    "Run every chapter with papermill at the quick book's budgets on `device`, in a temporary directory; exit codes."
    out = {}
    with tempfile.TemporaryDirectory() as d:
        for ch in CHAPTERS:
            params = chapter_params(ch, 'gpu' if str(device).startswith('cuda') else str(device), quick=True)
            params = [p.replace('runs/quick', d) for p in params]   # its runs and results in the temporary directory
            t = time.perf_counter()
            try:
                r = subprocess.run([sys.executable, '-m', 'papermill', f'nbs/{ch}.ipynb', f'{d}/{ch}.ipynb', '--cwd',
                                    str(project_path()), *params], cwd=project_path(), capture_output=True, text=True, timeout=timeout)
                code = r.returncode
            except subprocess.TimeoutExpired: code = 'timeout'
            out[ch] = {'exit': code, 'seconds': time.perf_counter() - t}
    return out


def chapter_one_timed(device, ddir=None) -> dict:
    "Chapter 1's VAE trained for 20,000 iterations at batch 100 on `device`, and its IWAE-5000 on the 10,000 test images."
    config = run_config('vae')
    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter(); model, *_ = train_run(config, d, device=device, ddir=ddir); train_s = time.perf_counter() - t
        x, _ = eval_set('test', ddir)
        t = time.perf_counter(); niwae = evaluate_niwae(model, x, 5000); eval_s = time.perf_counter() - t
    return {'train_seconds': train_s, 'test_niwae_5000': niwae, 'niwae_5000_seconds': eval_s}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--device', default='cuda')
    p.add_argument('--data-dir', default=None)
    p.add_argument('--out', default='runs/results/gpu_smoke.json')
    p.add_argument('--no-chapters', action='store_true', help='leave out part 4 (papermill runs of the chapters)')
    a = p.parse_args()
    try: device = get_device(a.device)
    except ValueError as e: sys.exit(f'gpu_smoke: {e}')
    t0 = time.perf_counter()
    res = {'machine': provenance(device), 'commit': git_commit(),
           'resume': [resumes_exactly(m, device, ddir=a.data_dir) for m in MODELS],
           'diverges': diverges_safely(device, a.data_dir),
           'moves': moves_between(device, a.data_dir), 'bounds': bounds_agree(device, a.data_dir),
           'chapter_1': chapter_one_timed(device, a.data_dir)}
    if not a.no_chapters: res['chapters'] = chapters(device)
    res['total_seconds'] = time.perf_counter() - t0
    out = project_path(a.out); out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1))
    print(json.dumps(res, indent=1))
    d = res['diverges']
    ok = (all(r['resumed_bit_for_bit'] for r in res['resume']) and all(res['moves'].values())
          and d['stopped'] and d['checkpoint_finite'] and d['checkpoint_iteration'] == 30
          and res['bounds']['difference_in_se'] < 4 and all(c['exit'] == 0 for c in res.get('chapters', {}).values()))
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
