"""The results site: it builds offline with no Sphinx warnings, and every page survives a real browser
(headless Chromium): images load, internal links resolve, the headline table has numbers, no console errors.
Screenshots of every page go to artifacts/screenshots/."""
import functools, http.server, re, shutil, threading, urllib.parse, urllib.request
import pytest
from conftest import ROOT

CHROMIUM, DRIVER = shutil.which('chromium'), shutil.which('chromedriver')
SHOTS = ROOT / 'artifacts' / 'screenshots'


@pytest.fixture(scope='module')
def site(tmp_path_factory):
    from vaebook.book import build_book
    out = tmp_path_factory.mktemp('book')
    assert build_book(ROOT, out) == 0, 'jupyter-book build failed or warned (warnings are errors)'
    return out / '_build' / 'html'


def toc_pages():
    "Every page _toc.yml lists (root first), e.g. 'book/01_vae'."
    import yaml
    toc = yaml.safe_load((ROOT / '_toc.yml').read_text())
    return [toc['root']] + [c['file'] for part in toc['parts'] for c in part['chapters']]


def test_site_has_every_page(site):
    assert {'book/04_ssvae', 'book/05_fsvae', 'book/06_performance'} <= set(toc_pages())
    for page in toc_pages():
        assert (site / f'{page}.html').exists(), page
    html = (site / 'book' / 'api.html').read_text()
    assert 'negative_iwae_bound' in html and 'log_normal_mixture' in html   # API generated from the docstrings


@pytest.fixture(scope='module')
def server(site):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *a: None
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
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


@pytest.mark.parametrize('page', PAGES)
def test_page_in_browser(page, server, browser):
    url = f'{server}/{page}'
    browser.get(url)
    browser.execute_async_script(  # wait for every image, then for MathJax to finish typesetting
        "const done = arguments[arguments.length - 1];"
        "Promise.all(Array.from(document.images).map(i => i.complete ? 0 : new Promise(r => { i.onload = i.onerror = r; })))"
        ".then(() => (window.MathJax && MathJax.startup) ? MathJax.startup.promise : 0).then(() => done(1));")
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SHOTS / (page.replace('/', '_').replace('.html', '.png'))))
    broken = browser.execute_script("return Array.from(document.images).filter(i => !(i.naturalWidth > 0)).map(i => i.src)")
    assert not broken, f'images that did not load: {broken}'
    errors = [e for e in browser.get_log('browser') if e['level'] == 'SEVERE']
    assert not errors, errors
    links = browser.execute_script("return Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
    for link in {l.split('#')[0] for l in links if l.startswith(server)}:
        with urllib.request.urlopen(link) as r: assert r.status == 200, link
    if page == 'book/intro.html':
        table = browser.execute_script("return Array.from(document.querySelectorAll('table')).map(t => t.innerText).join('\\n')")
        assert 'nelbo' in table and re.search(r'\d+\.\d\d ± \d+\.\d\d', table), table
    if re.match(r'book/0\d_', page):
        assert browser.execute_script("return document.querySelectorAll('mjx-container').length") > 0, 'no rendered math'


def test_no_page_overflows(server, browser):
    for page in PAGES:
        browser.get(f'{server}/{page}')
        wide = browser.execute_script(
            "return Array.from(document.querySelectorAll('article table, article img')).filter(e => {"
            " const p = e.closest('.cell_output, .table-wrapper, .output, article'); "
            " return e.getBoundingClientRect().width > document.querySelector('article').getBoundingClientRect().width + 2; }).length")
        assert wide == 0, f'{page}: {wide} tables or images wider than the text column'


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


def test_ctrl_c_leaves_the_book(monkeypatch, capsys):
    import vaebook.book as vb
    before = (ROOT / 'book' / '02_gmvae.ipynb').read_bytes()
    def interrupted(*a, **k): raise KeyboardInterrupt
    monkeypatch.setattr(vb, 'run_chapter', interrupted)
    assert vb.main(['--root', str(ROOT), '--chapters', '02_gmvae']) == 130
    assert 'interrupted while running 02_gmvae; book/02_gmvae.ipynb is unchanged' in capsys.readouterr().err
    assert (ROOT / 'book' / '02_gmvae.ipynb').read_bytes() == before
