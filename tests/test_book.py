"""The results site: it builds offline with no Sphinx warnings, and every page survives a real browser
(headless Chromium): images load, internal links resolve, the headline table has numbers, no console errors.
Screenshots of every page go to artifacts/screenshots/."""
import functools, http.server, json, math, re, shutil, sys, threading, urllib.parse, urllib.request
import pytest
from conftest import ROOT

CHROMIUM, DRIVER = shutil.which('chromium'), shutil.which('chromedriver')
SHOTS = ROOT / 'artifacts' / 'screenshots'


BOOK_BEFORE = {}


def book_bytes():
    return {p.relative_to(ROOT).as_posix(): p.read_bytes() for p in (ROOT / 'book').rglob('*') if p.is_file()}


@pytest.fixture(scope='module')
def site(tmp_path_factory):
    from vaebook.book import build_book
    BOOK_BEFORE.update(book_bytes())
    out = tmp_path_factory.mktemp('book')
    assert build_book(ROOT, out) == 0, 'jupyter-book build failed or warned (warnings are errors)'
    return out / '_build' / 'html'


def toc_pages():
    "Every page _toc.yml lists (root first), e.g. 'book/01_vae'."
    import yaml
    toc = yaml.safe_load((ROOT / '_toc.yml').read_text())
    return [toc['root']] + [c['file'] for part in toc['parts'] for c in part['chapters']]


def test_building_the_site_leaves_the_book_alone(site):
    "The site is built from book/ as it stands: preparing the executed chapters again changes none of their bytes."
    after = book_bytes()
    assert after == BOOK_BEFORE, sorted(k for k in after.keys() | BOOK_BEFORE.keys() if after.get(k) != BOOK_BEFORE.get(k))


def test_site_has_every_page(site):
    assert {'book/04_ssvae', 'book/05_fsvae', 'book/06_performance'} <= set(toc_pages())
    for page in toc_pages():
        assert (site / f'{page}.html').exists(), page
    html = (site / 'book' / 'api.html').read_text()
    assert 'negative_iwae_bound' in html and 'log_normal_mixture' in html   # API generated from the docstrings


def test_api_page_lists_every_module():
    "Each module of the package has its section on the API page (a new chapter's module once went missing)."
    modules = {p.stem for p in (ROOT / 'vaebook').glob('*.py') if not p.stem.startswith('_')}
    listed = set(re.findall(r'automodule:: vaebook\.(\w+)', (ROOT / 'book' / 'api.md').read_text()))
    assert listed == modules, (modules - listed, listed - modules)


def captioned_pages():
    "The pages whose executed copy came from a notebook that declares its figures' captions (chapter 0i's `fig-cap`)."
    import json
    out = []
    for page in toc_pages():
        nb = ROOT / f'{page}.ipynb'
        if nb.exists() and any('mystnb' in c.get('metadata', {}) for c in json.loads(nb.read_text())['cells']): out.append(page)
    return out


def test_figures_have_captions(site):
    """On every page executed from a captioned notebook, each image of a cell's output sits in a figure with a caption,
    and its alt text is words, not the file's name."""
    pages = captioned_pages()
    assert pages, 'no page carries figure captions'
    for page in pages:
        html = (site / f'{page}.html').read_text()
        imgs = re.findall(r'<img [^>]*src="[^"]*_images/[^"]*"[^>]*>', html)
        assert imgs, f'{page}: captions declared but no figure'
        assert html.count('<figcaption') >= len(imgs), f'{page}: {len(imgs)} images, {html.count("<figcaption")} captions'
        for tag in imgs:
            alt = re.search(r'alt="([^"]*)"', tag)
            assert alt and len(alt.group(1).split()) >= 4 and not alt.group(1).endswith('.png'), f'{page}: {tag}'


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass   # the browser's requests are not the tests' output


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):   # a browser dropping a connection it no longer needs is no error
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)): super().handle_error(request, client_address)


