"""vaebook's CPU benchmark: training iterations/s, IWAE evaluation images/s and peak memory, against the
straightforward baseline in bench/baseline.py, in one process and one run so that machine noise cancels.

    VAEBOOK_DATA=../shared/data python bench/bench.py [--out book/results/bench.json] [--quick]

Every throughput is the median of several repetitions; ratios are ours / baseline from the same run."""
import argparse, json, os, platform, statistics, subprocess, sys, tempfile, time
from pathlib import Path
import torch

sys.path.insert(0, str(Path(__file__).parent))
import baseline
from vaebook.data import data_dir, eval_set, _mnist_root, Batches, cs236_subset, labelled_batches, mnist_batches
from vaebook.colour import load_digits
from vaebook.training import train, seed_everything
from vaebook.evaluation import evaluate_niwae
from vaebook.vae import vae
from vaebook.gmvae import gmvae
from vaebook.ssvae import SSVAE
from vaebook.fsvae import fsvae


def median_time(f, reps):
    ts = []
    for _ in range(reps):
        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def matmul_peak(n=2048, reps=10):
    "float32 GFLOP/s of n x n matmuls at this process's thread count."
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3): a @ b
    return 2 * n ** 3 / median_time(lambda: a @ b, reps) / 1e9


def mlp_macs(sizes):
    return sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))


def matmul_floor_it_s(sizes_list, bs=100, reps=200):
    """Iterations/s if an iteration were nothing but its matrix products: for each layer of the MLPs in `sizes_list`,
    the forward product, the weight gradient and (except for the first layer of the first MLP, whose input is data)
    the input gradient, on preallocated tensors of the training shapes."""
    ops = []
    for j, sizes in enumerate(sizes_list):
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            x, w, bias, g = torch.randn(bs, a), torch.randn(b, a), torch.randn(b), torch.randn(bs, b)
            ops.append(lambda x=x, w=w, bias=bias: torch.addmm(bias, x, w.t()))
            ops.append(lambda x=x, g=g: g.t() @ x)
            if (j, i) != (0, 0): ops.append(lambda w=w, g=g: g @ w)
    def it():
        for f in ops: f()
    for _ in range(20): it()
    return reps / (median_time(lambda: [it() for _ in range(reps)], 5))


def train_flops(name, z=10, k=500, bs=100):
    "Forward + backward FLOPs of one training iteration (matmuls only; backward counted as twice the forward)."
    enc, dec = mlp_macs([784, 300, 300, 2 * z]), mlp_macs([z, 300, 300, 784])
    if name in ('vae', 'gmvae'): macs = bs * (enc + dec)
    elif name == 'ssvae':  # what our code multiplies: x's share of the encoder's first layer once, the rest per label
        cls = mlp_macs([784, 300, 300, 10])
        macs = 2 * bs * cls + bs * 784 * 300 + 10 * bs * (mlp_macs([300, 300, 128]) + mlp_macs([64, 300, 300, 784]))
    else: macs = bs * (mlp_macs([3082, 500, 500, 20]) + mlp_macs([20, 500, 500, 3072]))
    return 6 * macs


def train_rates(make, batches, base_batches, base_loss, iters, reps):
    """Iterations/s of our `train` and of the baseline loop, median of `reps` each, the two alternating so that a slow
    spell of the machine falls on both."""
    def ours():
        seed_everything(0)
        with tempfile.TemporaryDirectory() as d:
            t = time.perf_counter()
            train(make(), batches, d, iter_max=iters, progress=False, log_every=10 ** 9)
            return time.perf_counter() - t
    def base():
        seed_everything(0)
        return iters * baseline.train_baseline(baseline.stock(make()), base_batches, base_loss, iters)
    ours(); base()  # warm-up
    ts = [(ours(), base()) for _ in range(reps)]
    return iters / statistics.median(t for t, _ in ts), iters / statistics.median(t for _, t in ts)


