"""The notebooks are the source: their inline tests pass, the package is exactly what they export, their papermill
parameters parse cleanly, and a reader's run of a chapter never touches the book's results of record."""
import ast, hashlib, json, logging, os
import pytest
from conftest import ROOT, BIN, run
from vaebook.book import CHAPTERS, PAGES
from vaebook.registry import RULES
from vaebook.experiment import SHARED

PAPERMILL = str(BIN / 'papermill')


DATA_NOTEBOOKS = r'^(00a|00a3|00f2|00f|00h|04)_'   # the notebooks whose inline tests read MNIST


def test_nbdev_test_without_mnist(tmp_path):
    "The inline tests of the math (distributions, networks, trainer, bounds, models, reports) need no data at all."
    env = {k: v for k, v in os.environ.items() if k != 'VAEBOOK_DATA'}
    env['VAEBOOK_CACHE'] = str(tmp_path / 'cache')
    r = run([str(BIN / 'nbdev_test'), '--path', 'nbs', '--skip_file_re', DATA_NOTEBOOKS + '|^[_.]'], env=env)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert not (tmp_path / 'cache').exists()   # nothing was read, downloaded or cached


def test_nbdev_test_with_mnist(mnist_dir):
    r = run([str(BIN / 'nbdev_test'), '--path', 'nbs', '--file_re', DATA_NOTEBOOKS])
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]


def test_export_matches_package(tmp_path):
    before = {p.name: p.read_text() for p in (ROOT / 'vaebook').glob('*.py')}
    r = run([str(BIN / 'nbdev_export')])
    assert r.returncode == 0, r.stderr
    after = {p.name: p.read_text() for p in (ROOT / 'vaebook').glob('*.py')}
    changed = [n for n in after if before.get(n) != after[n]]
    assert not changed, f'nbdev_export changed {changed}: run nbdev_export and commit vaebook/'


@pytest.mark.parametrize('chapter', CHAPTERS)
def test_parameter_cells_parse_cleanly(chapter, caplog):
    "papermill reads every parameter (an '=' in a comment once made it skip one) and each has a checked rule."
    import papermill
    with caplog.at_level(logging.WARNING, logger='papermill'):
        params = papermill.inspect_notebook(str(ROOT / 'nbs' / f'{chapter}.ipynb'))
    assert params and not [r for r in caplog.records if 'Unable to parse' in r.getMessage()], caplog.text
    nb = json.loads((ROOT / 'nbs' / f'{chapter}.ipynb').read_text())
    i = next(i for i, c in enumerate(nb['cells']) if 'parameters' in c['metadata'].get('tags', []))
    # checked right after, by the chapter's context: a run's settings by the registry's rules, the chapter's own by its own
    nxt = ''.join(nb['cells'][i + 1]['source'])
    assert 'ctx = Chapter(globals()' in nxt, nxt
    call = next(n for n in ast.walk(ast.parse(nxt.replace('#| hide', ''))) if isinstance(n, ast.Call) and getattr(n.func, 'id', '') == 'Chapter')
    rules = next((kw.value for kw in call.keywords if kw.arg == 'rules'), None)
    declared = set()
    if isinstance(rules, ast.Dict): declared = {k.value for k in rules.keys}
    elif isinstance(rules, ast.DictComp): declared = {e.value for e in rules.generators[0].iter.elts}   # {n: rule for n in (...)}
    missing = set(params) - set(RULES) - set(SHARED) - declared
    assert not missing, f'{chapter}: parameters without a rule: {missing}'
    first_code = next(j for j, c in enumerate(nb['cells']) if c['cell_type'] == 'code')
    assert i == first_code or chapter in ('03_iwae', '06_performance') or all(   # nothing runs before the parameters
        '#| default_exp' in ''.join(c['source']) or '#| export' in ''.join(c['source']) or c['cell_type'] == 'markdown'
        or ''.join(c['source']).startswith('from vaebook.report import opening_box')   # the opening box reads no parameter
        for c in nb['cells'][:i]), chapter


def _bound(src: str) -> set[str]:
    "Names a cell binds at its top level (assignments, tuple targets, for-loops, imports, definitions)."
    import ast
    try: tree = ast.parse('\n'.join(l for l in src.splitlines() if not l.lstrip().startswith(('%', '!'))))
    except SyntaxError: return set()
    names = set()
    for node in tree.body:
        targets = (node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For)) else [])
        for t in targets: names |= {n.id for n in ast.walk(t) if isinstance(n, ast.Name)}
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)): names.add(node.name)
        if isinstance(node, (ast.Import, ast.ImportFrom)): names |= {(a.asname or a.name).split('.')[0] for a in node.names}
    return names


