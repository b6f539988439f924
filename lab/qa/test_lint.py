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


def test_make_lint_names_a_line_too_long(copy):
    append(copy, 'lab/harness/client.py', 'NOTE = %r\n' % ('x' * 100))
    status, printed = make('lint', cwd=copy)
    assert status != 0
    assert 'lab/harness/client.py:' in printed and 'E501' in printed, printed


def test_make_lint_names_a_file_ruff_would_format(copy):
    append(copy, 'lab/harness/client.py', 'NOTE = {  "a":1}\n')
    status, printed = make('lint', cwd=copy)
    assert status != 0
    assert 'File would be reformatted' in printed, printed
    assert '--> lab/harness/client.py:' in printed, printed


def test_make_lint_leaves_the_posts_code_as_printed(copy):
    append(copy, 'chat/consumers.py', 'NOTE = {  "a":1}  # %s\n' % ('x' * 100))
    status, printed = make('lint', cwd=copy)
    assert status == 0, printed


def test_make_lint_names_a_line_too_long_in_ops(copy):
    # ops/ is shell and Dockerfiles, which ruff does not read: make lint's own check.
    append(copy, 'ops/runtime', '# %s\n' % ('x' * 100))
    status, printed = make('lint', cwd=copy)
    assert status != 0
    assert 'ops/runtime:' in printed and 'longer than 100 characters' in printed, printed