@pytest.fixture(scope='module')
def server(site):
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = _QuietServer(('127.0.0.1', 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{httpd.server_address[1]}'
    httpd.shutdown()


@pytest.fixture(scope='module')
def browser(tmp_path_factory):
    if not (CHROMIUM and DRIVER):
        pytest.skip('Chromium and chromedriver are not installed (Debian: apt-get install chromium chromium-driver)')
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ('--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
              '--disable-sync', '--no-first-run', '--disable-dev-shm-usage', '--window-size=1280,1600',
              f'--user-data-dir={tmp_path_factory.mktemp("chromium-profile")}'):
        opts.add_argument(a)
    opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    d = webdriver.Chrome(service=Service(DRIVER), options=opts)
    yield d
    d.quit()


PAGES = [f'{p}.html' for p in toc_pages()]
CHAPTER_PAGES = [p for p in PAGES if re.match(r'book/0[1-9]_', p)]   # the numbered chapters
WIDTHS = (1400, 420)   # a desktop and a phone


LOADED_JS = """const done = arguments[arguments.length - 1], cites = arguments[0], t0 = Date.now();
Promise.all(Array.from(document.images).map(i => i.complete ? 0 : new Promise(r => { i.onload = i.onerror = r; })))
  .then(() => (window.MathJax && MathJax.startup) ? MathJax.startup.promise : 0)
  .then(() => new Promise(r => setTimeout(r, 100)))
  .then(() => {   // a chapter's citations: the theme's scripts may still be rearranging the page, so look for up to 5 s
    const look = () => (!cites || document.querySelector('a[href*="references.html#"]') || Date.now() - t0 > 5000) ? done(1) : setTimeout(look, 100);
    look(); });"""

VIEWS = {}


def view(browser, server, page, width):
    """What the checks below read of `page` at `width` px, from one load of it (every image loaded, MathJax done): the
    page's console errors and the answers of `CHECKS[width]`. Loading each page once per width, not once per check, is
    most of the browser tests' time saved."""
    if (page, width) not in VIEWS:
        browser.set_window_size(width, 1600)
        try:
            browser.get_log('browser')   # drained: what earlier pages logged is theirs
            browser.get(f'{server}/{page}')
            browser.execute_async_script(LOADED_JS, width == WIDTHS[0] and page in CHAPTER_PAGES)   # citations are read at 1400 px
            SHOTS.mkdir(parents=True, exist_ok=True)
            browser.save_screenshot(str(SHOTS / f"{page.replace('/', '_').replace('.html', '')}_{width}.png"))
            seen = {name: browser.execute_script(js) for name, js in CHECKS[width].items()}
            seen['errors'] = [e for e in browser.get_log('browser') if e['level'] == 'SEVERE']
        finally:
            browser.set_window_size(1280, 1600)
        VIEWS[(page, width)] = seen
    return VIEWS[(page, width)]


@pytest.mark.parametrize('page', PAGES)
def test_page_in_browser(page, server, browser):
    seen = view(browser, server, page, WIDTHS[0])
    assert not seen['broken'], f"images that did not load: {seen['broken']}"
    assert not seen['errors'], seen['errors']
    for link in {l.split('#')[0] for l in seen['links'] if l.startswith(server)}:
        with urllib.request.urlopen(link) as r: assert r.status == 200, link
    if page == 'book/intro.html':
        assert 'NELBO' in seen['tables'] and re.search(r'\d+\.\d\d ± \d+\.\d\d', seen['tables']), seen['tables']
    if re.match(r'book/0\d_', page):
        assert seen['maths'] > 0, 'no rendered math'


def test_no_page_overflows(server, browser):
    for page in PAGES:
        wide = view(browser, server, page, WIDTHS[0])['wide']
        assert wide == 0, f'{page}: {wide} tables or images wider than the text column'


def test_figures_legible_on_a_phone(server, browser):
    "At 420 px a figure keeps its printed size (labels stay about 14 px high) and scrolls inside its own box."
    for page in CHAPTER_PAGES:
        shrunk = view(browser, server, page, 420)['shrunk']
        assert not shrunk, f'{page}: figures shrunk on a phone: {shrunk}'


def test_failed_chapter_leaves_the_book(tmp_path):
    "A chapter that fails (here: its data directory is empty) leaves its executed copy in book/ as it was."
    import os, subprocess
    from conftest import BIN
    before = (ROOT / 'book' / '01_vae.ipynb').read_bytes()
    env = {**os.environ, 'VAEBOOK_DATA': str(tmp_path), 'VAEBOOK_CACHE': str(tmp_path / 'cache')}
    r = subprocess.run([str(BIN / 'vaebook-book'), '--chapters', '01_vae', '--device', 'cpu'], cwd=ROOT, env=env,
                       capture_output=True, text=True)
    assert r.returncode == 1 and 'chapter 01_vae failed; book/01_vae.ipynb is unchanged' in r.stderr, r.stderr[-2000:]
    assert (ROOT / 'book' / '01_vae.ipynb').read_bytes() == before


def test_a_chapter_that_runs_is_prepared_for_the_site(tmp_path):
    "run_chapter moves a chapter into book/ already prepared (run_chapter then prepare_for_book changes no byte)."
    import nbformat, shutil
    from vaebook.book import prepare_for_book, run_chapter
    (tmp_path / 'nbs').mkdir(); (tmp_path / 'book').mkdir(); (tmp_path / 'settings.ini').touch()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('x = 1', metadata={'tags': ['parameters']}),
                                         nbformat.v4.new_code_cell('#| hide\nassert x == 2'),
                                         nbformat.v4.new_code_cell('print(x)')],
                                  metadata={'kernelspec': {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}})
    nbformat.write(nb, tmp_path / 'nbs' / 'demo.ipynb')
    assert run_chapter(tmp_path, 'demo', ['-p', 'x', '2']) == 0
    out = tmp_path / 'book' / 'demo.ipynb'
    shutil.copy(out, tmp_path / 'again.ipynb'); prepare_for_book(tmp_path / 'again.ipynb')
    assert (tmp_path / 'again.ipynb').read_bytes() == out.read_bytes()
    assert not any('#| hide' in ''.join(c['source']) for c in nbformat.read(out, as_version=4).cells)   # the hidden test is gone


