"""Wall time of the whole reproduction: every chapter that trains (1-5, 7, 8; chapter 3 only reads) executed with
papermill at its full settings, one seed each, from nothing (fresh run and results directories), one chapter after
another, as `vaebook-book` runs them.

    VAEBOOK_DATA=../shared/data python bench/reproduction.py [--out book/results/reproduction.json] [--workdir DIR]
        [--chapters 04_ssvae ...] [--merge]

Takes hours on a 2-core CPU (chapter 4's semi-supervised runs and chapter 8's IWAE-5000 evaluations most of them);
`--chapters ... --merge` measures some chapters and keeps the others' earlier measurements. The executed copies,
checkpoints and results go to the work directory (a new temporary one by default), never to book/ or runs/: the
book's numbers stay those of its three-seed runs. The output records each chapter's wall time and, as a check that
the fast code computes what the book's runs computed, this run's headline metrics beside the book's."""
import argparse, json, platform, subprocess, sys, tempfile, time
from pathlib import Path
import torch
from vaebook.evaluation import summarize
from vaebook.records import frame, git_commit, select
from vaebook.report import bound_name
from vaebook.book import CHAPTERS as BOOK_CHAPTERS, chapter_settings
from vaebook.runs import project_path

def one_seed(ch: str) -> list[str]:
    """Chapter `ch`'s papermill arguments for this measurement: its book copy's settings, every seed list it declares
    (`seeds`, `sweep_seeds`, ...) cut to [0]."""
    s = chapter_settings(project_path(), ch)
    return ['-y', json.dumps({**s['book'], **{n: [0] for n in sorted(s['parameters']) if n.endswith('seeds')}})]


# the chapters that write results, as vaebook-book runs them: chapter 6 only reads the others' measurements
CHAPTERS = {ch: one_seed(ch) for ch in BOOK_CHAPTERS if 'results_dir' in chapter_settings(project_path(), ch)['parameters']}
# --quick: a smoke run of this script, at the budgets of the quick book each chapter declares
QUICK = {ch: ['-y', json.dumps(chapter_settings(project_path(), ch)['quick'])] for ch in CHAPTERS}
# results file: (the measurements compared with the book's, the settings whose every value the book holds is compared)
BOUNDS = [('cs236', 'nelbo', None), ('cs236', 'niwae', 1000), ('test', 'nelbo', None), ('test', 'niwae', 1000), ('test', 'niwae', 5000)]
ACCURACY = [('test', 'accuracy', None)]
HEADLINE = {'vae': (BOUNDS, ()), 'vae_cosine': ([('cs236', 'nelbo', None), ('test', 'nelbo', None)], ()), 'gmvae': (BOUNDS, ()),
            'ssvae': (ACCURACY, ('gw',)), 'ssvae_cosine': (ACCURACY, ('gw',)), 'ssvae_labels': (ACCURACY, ('labels', 'gw')),
            'fsvae': ([('test', 'nelbo', None)], ()),
            'likelihood': ([('cs236', 'niwae', 1000), ('test', 'niwae', 5000)], ('model', 'iw'))}   # chapter 8: every recipe


def compare(fresh, book, measures, by=()) -> dict:
    """For each of `measures` (split, measure, eval_iw) and each group of `by` values the book's records `book` hold: this
    run's mean, the book's summary and the book's runs' values, under a label such as 'test/accuracy/gw=1'."""
    out = {}
    for split, measure, iw in measures:
        b = select(book, split=split, measure=measure, eval_iw=iw)
        for key, bg in (b.groupby(list(by), sort=True) if by else [((), b)]):
            where = dict(zip(by, key))
            f = select(fresh, split=split, measure=measure, eval_iw=iw, **where)
            if f.empty or bg.empty: continue
            label = '/'.join([split, bound_name(measure, iw)] + [f'{k}={v:g}' if isinstance(v, float) else f'{k}={v}' for k, v in where.items()])
            out[label] = {'this_run': float(f['value'].mean()), 'book': summarize(bg['value'].tolist()), 'book_runs': bg['value'].tolist()}
    return out


