"""vaebook: a literate PyTorch book and library for the VAE family (package metadata lives in settings.ini)."""
from configparser import ConfigParser
from setuptools import find_packages, setup

cfg = ConfigParser(delimiters=['='])
cfg.read('settings.ini')
cfg = cfg['DEFAULT']

requirements = [
    'torch>=2.1,<=2.14.1',
    'torchvision>=0.16,<=0.29.1',
    'numpy',
    'tqdm',
    'matplotlib',
    'pandas',
    'scipy',  # torchvision reads SVHN's .mat files with it
]
extras = {
    # nbdev 2.4.14 crashes at import with execnb>=0.2, fastcore>=2 or ghapi>=2.
    'dev': ['nbdev==2.4.14', 'execnb<0.2', 'fastcore<2', 'ghapi<2', 'pytest', 'papermill>=2.7,<2.8', 'ipykernel', 'pyflakes==3.4.0'],
    # jupyter-book 2.x downloads its theme at build time and cannot build offline.
    'book': ['jupyter-book>=1.0,<1.1', 'papermill>=2.7,<2.8', 'ipykernel', 'sphinx-mathjax-offline', 'selenium',
             'scikit-learn'],   # chapter 7's embeddings (t-SNE, PCA)
    # a chapter's runs on a cluster's workers (-p scheduler, --scheduler, VAEBOOK_SCHEDULER); dask-jobqueue reaches Slurm/PBS
    'cluster': ['dask>=2024.1', 'distributed>=2024.1'],
}
extras['all'] = sorted({r for v in extras.values() for r in v})

setup(
    name=cfg['lib_name'],
    version=cfg['version'],
    description=cfg['description'],
    long_description=open('README.md').read(),
    long_description_content_type='text/markdown',
    author=cfg['author'],
    author_email=cfg['author_email'],
    url=cfg['git_url'],
    keywords=cfg['keywords'].split(),
    classifiers=['Programming Language :: Python :: 3', 'Topic :: Scientific/Engineering :: Artificial Intelligence'],
    license='Apache-2.0',
    python_requires='>=' + cfg['min_python'],
    packages=find_packages(include=['vaebook', 'vaebook.*']),
    include_package_data=True,
    install_requires=requirements,
    extras_require=extras,
    entry_points={'console_scripts': ['vaebook=vaebook.cli:main', 'vaebook-book=vaebook.book:main'],
                  'nbdev': [f"{cfg['lib_path']}={cfg['lib_path']}._modidx:d"]},
)