def test_the_opening_box_counts_the_runs_of_this_execution(tmp_path):
    "The chapter's box, drawn again at its end, shows in its one place the runs this execution recorded, not the record before it."
    import nbformat
    from vaebook.book import run_chapter
    (tmp_path / 'nbs').mkdir(); (tmp_path / 'book' / 'results').mkdir(parents=True); (tmp_path / 'settings.ini').touch()
    record = lambda train, score: json.dumps({'runs': {'0': {'run': 'r0', 'train_cpu_minutes': train, 'eval_cpu_minutes': score}}})
    (tmp_path / 'book' / 'results' / 'demo.json').write_text(record(2.0, 1.0))   # the previous execution's: 3.0 minutes
    cells = ["from vaebook.report import opening_box\nrefresh_box = opening_box('demo', 'a demo.', 'none.', results=('demo.json',))",
             f"from pathlib import Path\nPath('book/results/demo.json').write_text({record(4.0, 1.5)!r})",   # the runs of this one
             'refresh_box()']
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells],
                                  metadata={'kernelspec': {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}})
    nbformat.write(nb, tmp_path / 'nbs' / 'demo.ipynb')
    assert run_chapter(tmp_path, 'demo', []) == 0
    out = nbformat.read(tmp_path / 'book' / 'demo.ipynb', as_version=4)
    boxes = [(i, o.data['text/markdown']) for i, c in enumerate(out.cells) for o in c.outputs if 'This chapter' in o.get('data', {}).get('text/markdown', '')]
    assert [i for i, _ in boxes] == [0], boxes   # one box, where the chapter opens
    assert '5.5 CPU-minutes, training 4.0 and scoring 1.5' in boxes[0][1], boxes

def test_ctrl_c_leaves_the_book(monkeypatch, capsys):
    import vaebook.book as vb
    before = (ROOT / 'book' / '02_gmvae.ipynb').read_bytes()
    def interrupted(*a, **k): raise KeyboardInterrupt
    monkeypatch.setattr(vb, 'run_chapter', interrupted)
    assert vb.main(['--root', str(ROOT), '--chapters', '02_gmvae']) == 130
    assert 'interrupted while running 02_gmvae; book/02_gmvae.ipynb is unchanged' in capsys.readouterr().err
    assert (ROOT / 'book' / '02_gmvae.ipynb').read_bytes() == before