def peak_rss_mb(code):
    """Peak resident memory (MB) of a fresh Python process running `code`: its own VmHWM, which starts afresh at exec
    (getrusage's ru_maxrss would carry over the parent's peak)."""
    probe = "\nprint(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')))"
    r = subprocess.run([sys.executable, '-c', code + probe], capture_output=True, text=True, env={**os.environ})
    if r.returncode: raise RuntimeError(r.stderr)
    return int(r.stdout.split()[-1]) / 1024


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--out', default='runs/results/bench.json', help='the book keeps its copy in book/results/bench.json')
    p.add_argument('--quick', action='store_true', help='fewer iterations and repetitions (a smoke run; numbers are noisier)')
    a = p.parse_args()
    iters, reps, n_img = (30, 2, 100) if a.quick else (500, 3, 1000)
    res = {'machine': {'cpu': platform.processor() or platform.machine(), 'threads': torch.get_num_threads(),
                       'torch': torch.__version__}, 'training': {}, 'iwae': {}}
    peak = matmul_peak()
    res['machine']['matmul_gflops'] = peak
    print(f'float32 matmul peak: {peak:.1f} GFLOP/s on {torch.get_num_threads()} threads')

    # --- training iterations per second
    root = _mnist_root(data_dir())
    xl, yl = cs236_subset('train')
    X, y = load_digits('colored-mnist', 'train')
    mnist_l = baseline.mnist_loader(root, 100, 0)
    ssvae_l = ((x, torch.bernoulli(xl), yl) for x in baseline.mnist_loader(root, 100, 0))
    cases = {  # name: (model, our batches, baseline batches, baseline loss, iterations)
        'vae': (lambda: vae(10), mnist_batches(100, 0), mnist_l, baseline.vae_loss, iters),
        'gmvae': (lambda: gmvae(10, 500), mnist_batches(100, 0), mnist_l, baseline.vae_loss, iters),
        'ssvae': (lambda: SSVAE(64, gw=1, cw=100), labelled_batches(100, 0), ssvae_l, baseline.ssvae_loss, iters // 4),
        'fsvae': (lambda: fsvae(10), Batches(X, y, 100, 0), baseline.image_loader(X, y, 100, 0), baseline.fsvae_loss, iters // 4),
    }
    # small products at batch 100: what would the VAE's matrix products alone allow?
    floor = matmul_floor_it_s([[784, 300, 300, 20], [10, 300, 300, 784]])
    for name, (make, batches, base_batches, base_loss, n) in cases.items():
        ours, base = train_rates(make, batches, base_batches, base_loss, n, reps)
        row = {'iterations': n, 'ours_it_s': ours, 'baseline_it_s': base, 'gflops': train_flops(name) * ours / 1e9}
        row['fraction_of_peak'] = row['gflops'] / peak
        row['ratio'] = ours / row['baseline_it_s']
        if name in ('vae', 'gmvae'): row['matmul_floor_it_s'] = floor  # the GMVAE adds only its prior's thin products
        res['training'][name] = row
        print(f"train {name:6s}: {ours:7.1f} it/s vs baseline {row['baseline_it_s']:7.1f} it/s = {row['ratio']:.2f}x"
              f"  ({row['gflops']:.1f} GFLOP/s, {100 * row['fraction_of_peak']:.0f}% of peak)"
              + (f"; its matrix products alone: {row['matmul_floor_it_s']:.0f} it/s" if 'matmul_floor_it_s' in row else ''))

    # --- models of one architecture trained together (a vmapped stack) against one after another
    from stacking import Stack
    K = 3
    stack_cases = {'vae': (lambda: vae(10), lambda s: mnist_batches(100, s)), 'gmvae': (lambda: gmvae(10, 500), lambda s: mnist_batches(100, s)),
                   'ssvae_gw0': (lambda: SSVAE(64, gw=0, cw=100), lambda s: labelled_batches(100, s)),
                   'ssvae': (lambda: SSVAE(64, gw=1, cw=100), lambda s: labelled_batches(100, s))}
    res['stacking'] = {}
    for name, (make, batches) in stack_cases.items():
        n = iters // 20 if name == 'ssvae' else iters // 5   # a tenth of a minute per timing is plenty for a ratio
        bs = [batches(s) for s in range(K)]
        def one_by_one():
            for s in range(K):
                seed_everything(s); m = make(); opt = torch.optim.Adam(m.parameters(), lr=1e-3, fused=True)
                for i in range(n):
                    b = bs[s](i); b = b if isinstance(b, tuple) else (b,)
                    opt.zero_grad(set_to_none=True); m.loss(*b)[0].backward(); opt.step()
        def together():
            seed_everything(0); st = Stack([make() for _ in range(K)])
            for i in range(n): st.step([b(i) for b in bs])
        one_by_one(); together()   # warm-up
        ts = [(median_time(one_by_one, 1), median_time(together, 1)) for _ in range(reps)]
        alone, stacked = (K * n / statistics.median(t[j] for t in ts) for j in (0, 1))
        res['stacking'][name] = {'models': K, 'iterations': n, 'one_by_one_model_it_s': alone, 'stacked_model_it_s': stacked,
                                 'ratio': stacked / alone}
        print(f"{K} {name} models: one after another {alone:6.1f} model-it/s, stacked {stacked:6.1f} model-it/s = {stacked / alone:.2f}x")

    # --- the elementwise functions this torch build runs slowly, at SSVAE-iteration sizes
    from vaebook.networks import ELU
    from vaebook.distributions import log_bernoulli_with_logits
    h, lg, xb = torch.randn(1000, 300), torch.randn(1000, 784) * 5, torch.bernoulli(torch.rand(1000, 784))
    stock_elu = torch.nn.ELU()
    ew = {'elu_stock_ms': median_time(lambda: stock_elu(h), 50) * 1e3, 'elu_ours_ms': median_time(lambda: ELU()(h), 50) * 1e3,
          'bernoulli_stock_ms': median_time(lambda: baseline.bce(xb, lg), 50) * 1e3,
          'bernoulli_ours_ms': median_time(lambda: log_bernoulli_with_logits(xb, lg), 50) * 1e3}
    res['elementwise'] = ew
    print(f"ELU on 1000x300: stock {ew['elu_stock_ms']:.2f} ms, ours {ew['elu_ours_ms']:.2f} ms; Bernoulli log-likelihood on "
          f"1000x784: stock {ew['bernoulli_stock_ms']:.2f} ms, ours {ew['bernoulli_ours_ms']:.2f} ms")

    # --- IWAE-1000 evaluation, images per second
    x = eval_set('test')[0][:n_img]
    k = 1000
    for name, make in (('vae', lambda: vae(10)), ('gmvae', lambda: gmvae(10, 500))):
        seed_everything(0); m = make().eval(); mb = baseline.stock(m)
        evaluate_niwae(m, x[:10], k)  # warm-up
        best = None  # the baseline at its own best chunk size, chosen on one timing each
        for c in (1, 4, 16):
            rate = n_img / median_time(lambda: baseline.niwae_duplicate(mb, x, k, c), 1)
            if best is None or rate > best[1]: best = (c, rate)
        ts = [(median_time(lambda: evaluate_niwae(m, x, k), 1), median_time(lambda: baseline.niwae_duplicate(mb, x, k, best[0]), 1))
              for _ in range(reps)]  # alternating, like the training figures
        ours, best = n_img / statistics.median(t for t, _ in ts), (best[0], n_img / statistics.median(t for _, t in ts))
        dec_flops = 2 * mlp_macs([10, 300, 300, 784])
        limit = peak * 1e9 / (dec_flops * k)
        res['iwae'][name] = {'k': k, 'ours_img_s': ours, 'baseline_img_s': best[1], 'baseline_images_per_chunk': best[0],
                             'ratio': ours / best[1], 'decoder_limit_img_s': limit, 'fraction_of_limit': ours / limit}
        print(f'IWAE-{k} {name:6s}: {ours:7.1f} img/s vs baseline {best[1]:7.1f} img/s (best chunk {best[0]} images) '
              f'= {ours / best[1]:.2f}x; decoder-FLOP limit {limit:.1f} img/s ({100 * ours / limit:.0f}%)')

    # --- peak memory of the IWAE bound: does it grow with k?
    code = ('import torch; from vaebook.vae import vae; from vaebook.evaluation import evaluate_niwae; '
            'torch.manual_seed(0); m = vae().eval(); x = torch.bernoulli(torch.rand(100, 784)); evaluate_niwae(m, x, {k})')
    base_code = ('import torch; from vaebook.vae import vae; '
                 'torch.manual_seed(0); m = vae().eval(); x = torch.bernoulli(torch.rand(100, 784))')
    mem = {f'k={k}': peak_rss_mb(code.format(k=k)) for k in (1000, 5000)}
    mem['process_baseline'] = peak_rss_mb(base_code)
    res['iwae']['peak_rss_mb'] = mem
    print(f"IWAE peak RSS: {mem['k=1000']:.0f} MB at k=1000, {mem['k=5000']:.0f} MB at k=5000 "
          f"(the process alone: {mem['process_baseline']:.0f} MB)")

    res['settings'] = {'iters': iters, 'reps': reps, 'iwae_images': n_img, 'quick': a.quick}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=1))
    print(f'wrote {a.out}')


if __name__ == '__main__':
    main()
