"""bench/reproduction.py passes parameters by name: papermill injects unknown names without complaint, so a renamed
parameter would silently run a chapter at its defaults (three seeds, the book's run directory)."""
import ast, json, sys
from pathlib import Path
import yaml

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT / 'bench'))
import reproduction  # noqa: E402
from vaebook.book import CHAPTERS  # noqa: E402


def parameters(chapter):
    "Names assigned in the chapter's cell tagged `parameters`."
    nb = json.loads((ROOT / 'nbs' / f'{chapter}.ipynb').read_text())
    cell = next(c for c in nb['cells'] if 'parameters' in c.get('metadata', {}).get('tags', []))
    return {t.id for node in ast.parse(''.join(cell['source'])).body for t in getattr(node, 'targets', []) if isinstance(t, ast.Name)}


def passed(args):
    "Parameters in a papermill argument list (-p NAME VALUE, -y YAML): name -> value (as a string for -p)."
    params, it = {}, iter(args)
    for a in it:
        if a == '-p':
            name = next(it); params[name] = next(it)
        elif a == '-y': params.update(yaml.safe_load(next(it)))
    return params


def test_every_chapter_with_results_is_timed():
    assert set(reproduction.CHAPTERS) == set(CHAPTERS) - {'06_performance'}
    assert reproduction.CHAPTERS['05_fsvae'] and passed(reproduction.CHAPTERS['05_fsvae'])['dataset'] == 'colored-mnist'  # its book copy's


def test_parameters_exist_in_the_chapters():
    for ch, extra in reproduction.CHAPTERS.items():
        missing = set(passed(extra + reproduction.QUICK.get(ch, []))) - parameters(ch)
        assert not missing, f'{ch} has no parameter(s) {missing}'


def test_one_seed_each():
    for ch, extra in reproduction.CHAPTERS.items():
        given = passed(extra)
        for k in parameters(ch):
            if k.endswith('seeds'): assert given[k] == [0], (ch, k, given.get(k))
    assert passed(reproduction.CHAPTERS['04_ssvae'])['sweep_seeds'] == [0]


def test_compare_picks_the_runs_of_each_recipe():
    from vaebook.records import frame
    rec = lambda runs: frame({'runs': runs, 'settings': {}})
    book = rec({'a': {'model': 'vae', 'iw': 1, 'seed': 0, 'cs236/niwae_1000': 97.0},
                'b': {'model': 'iwae', 'iw': 5, 'seed': 0, 'cs236/niwae_1000': 96.0},
                'c': {'model': 'iwae', 'iw': 5, 'seed': 1, 'cs236/niwae_1000': 96.5}})
    fresh = rec({'a': {'model': 'iwae', 'iw': 5, 'seed': 0, 'cs236/niwae_1000': 96.1}})
    out = reproduction.compare(fresh, book, [('cs236', 'niwae', 1000), ('test', 'niwae', 5000)], ('model', 'iw'))
    assert list(out) == ['cs236/niwae_1000/model=iwae/iw=5'], out   # only what both hold
    v = out['cs236/niwae_1000/model=iwae/iw=5']
    assert v['this_run'] == 96.1 and v['book_runs'] == [96.0, 96.5] and v['book']['n'] == 2 and abs(v['book']['mean'] - 96.25) < 1e-12
    ss = rec({'x': {'gw': 1.0, 'labels': 600, 'accuracy': 0.9}, 'y': {'gw': 0.0, 'labels': 600, 'accuracy': 0.8}})
    assert reproduction.compare(ss, ss, [('test', 'accuracy', None)], ('labels', 'gw'))['test/accuracy/labels=600/gw=1']['book_runs'] == [0.9]


def test_merge_keeps_earlier_chapters():
    old = {'minutes': {'01_vae': 7.0, '04_ssvae': 100.0}, 'total_minutes': 107.5, 'quick': False, 'commit': 'a', 'settings': {}, 'metrics': {'vae': 1}}
    new = {'minutes': {'04_ssvae': 90.0}, 'total_minutes': 90.0, 'quick': False, 'commit': 'b', 'commits': {'04_ssvae': 'b'},
           'settings': {'04_ssvae': []}, 'metrics': {'ssvae': 2}}
    m = reproduction.merge(old, new)
    assert m['minutes'] == {'01_vae': 7.0, '04_ssvae': 90.0} and m['total_minutes'] == 97.0 and m['merged']
    assert m['commits'] == {'01_vae': 'a', '04_ssvae': 'b'} and m['metrics'] == {'vae': 1, 'ssvae': 2}