CLIPPED_JS = """
const wide = window.innerWidth >= 1000, out = [];
const scrollBox = e => ['auto', 'scroll'].includes(getComputedStyle(e).overflowX);
const insideScrollBox = e => { for (let p = e.parentElement; p && p.tagName !== 'ARTICLE'; p = p.parentElement) if (scrollBox(p)) return true; return false; };
const right = document.querySelector('article').getBoundingClientRect().right;
for (const e of document.querySelectorAll('article *')) {
  const cs = getComputedStyle(e);
  if (e.closest('mjx-container') && e.tagName !== 'MJX-CONTAINER') continue;   // MathJax's own layers
  if (e.getBoundingClientRect().right > right + 2 && !insideScrollBox(e) && !scrollBox(e) && e.getBoundingClientRect().width > 0) {
    out.push(`${e.tagName}.${e.className} reaches past the text column (${Math.round(e.getBoundingClientRect().right)} > ${Math.round(right)}): ${(e.textContent || '').slice(0, 60)}`);
    continue;
  }
  if (e.tagName === 'MJX-CONTAINER' && e.getAttribute('display') !== 'true') continue;   // inline math flows with its line
  if (cs.display.startsWith('inline') || e.clientWidth === 0 || e.scrollWidth <= e.clientWidth + 2) continue;
  const scrolls = scrollBox(e) || insideScrollBox(e);   // a reader can scroll to what does not fit
  if (!scrolls || wide) out.push(`${e.tagName}.${e.className} (${cs.overflowX}, ${e.scrollWidth} > ${e.clientWidth}): ${(e.textContent || '').slice(0, 60)}`);
}
if (document.documentElement.scrollWidth > window.innerWidth + 1) out.push(`the page scrolls sideways: ${document.documentElement.scrollWidth} > ${window.innerWidth}`);
return out;"""


@pytest.mark.parametrize('width,page', [(w, p) for w in WIDTHS for p in PAGES])
def test_nothing_is_clipped(page, width, server, browser):
    "At 1400 px nothing overflows its box at all; at 420 px (a phone) only scroll boxes (tables, equations) do, and the page never scrolls sideways."
    clipped = view(browser, server, page, width)['clipped']
    assert not clipped, f'{page} at {width} px:\n' + '\n'.join(clipped)


RAW_TEXT_JS = ("const a = document.querySelector('article').cloneNode(true);"
               "a.querySelectorAll('pre, code, mjx-container, script, style').forEach(e => e.remove()); return a.innerText;")


@pytest.mark.parametrize('page', PAGES)
def test_no_raw_tex(page, server, browser):
    "Every formula is typeset: no TeX source is left in the text a reader sees (code cells aside)."
    raw = re.findall(r'.{0,30}(?:\\[a-zA-Z]+\{|\\(?:mathcal|frac|sim|mid|theta|phi)\b|\$\$).{0,30}', view(browser, server, page, WIDTHS[0])['text'])
    assert not raw, f'{page}: {raw[:5]}'


@pytest.mark.parametrize('page', CHAPTER_PAGES)
def test_chapters_cite_their_sources(page, server, browser):
    "Each numbered chapter cites the work it builds on, and every citation lands on an entry of the references page."
    links = view(browser, server, page, WIDTHS[0])['cites']
    assert links, f'{page} cites nothing'
    # the served file's ids, not the browser's: reading them right after a navigation raced with the load on a busy machine
    ids = set(re.findall(r'\bid="([^"]+)"', urllib.request.urlopen(f'{server}/book/references.html').read().decode()))
    assert all(l.split('#')[1] in ids for l in links), [l for l in links if l.split('#')[1] not in ids]


INLINE_MATH_JS = """
return Array.from(document.querySelectorAll('article mjx-container:not([display="true"])')).map(m => {
  const cs = getComputedStyle(m), r = m.getBoundingClientRect();
  const ink = Array.from(m.querySelectorAll('mjx-math *')).map(e => e.getBoundingClientRect()).filter(b => b.width && b.height);
  const block = m.closest('p, li, dd, dt, td, th, figcaption, div'), edge = block ? block.getBoundingClientRect().right : window.innerWidth;
  if (cs.overflowX === 'visible' && cs.overflowY === 'visible')   // drawn whole: then it must fit its line
    return r.right > edge + 1 ? `${(m.textContent || '').slice(0, 40)}: runs ${Math.round(r.right - edge)} px past its line` : null;
  const top = Math.min(...ink.map(b => b.top)), bottom = Math.max(...ink.map(b => b.bottom));
  const why = [];
  if (m.scrollWidth <= m.clientWidth + 1) why.push(`a scroll box though it fits (${m.scrollWidth} <= ${m.clientWidth})`);
  if (top < r.top - 1 || bottom > r.bottom + 1) why.push(`ink ${Math.round(top)}..${Math.round(bottom)} outside its box ${Math.round(r.top)}..${Math.round(r.bottom)}`);
  return why.length ? `${(m.textContent || '').slice(0, 40)}: ${why.join('; ')}` : null;
}).filter(x => x);"""


