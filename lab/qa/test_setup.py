"""
What the README and docs/setup.md say a command does on a machine without
an interpreter, run on such a machine: a copy of the tree as a clone has it
(no var/), a login's PATH without pyenv, and, where the page says pyenv
installs one, a `pyenv` of this test's that knows no version and whose
build fails, as one without the build packages does.
"""

import os
import re
import shutil
import tempfile

import pytest

from lab.harness.generations import TABLE
from lab.harness.make import fresh_copy, make
from lab.harness.stack import ROOT

# A login's PATH: no pyenv, and no CPython but Debian's 3.11.
LOGIN_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
# Each target that builds a virtualenv on an interpreter Debian 12 has not,
# and the version pyenv would install (the last its row names).
WANTS = [
    ('setup-channels-%s' % key, generation.pythons[-1])
    for key, generation in TABLE.items()
    if key not in ('1.0', '4.3')
] + [('var/venv-conformance/.installed', '2.7.18')]
MAKE_ERROR = re.compile(r'make(\[\d+\])?: \*\*\* ')
FAILING_PYENV = """#!/bin/sh
echo "$@" >> "$(dirname "$0")/asked"
case "$1" in install) echo "BUILD FAILED (a stand-in build)" >&2; exit 1;; esac
"""


@pytest.fixture(scope='module')
def clone():
    folder = fresh_copy(tempfile.mkdtemp(prefix='setup-'))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def said(target, cwd, path):
    """The exit status of `make -s TARGET` (no recipe echoed) with `PATH`,
    and what the Makefile's own tools said, without make's error line."""
    status, output = make('-s', target, cwd=cwd, PATH=path)
    # make's own line is 'make[1]: ***' under make test's make.
    return status, [line for line in output.splitlines() if not MAKE_ERROR.match(line)]


@pytest.mark.parametrize('target, version', WANTS)
def test_without_pyenv_a_missing_interpreter_is_one_line_naming_pyenv_install(
    clone, target, version
):
    status, lines = said(target, clone, LOGIN_PATH)
    minor = '.'.join(version.split('.')[:2])
    assert status != 0
    assert lines == [
        'No CPython %s found: install pyenv (https://github.com/pyenv/pyenv#installation), '
        "run 'pyenv install %s', then run make again." % (minor, version)
    ]
    assert not os.path.exists(os.path.join(clone, target.split('/.')[0], '.installed'))


@pytest.mark.parametrize('target, version', WANTS)
def test_with_pyenv_a_missing_interpreter_is_installed_and_a_failed_build_said(
    clone, target, version, tmp_path
):
    pyenv = tmp_path / 'pyenv'
    pyenv.write_text(FAILING_PYENV)
    pyenv.chmod(0o755)
    status, lines = said(target, clone, '%s:%s' % (tmp_path, LOGIN_PATH))
    minor = '.'.join(version.split('.')[:2])
    assert status != 0
    assert 'install -s %s' % version in (tmp_path / 'asked').read_text().splitlines()
    assert lines == [
        'No CPython %s found: running pyenv install %s' % (minor, version),
        'BUILD FAILED (a stand-in build)',
        "pyenv install %s failed (its output is above; pyenv's wiki lists the packages a "
        'build needs): fix that, then run make again.' % version,
    ]


def named_pythons(text):
    """The CPython minors a passage names ('CPython 9.1, 9.2 and 9.10'), and
    the versions it says pyenv installs."""
    minors = set()
    for listed in re.findall(r'CPython\s+(\d\.\d+(?:(?:,?\s+(?:and|or)\s+|,\s+)\d\.\d+)*)', text):
        minors.update(re.findall(r'\d\.\d+', listed))
    return minors, set(re.findall(r'pyenv install (\d\.\d+\.\d+)', text))


def needs(path, start, end):
    with open(os.path.join(ROOT, path), encoding='utf-8') as handle:
        text = handle.read()
    return text[text.index(start) : text.index(end, text.index(start))]


# What the targets look for, and what pyenv installs: every generation's row
# and the Autobahn suite's 2.7.
TESTED = {
    'minors': {'.'.join(p.split('.')[:2]) for g in TABLE.values() for p in g.pythons} | {'2.7'},
    'installs': {g.pythons[-1] for g in TABLE.values() if g.pythons[-1].count('.') == 2}
    | {'2.7.18'},
}


@pytest.mark.parametrize(
    'path, start, end',
    [
        ('docs/setup.md', '## What a fresh machine needs', "`make run`'s first line"),
        ('README.md', 'Before them, a machine needs', '`make run` installs'),
    ],
)
def test_the_pages_name_each_interpreter_the_targets_look_for(path, start, end):
    minors, installs = named_pythons(needs(path, start, end))
    assert minors == TESTED['minors']
    assert installs <= TESTED['installs']


def test_the_check_can_fail():
    minors, installs = named_pythons('needs CPython 9.1, 9.2 and 9.10; runs `pyenv install 9.2.1`')
    assert minors == {'9.1', '9.2', '9.10'} != TESTED['minors']
    assert not installs <= TESTED['installs']