@pytest.mark.parametrize('chapter', CHAPTERS)
def test_no_cell_overwrites_a_parameter(chapter):
    "A test or experiment cell that rebinds a parameter (say `z`) silently changes what every later cell runs with."
    nb = json.loads((ROOT / 'nbs' / f'{chapter}.ipynb').read_text())
    i = next(i for i, c in enumerate(nb['cells']) if 'parameters' in c['metadata'].get('tags', []))
    params = _bound(''.join(nb['cells'][i]['source']))
    clashes = {j: _bound(''.join(c['source'])) & params for j, c in enumerate(nb['cells']) if c['cell_type'] == 'code' and j != i}
    assert not {j: n for j, n in clashes.items() if n}, f'{chapter}: cells rebind parameters {clashes}'


def test_nbdev_clean_keeps_parameters_tag(tmp_path):
    import shutil
    src = ROOT / 'nbs' / '01_vae.ipynb'
    shutil.copy(src, tmp_path / 'x.ipynb')
    r = run([str(BIN / 'nbdev_clean'), '--fname', str(tmp_path / 'x.ipynb')])
    assert r.returncode == 0, r.stderr
    cells = json.loads((tmp_path / 'x.ipynb').read_text())['cells']
    assert any('parameters' in c.get('metadata', {}).get('tags', []) for c in cells)