def merge(old: dict, new: dict) -> dict:
    "`new`'s chapters over `old`'s: minutes, settings, commits and metrics per chapter; the total is the chapters' sum."
    if old.get('quick') != new['quick']: sys.exit('--merge: a quick run and a measurement cannot be merged')
    commits = {**{ch: old.get('commit') for ch in old['minutes']}, **old.get('commits', {}), **new['commits']}
    minutes = {**old['minutes'], **new['minutes']}
    res = {**new, 'minutes': minutes, 'total_minutes': sum(minutes.values()), 'merged': True, 'commits': commits,
           'settings': {**old.get('settings', {}), **new['settings']}, 'metrics': {**old.get('metrics', {}), **new['metrics']}}
    res['commit'] = new['commit']   # the latest code; each chapter's own is in 'commits'
    return res


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--out', default='runs/results/reproduction.json', help='the book keeps its copy in book/results/reproduction.json')
    p.add_argument('--workdir', default=None, help='where executed copies, checkpoints and results go (default: a new temporary directory)')
    p.add_argument('--chapters', nargs='*', default=list(CHAPTERS), choices=list(CHAPTERS))
    p.add_argument('--merge', action='store_true', help='keep the chapters --out already holds and replace only those measured now '
                   '(a reproduction longer than one sitting, measured chapter by chapter; the total is then the sum)')
    p.add_argument('--quick', action='store_true', help="the quick book's budgets: a smoke run of this script, not a measurement "
                   '(writes into the work directory unless --out is given)')
    a = p.parse_args()
    root = project_path()
    work = Path(a.workdir or tempfile.mkdtemp(prefix='vaebook-reproduction-')).resolve()
    (work / 'results').mkdir(parents=True, exist_ok=True)
    print(f'work directory: {work}')
    quick = QUICK if a.quick else {}
    out = work / 'reproduction.json' if a.quick and a.out == p.get_default('out') else Path(a.out)
    commit = git_commit()  # the code that runs, whatever is committed while it does
    times, t_all = {}, time.perf_counter()
    for ch in a.chapters:
        where = {'runs_dir': str(work / 'runs'), 'results_dir': str(work / 'results'), 'resume': False}   # where it declares them
        params = ['-y', json.dumps({k: v for k, v in where.items() if k in chapter_settings(root, ch)['parameters']})]
        cmd = [sys.executable, '-m', 'papermill', str(root / 'nbs' / f'{ch}.ipynb'), str(work / f'{ch}.ipynb'),
               '--cwd', str(root), '-k', 'python3', '--no-progress-bar', *params, *CHAPTERS[ch], *quick.get(ch, [])]
        t = time.perf_counter()
        with open(work / f'{ch}.log', 'w') as log:
            r = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT)
        times[ch] = time.perf_counter() - t
        print(f'{ch}: {times[ch] / 60:.1f} min' + ('' if r.returncode == 0 else f' FAILED (see {work / ch}.log)'), flush=True)
        if r.returncode: sys.exit(f'chapter {ch} failed; its log is {work / ch}.log')
    total = time.perf_counter() - t_all

    metrics = {}
    for name in HEADLINE:
        fresh, book = work / 'results' / f'{name}.json', root / 'book' / 'results' / f'{name}.json'
        if not (fresh.exists() and book.exists()): continue
        metrics[name] = compare(frame(json.loads(fresh.read_text())), frame(json.loads(book.read_text())), *HEADLINE[name])
    res = {'minutes': {ch: s / 60 for ch, s in times.items()}, 'total_minutes': total / 60, 'metrics': metrics,
           'settings': {ch: CHAPTERS[ch] + quick.get(ch, []) for ch in a.chapters}, 'quick': a.quick, 'commit': commit,
           'commits': {ch: commit for ch in times},
           'machine': {'cpu': platform.processor() or platform.machine(), 'threads': torch.get_num_threads(),
                       'cuda': torch.cuda.is_available(), 'torch': torch.__version__}}
    if a.merge and out.exists():
        res = merge(json.loads(out.read_text()), res)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1))
    print(f'total: {total / 60:.1f} min; wrote {out}')


if __name__ == '__main__':
    main()