@pytest.mark.parametrize('page', PAGES)
def test_inline_maths_whole_on_a_phone(page, server, browser):
    "At 420 px an inline formula fits its line, or is a scroll box because it is wider than its line, with its sub- and superscripts inside the box."
    cut = view(browser, server, page, 420)['inline']
    assert not cut, f'{page} at 420 px:\n' + '\n'.join(cut)


CHECKS = {   # what `view` asks of a page loaded at each width: only what that width's tests read
    1400: {'broken': "return Array.from(document.images).filter(i => !(i.naturalWidth > 0)).map(i => i.src)",
           'links': "return Array.from(document.querySelectorAll('a[href]')).map(a => a.href)",
           'tables': "return Array.from(document.querySelectorAll('table')).map(t => t.innerText).join('\\n')",
           'maths': "return document.querySelectorAll('mjx-container').length",
           'wide': ("return Array.from(document.querySelectorAll('article table, article img')).filter(e => "
                    "e.getBoundingClientRect().width > document.querySelector('article').getBoundingClientRect().width + 2).length"),
           'clipped': CLIPPED_JS,
           'text': RAW_TEXT_JS,
           'cites': "return Array.from(document.querySelectorAll('a[href*=\"references.html#\"]')).map(a => a.href)"},
    420: {'shrunk': ("return Array.from(document.querySelectorAll('.cell_output img')).filter(i => i.width < 0.95 * i.naturalWidth)"
                     ".map(i => `${i.width} of ${i.naturalWidth} px: ${i.src.slice(-20)}`)"),
          'clipped': CLIPPED_JS,
          'inline': INLINE_MATH_JS},
}


def figure_pages(where):
    "The chapters whose notebooks (`where='nbs'`) or book copies (`'book'`) place a figure that moves (chapter 0j's `figure`)."
    out = set()
    for p in sorted((ROOT / where).glob('[01]*.ipynb')):
        cells = [c for c in json.loads(p.read_text())['cells'] if c['cell_type'] == 'code']
        if where == 'nbs': found = any(re.search(r"^\s*(display\()?figure\('", ''.join(c['source']), re.M) for c in cells)   # a call, not its definition
        else: found = any('class="vaebook-figure"' in ''.join(o.get('data', {}).get('text/html', '')) for c in cells for o in c.get('outputs', []))
        if found: out.add(p.stem)
    return sorted(out)


def test_every_figure_that_moves_is_in_its_book_copy():
    "A chapter whose notebook places figures that move has a book copy that shows them (so the browser test below has pages)."
    assert figure_pages('nbs'), 'no chapter places a figure that moves'
    assert set(figure_pages('nbs')) <= set(figure_pages('book')), 're-execute with vaebook-book: ' + ', '.join(sorted(set(figure_pages('nbs')) - set(figure_pages('book'))))


FIGURE_STATE = """const root = document.querySelector(`.vaebook-figure[data-figure="${arguments[0]}"]`);
if (!root || !root.vaebookLast) return null;
return {kind: window.vaebookFigures[arguments[0]].kind, last: root.vaebookLast, state: root.vaebookState, weights: root.vaebookWeights || null,
        pixels: root.vaebookCanvases.map(c => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data).filter((_, i) => i % 4 !== 3)),
        channels: root.vaebookCanvases.map(c => +c.dataset.channels || 1)};"""


