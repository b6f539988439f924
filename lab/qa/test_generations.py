"""
generations/generations.txt is the one home of each generation's facts:
the shell's and Make's reader (ops/generations) reads it as Python does,
each row names a tree, pins and a Redis database that agree with it,
what is derived from it agrees, and no later generation's version or
interpreter is typed in the project's code anywhere else.
"""

import os
import re
import subprocess

import pytest

from lab.blackbox import comparison
from lab.harness.generations import GENERATIONS, TABLE, minors, pins, title
from lab.harness.stack import ROOT, STACKS

FIELDS = ('tree', 'pins', 'python', 'redis', 'runworker', 'venv', 'about')


def ops_generations(*arguments):
    return subprocess.check_output(
        [os.path.join(ROOT, 'ops', 'generations')] + list(arguments), universal_newlines=True
    ).strip()


def as_written(row):
    """A row as ops/generations prints each field."""
    return dict(
        zip(
            FIELDS,
            (
                row.tree,
                row.pins,
                ' '.join(row.pythons),
                str(row.redis),
                'yes' if row.runworker else 'no',
                row.venv,
                row.about or '-',
            ),
        )
    )


def test_the_shell_reads_the_table_as_python_does():
    assert ops_generations().split() == GENERATIONS
    for key, row in TABLE.items():
        assert {field: ops_generations(key, field) for field in FIELDS} == as_written(row)


def test_an_unknown_generation_or_field_is_refused_in_one_line():
    for arguments, said in (
        (['2.0', 'tree'], 'no such generation: 2.0'),
        (['2.4', 'x'], 'field: x'),
    ):
        done = subprocess.run(
            [os.path.join(ROOT, 'ops', 'generations')] + arguments,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            universal_newlines=True,
        )
        assert done.returncode == 2 and done.stdout == '', done
        assert done.stderr.count('\n') == 1 and said in done.stderr, done.stderr


def procfile(row):
    with open(os.path.join(ROOT, row.tree, 'Procfile'), encoding='utf-8') as handle:
        return dict(line.split(': ', 1) for line in handle.read().splitlines() if line.strip())


def test_each_row_agrees_with_its_tree_and_pins():
    for key, row in TABLE.items():
        assert os.path.isfile(os.path.join(ROOT, row.tree, 'manage.py')), key
        # The key is the Channels version as users type it: the pins say so.
        assert pins(key)['channels'].startswith(key + '.'), (key, pins(key)['channels'])
        assert 'daphne' in pins(key), key
        assert ('worker' in procfile(row)) == row.runworker, key
        assert all(re.match(r'^\d+\.\d+(\.\d+)?$', python) for python in row.pythons), key
    databases = [row.redis for row in TABLE.values()]
    assert len(set(databases)) == len(databases), databases


def test_what_is_derived_from_the_table_agrees_with_it():
    assert list(STACKS) == GENERATIONS
    for key, row in TABLE.items():
        assert STACKS[key]['cwd'] == os.path.normpath(os.path.join(ROOT, row.tree))
        assert STACKS[key]['venv'] == os.path.join(ROOT, row.venv)
        assert bool(STACKS[key]['worker']) == row.runworker
    # The committed comparison's columns name what the pins files pin.
    with open(os.path.join(ROOT, 'docs', 'generated', 'comparison.md'), encoding='utf-8') as page:
        header = next(line for line in page if line.startswith('| scenario |'))
    assert header.startswith('| scenario | %s |' % ' | '.join(title(g) for g in GENERATIONS))
    assert comparison.expected().keys() == set(GENERATIONS)


# Long and varied enough for check --deploy (security.W009).
PRODUCTION_KEY = 'a-long-and-random-production-key-' + 'q7Zx9Lm2Pw4Rt6Yv8Bn0Cs3Df5Gh1Jk'


@pytest.mark.parametrize('key', GENERATIONS)
def test_production_mode_has_nothing_for_check_deploy_to_report(key):
    # Each tree's settings say so; Django's defaults change under them (2.2
    # still leaves nosniff off, as 1.11 did).
    environ = dict(os.environ, DEBUG='0', SECRET_KEY=PRODUCTION_KEY)
    done = subprocess.run(
        [os.path.join(STACKS[key]['venv'], 'bin', 'python'), 'manage.py', 'check', '--deploy'],
        cwd=STACKS[key]['cwd'],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        universal_newlines=True,
    )
    assert done.returncode == 0, done.stdout
    assert 'System check identified no issues (0 silenced).' in done.stdout, done.stdout


def code_files():
    """The project's own code and configuration: everything tracked but
    the trees of the generations (each names its own library, as a
    citation), the pins, the pages and the recorded data."""
    tracked = subprocess.check_output(['git', 'ls-files'], cwd=ROOT, universal_newlines=True)
    trees = tuple(TABLE[g].tree + '/' for g in GENERATIONS if TABLE[g].tree != '.')
    for path in tracked.split():
        if path.startswith(trees + ('docs/', 'requirements', 'static/', 'templates/')):
            continue
        if path.endswith(('.md', '.json', '.png', '.svg')) or path == 'generations/generations.txt':
            continue
        yield path


def typed_facts():
    """What only the table and the pins may say of the generations after
    the post: their Channels version, each interpreter pyenv installs,
    and an interpreter neither the post nor the port runs on. (The post's
    1.0.3 and CPython 3.5/3.6 are the project's own subject, named
    throughout.)"""
    shared = set(minors('1.0') + minors(GENERATIONS[-1]))
    for key in GENERATIONS[1:]:
        yield key, pins(key)['channels']
        for python in TABLE[key].pythons:
            if python.count('.') == 2:
                yield key, python
        for minor in set(minors(key)) - shared:
            yield key, minor


def test_no_generation_fact_is_typed_outside_the_table_and_its_pins():
    facts = list(typed_facts())
    found = []
    for path in code_files():
        with open(os.path.join(ROOT, path), encoding='utf-8', errors='replace') as handle:
            for number, line in enumerate(handle, 1):
                for key, fact in facts:
                    if re.search(r'(?<![\d.])%s(?!\d)' % re.escape(fact), line):
                        found.append('%s:%d: %s names %s' % (path, number, fact, key))
    assert found == []
