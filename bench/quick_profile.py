"""Wall time of the quick profile, `vaebook-book --quick`, from nothing: its directory (runs/quick) is removed first,
so every chapter trains its small runs afresh. It writes only under runs/quick, never into book/.

    VAEBOOK_DATA=../shared/data python bench/quick_profile.py [--out runs/results/quick_profile.json]

The book's copy of the measurement is made with --out book/results/quick_profile.json (see book/reproduce.md)."""
import argparse, json, platform, shutil, subprocess, sys, tempfile, time
from pathlib import Path
import torch
from vaebook.book import QUICK
from vaebook.records import git_commit
from vaebook.runs import project_path


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--out', default='runs/results/quick_profile.json')
    a = p.parse_args()
    root = project_path()
    shutil.rmtree(root / QUICK, ignore_errors=True)
    commit = git_commit()
    events = Path(tempfile.mkdtemp(prefix='vaebook-quick-')) / 'events.jsonl'   # vaebook-book's record of each chapter
    t = time.perf_counter()
    r = subprocess.run([sys.executable, '-c', 'import sys; from vaebook.book import main; sys.exit(main())', '--quick',
                        '--events', str(events)], cwd=root, capture_output=True, text=True)
    total = time.perf_counter() - t
    print(r.stdout[-3000:], r.stderr[-3000:] if r.returncode else '', sep='\n')
    if r.returncode: sys.exit(f'vaebook-book --quick failed (exit {r.returncode})')
    minutes = {e['chapter']: e['minutes'] for e in map(json.loads, events.read_text().splitlines())}
    res = {'total_minutes': total / 60, 'chapter_minutes': minutes, 'build_minutes': total / 60 - sum(minutes.values()),
           'commit': commit, 'machine': {'cpu': platform.processor() or platform.machine(), 'threads': torch.get_num_threads(),
                                         'cuda': torch.cuda.is_available(), 'torch': torch.__version__}}
    out = project_path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1))
    print(f"vaebook-book --quick: {total / 60:.1f} min in all; wrote {out}")


if __name__ == '__main__':
    main()