def book_state():
    "A fingerprint of every file under book/."
    return {str(p.relative_to(ROOT)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((ROOT / 'book').rglob('*')) if p.is_file()}


def test_quick_runs_leave_the_book_alone(tmp_path, mnist_dir):
    "A reader's quick runs of chapters 1, 4 and 5 write to runs/results, never to book/; aimed at book/, they are refused."
    before = book_state()
    runs = ['-p', 'runs_dir', str(tmp_path / 'runs')]
    quick = {'01_vae': ['-p', 'iter_max', '20', '-y', '{seeds: [0], schedules: [constant], iws: [1, 10]}', '-p', 'niwae_5000', 'False'],
             '04_ssvae': ['-p', 'gw', '0.001', '-p', 'iter_max', '4', '-y', 'seeds: [0]'],
             '05_fsvae': ['-p', 'dataset', 'colored-mnist', '-p', 'iter_max', '4']}
    for ch, args in quick.items():
        r = run([PAPERMILL, f'nbs/{ch}.ipynb', str(tmp_path / f'{ch}.ipynb'), *runs, *args])
        assert r.returncode == 0, r.stderr[-3000:]
        name = ch.split('_')[1]
        res = json.loads((ROOT / 'runs' / 'results' / f'{name}.json').read_text())
        assert res['settings']['iter_max'] == int(args[args.index('iter_max') + 1]), res['settings']
    for ch, args in quick.items():   # pointed at the record, a quick run changes nothing and says why
        r = run([PAPERMILL, f'nbs/{ch}.ipynb', str(tmp_path / f'{ch}-record.ipynb'), *runs, *args, '-p', 'results_dir', 'book/results'])
        assert r.returncode != 0 and 'is a result of record and was left as it is' in r.stderr + r.stdout, r.stderr[-2000:]
    assert book_state() == before


def test_papermill_gw_reaches_the_loss(tmp_path, mnist_dir):
    "`-p gw 0.001` must train with 0.001: the logged loss is 0.001 * nelbo + 100 * ce, and the results say 0.001."
    r = run([PAPERMILL, 'nbs/04_ssvae.ipynb', str(tmp_path / 'out.ipynb'), '-p', 'gw', '0.001',
             '-p', 'iter_max', '4', '-y', 'seeds: [0]', '-p', 'runs_dir', str(tmp_path / 'runs'),
             '-p', 'results_dir', str(tmp_path / 'res')])
    assert r.returncode == 0, r.stderr[-3000:]
    [log] = (tmp_path / 'runs').glob('ssvae_*gw=0.001_*seed=0/metrics.jsonl')
    row = json.loads(log.read_text().splitlines()[-1])
    assert row['iteration'] == 4
    assert abs(row['loss'] - (0.001 * row['nelbo'] + 100 * row['ce'])) < 1e-4 * row['loss']
    res = json.loads((tmp_path / 'res' / 'ssvae.json').read_text())
    assert res['runs']['gw=0.001/seed=0']['gw'] == 0.001 and 'summary' not in res
    assert set(res['runs']['gw=0.001/seed=0']) >= {'accuracy', 'accuracy_binarized', 'model'}


@pytest.mark.parametrize('chapter,args', [('04_ssvae', ['-p', 'gw', '0', '-p', 'iter_max', '2', '-y', 'seeds: [0]']),
                                          ('05_fsvae', ['-p', 'dataset', 'colored-mnist', '-p', 'iter_max', '2'])])
def test_data_dir_parameter_alone(tmp_path, mnist_dir, chapter, args):
    "`-p data_dir` is all a chapter needs: no VAEBOOK_DATA, an empty cache (its inline tests once read the default)."
    env = {k: v for k, v in os.environ.items() if k != 'VAEBOOK_DATA'}
    env['VAEBOOK_CACHE'] = str(tmp_path / 'cache')
    r = run([PAPERMILL, f'nbs/{chapter}.ipynb', str(tmp_path / 'out.ipynb'), '-p', 'data_dir', str(mnist_dir),
             '-p', 'runs_dir', str(tmp_path / 'runs'), '-p', 'results_dir', str(tmp_path / 'res'), *args], env=env)
    assert r.returncode == 0, r.stderr[-3000:]


def test_quick_profile_runs_every_chapter_outside_the_book(mnist_dir):
    "`vaebook-book --quick` runs every chapter and builds a site under runs/quick, each chapter flagged as a quick run; book/ is only read."
    import shutil
    from vaebook.book import QUICK, QUICK_NOTE
    shutil.rmtree(ROOT / QUICK, ignore_errors=True)
    before = book_state()
    r = run([str(BIN / 'vaebook-book'), '--quick'])
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert book_state() == before
    assert 'QUICK RUN' in r.stdout and 'not results' in r.stdout.splitlines()[-1]
    site = ROOT / QUICK / '_build' / 'html'
    import yaml   # a chapter enters the table of contents once its full run is in book/ (chapter 8 is still running)
    toc = {c['file'] for part in yaml.safe_load((ROOT / '_toc.yml').read_text())['parts'] for c in part['chapters']}
    for ch in PAGES:
        nb = json.loads((ROOT / QUICK / 'book' / f'{ch}.ipynb').read_text())
        assert QUICK_NOTE in ''.join(nb['cells'][1]['source']), ch
        if f'book/{ch}' in toc: assert 'Quick run.' in (site / 'book' / f'{ch}.html').read_text(), ch
    assert 'Quick run.' in (site / 'book' / 'intro.html').read_text()
    # the quick results are where the quick chapters put them, and the small budgets reached the runs
    res = json.loads((ROOT / QUICK / 'book' / 'results' / 'ssvae_labels.json').read_text())
    assert {r['iter_max'] for r in res['runs'].values()} == {300} and {r['labels'] for r in res['runs'].values()} == {100, 600}
    # the runs' records became the page's run log, collapsed, and left nothing behind in the reading flow
    nb = json.loads((ROOT / QUICK / 'book' / '01_vae.ipynb').read_text())
    logs = [c for c in nb['cells'] if 'run-log' in c['metadata'].get('tags', [])]
    assert logs and all('trained from iteration 0' in ''.join(c['outputs'][0]['text']) for c in logs), logs
    assert not [o for c in nb['cells'] for o in c.get('outputs', []) if 'vaebook' in o.get('metadata', {})]


@pytest.mark.parametrize('chapter', CHAPTERS)
def test_every_glued_number_in_prose_is_glued_by_the_chapter(chapter):
    "A number the prose shows through `{glue:text}` is kept by a `glue...(name, ...)` call of the same chapter (f-string names match any value)."
    import re
    nb = json.loads((ROOT / 'nbs' / f'{chapter}.ipynb').read_text())
    prose = ' '.join(''.join(c['source']) for c in nb['cells'] if c['cell_type'] == 'markdown')
    code = ' '.join(''.join(c['source']) for c in nb['cells'] if c['cell_type'] == 'code')
    wanted = set(re.findall(r'\{glue:text\}`([A-Za-z0-9_]+)', prose))
    kept = [re.sub(r'\\\{[^}]*\\\}', '.+', re.escape(n)) for n in re.findall(r"glue\w*\(f?'([^']+)'", code)]
    missing = {w for w in wanted if not any(re.fullmatch(k, w) for k in kept)}
    assert not missing, f'{chapter}: prose shows {missing}, which no glue(...) keeps'


@pytest.mark.parametrize('chapter', CHAPTERS)
def test_every_figure_declares_its_caption(chapter):
    """Each cell that drew a figure in the chapter's book copy says, in the notebook, what to see in it (`#| fig-cap:`)
    and what it shows to a reader who cannot see it (`#| fig-alt:`); the book builder makes them the figure's caption and
    alt text (chapter 0i)."""
    book = ROOT / 'book' / f'{chapter}.ipynb'
    assert book.exists(), f'{book} missing: run vaebook-book --chapters {chapter}'
    drew = {c['id'] for c in json.loads(book.read_text())['cells']
            if any('image/png' in o.get('data', {}) for o in c.get('outputs', []))}
    cells = {c['id']: ''.join(c['source']) for c in json.loads((ROOT / 'nbs' / f'{chapter}.ipynb').read_text())['cells']}
    bare = [i for i in sorted(drew) if i in cells and not all(f'#| {d}: ' in cells[i] for d in ('fig-cap', 'fig-alt'))]
    assert not bare, f'{chapter}: figure cells {bare} declare no caption or alt text'
