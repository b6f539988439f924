"""
`make lint`, which `make test` runs first: ruff over what the project
wrote (.ruff.toml leaves out the post's own code). It passes on a fresh
copy of the tree and fails, naming the file and line, on one broken on
purpose.
"""

import os
import shutil
import tempfile

import pytest

from lab.harness.make import fresh_copy, make
from lab.harness.stack import ROOT


@pytest.fixture
def copy():
    folder = fresh_copy(tempfile.mkdtemp(prefix='lint-'))
    # The tools' virtualenv, as make test built it.
    os.symlink(os.path.join(ROOT, 'var'), os.path.join(folder, 'var'))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def append(folder, path, text):
    with open(os.path.join(folder, path), 'a', encoding='utf-8') as source:
        source.write(text)


def test_make_lint_passes_on_the_tree(copy):
    status, printed = make('lint', cwd=copy)
    assert status == 0, printed


# A slip, the file it lands in, and what make lint must print about it.
SLIPS = {
    'a line too long': (
        'lab/harness/client.py',
        'NOTE = %r\n' % ('x' * 100),
        ['lab/harness/client.py:', 'E501'],
    ),
    'a file ruff would format': (
        'lab/harness/client.py',
        'NOTE = {  "a":1}\n',
        ['File would be reformatted', '--> lab/harness/client.py:'],
    ),
    # ops/ and the Makefile are shell, Make and Dockerfiles, which ruff does not read:
    # make lint's own check.
    'a line too long in ops': (
        'ops/runtime',
        '# %s\n' % ('x' * 100),
        ['ops/runtime:', 'longer than 100 characters'],
    ),
    'a line too long in the Makefile': (
        'Makefile',
        '# %s\n' % ('x' * 100),
        ['Makefile:', 'longer than 100 characters'],
    ),
}


@pytest.mark.parametrize('slip', sorted(SLIPS))
def test_make_lint_names_each_slip(copy, slip):
    path, text, wanted = SLIPS[slip]
    append(copy, path, text)
    status, printed = make('lint', cwd=copy)
    assert status != 0
    for words in wanted:
        assert words in printed, printed


def test_make_lint_leaves_the_posts_code_as_printed(copy):
    append(copy, 'chat/consumers.py', 'NOTE = {  "a":1}  # %s\n' % ('x' * 100))
    status, printed = make('lint', cwd=copy)
    assert status == 0, printed