def agrees_with_torch(state, fig):
    """The inputs follow the control (the plane's quantiles through the normal's inverse CDF, the sliders' values, the
    chosen network's codes), and each network the page ran gives `run_mlp`'s output on them (within 1e-3) and its
    pixels (within a grey level)."""
    import torch
    from vaebook.interactive import log_weights, run_mlp
    d, inputs = fig['data'], [j['input'] for j in state['last']]
    if state['kind'] == 'plane':   # linear interpolation of a 401-point table: within 0.01 of the exact quantile
        want = torch.distributions.Normal(0., 1.).icdf(torch.tensor(state['state']['at'], dtype=torch.float64))
        assert (torch.tensor(inputs[0], dtype=torch.float64) - want).abs().max() < 0.01, (inputs, state['state'])
    elif state['kind'] == 'sliders':
        assert inputs == [state['state']['sliders']], (inputs, state['state'])
    elif state['kind'] == 'weights':   # the chosen image's log weights under the chosen model, and what follows from them
        s, w = state['state'], state['weights']
        lw, z = log_weights(fig, s['image'], s['model'])
        n = s['iw']
        assert len(w['logw']) == n and (torch.tensor(w['logw']) - lw[:n]).abs().max() < 1e-3, s
        assert w['best'] == int(lw[:n].argmax()) and (torch.tensor(inputs[0]) - z[w['best']]).abs().max() < 1e-6, s
        assert abs(w['bound'] - (torch.logsumexp(lw[:n], 0) - math.log(n)).item()) < 1e-3, s
        assert abs(w['elbo'] - lw[:n].mean().item()) < 1e-3, s
        running = torch.logcumsumexp(lw[:n], 0) - torch.arange(1, n + 1).log()   # log (1/j) sum_{i<=j} w_i
        assert (torch.tensor(w['curve']) - running).abs().max() < 1e-3, s
        ess = 1 / (lw[:n].softmax(0) ** 2).sum().item()
        assert abs(w['ess'] - ess) < 1e-3 * ess, (w['ess'], ess)
    else:
        assert inputs == d['options'][state['state']['choice']]['codes'], state['state']
    for job, pixels, channels in zip(state['last'], state['pixels'], state['channels']):
        p = run_mlp(fig['nets'][job['net']], torch.tensor([job['input']]))[0].double()
        if job.get('sigmoid'): p = torch.sigmoid(p)   # a decoder exported as logits
        assert (p - torch.tensor(job['output'])).abs().max() < 1e-3, job['net']
        # the canvas's red, green and blue of each pixel in turn: a grey image's three alike, a colour image's planes interleaved
        rgb = p.reshape(channels, -1).T.expand(-1, 3) if channels == 1 else p.reshape(3, -1).T
        assert ((rgb.clamp(0, 1) * 255).round().flatten() - torch.tensor(pixels, dtype=torch.float64)).abs().max() <= 1, job['net']


def move(browser, name, kind):
    "Move the figure's control as a reader would: the pointer over the plane, a slider, another choice (every draw and another model)."
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    root = browser.find_element(By.CSS_SELECTOR, f'.vaebook-figure[data-figure="{name}"]')
    browser.execute_script('arguments[0].scrollIntoView({block: "center"})', root)
    if kind == 'plane':
        plane = root.find_element(By.CSS_SELECTOR, 'canvas.vaebook-plane')
        ActionChains(browser).move_to_element_with_offset(plane, -plane.size['width'] // 4, plane.size['height'] // 5).perform()
    elif kind == 'sliders':   # the unit with the largest rate, the one the decoder listens to most, 1.5 away from its nearer end
        browser.execute_script("const rates = window.vaebookFigures[arguments[1]].data.rates, k = rates.indexOf(Math.max(...rates));"
                               "const r = arguments[0].querySelectorAll('input[type=range]')[k], v = parseFloat(r.value);"
                               "r.value = v > 0 ? v - 1.5 : v + 1.5; r.dispatchEvent(new Event('input'));", root, name)
    else:
        if kind == 'weights':   # every draw, then the last model: its heaviest draw is another decoder's
            browser.execute_script("const r = arguments[0].querySelector('input[type=range]'); r.value = r.max;"
                                   "r.dispatchEvent(new Event('input'));", root)
        root.find_elements(By.CSS_SELECTOR, 'button')[-1].click()


@pytest.mark.parametrize('page', figure_pages('book'))
def test_figures_that_move(page, site, server, browser):
    """Each figure that moves computes what torch computes (its page's pixels equal `run_mlp` on the exported weights),
    moving its control changes the picture, and the page asks for nothing outside the site."""
    from vaebook.interactive import read_figure
    browser.get_log('browser')   # drained: what earlier pages logged is theirs
    browser.get(f'{server}/book/{page}.html')
    names = browser.execute_script("return Array.from(document.querySelectorAll('.vaebook-figure')).map(e => e.dataset.figure)")
    assert names, f'{page}: no figure that moves'
    for name in names:
        fig = read_figure(site / '_static' / 'figures' / f'{name}.js')
        before = browser.execute_script(FIGURE_STATE, name)
        assert before, f'{page}: figure {name} was not drawn'
        agrees_with_torch(before, fig)
        move(browser, name, before['kind'])
        after = browser.execute_script(FIGURE_STATE, name)
        assert after['pixels'] != before['pixels'], f'{page}: moving the control of {name} left its picture as it was'
        agrees_with_torch(after, fig)
    outside = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)"
                                     ".filter(u => !u.startsWith(arguments[0]))", server)
    assert not outside, f'{page} asked for {outside}'
    errors = [e for e in browser.get_log('browser') if e['level'] == 'SEVERE']
    assert not errors, errors


def kind_example(kind):
    "A small figure of `kind` from fresh networks (MNIST-sized grey, or colour for `choice`): its nets and data."
    import base64, torch
    import torch.nn.functional as F
    from vaebook.interactive import export_mlp, weights_data
    from vaebook.networks import mlp
    from vaebook.vae import vae
    torch.manual_seed(0)
    if kind == 'weights':
        x = (torch.rand(2, 784) < .2).float()
        return weights_data({'a': vae(z_dim=3), 'b': vae(z_dim=3)}, x, ['one', 'two'], [1, 10, 100])
    if kind == 'choice':   # colour images, the label appended to the code as the FSVAE's decoder takes it
        dec = export_mlp(mlp([4 + 10, 16, 3 * 8 * 8]), out='sigmoid')
        codes = torch.randn(3, 4)
        return {'dec': dec}, {'title': 'label', 'shape': [3, 8, 8], 'images': [base64.b64encode(bytes(range(192))).decode()] * 3,
                              'options': [{'label': str(y), 'net': 'dec', 'codes': torch.cat([codes, F.one_hot(torch.full((3,), y), 10).float()], 1).tolist()}
                                          for y in range(3)]}
    dec = export_mlp(mlp([2 if kind == 'plane' else 4, 16, 784]), out='sigmoid')
    if kind == 'plane':
        return {'dec': dec}, {'net': 'dec', 'extent': [0.025, 0.975], 'start': [0.5, 0.5], 'points': [[0.3, 0.4, 1]],
                              'probit': torch.distributions.Normal(0., 1.).icdf(torch.linspace(0.025, 0.975, 401)).tolist()}
    return {'dec': dec}, {'net': 'dec', 'range': [-3, 3], 'rates': [0.5, 2.0, 1.0, 0.1], 'start_names': ['a'], 'starts': [[0.1, -0.2, 0.3, 0.0]]}


@pytest.mark.parametrize('kind', __import__('vaebook.interactive', fromlist=['KINDS']).KINDS)
def test_every_kind_of_figure_moves(kind, browser, tmp_path):
    """Each kind the runtime draws, on a page of its own with fresh networks (so no kind waits for a chapter that uses
    it): the page computes what torch computes, and moving its control changes the picture."""
    from vaebook.interactive import figure_script
    nets, data = kind_example(kind)
    page = tmp_path / 'figure.html'
    page.write_text(f'<html><body><div class="vaebook-figure" data-figure="f"></div><script>{(ROOT / "book" / "_static" / "vaebook-figures.js").read_text()}</script>'
                    f'<script>{figure_script("f", kind, nets, data)}</script></body></html>')
    browser.get(page.as_uri())
    fig = {'kind': kind, 'nets': nets, 'data': data}
    before = browser.execute_script(FIGURE_STATE, 'f')
    assert before, f'the {kind} figure was not drawn'
    agrees_with_torch(before, fig)
    move(browser, 'f', kind)
    after = browser.execute_script(FIGURE_STATE, 'f')
    assert after['pixels'] != before['pixels'], f'moving the control of the {kind} figure left its picture as it was'
    agrees_with_torch(after, fig)
