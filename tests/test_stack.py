"""
The launcher (lab/harness/stack.py) runs what users run: the Procfile's `web`
and `worker` lines (modern/Procfile's `web`, and each generation's), which
the compose file runs by name. A change to one without the other fails here.
"""

import io
import os

from lab.harness.stack import ROOT, STACKS


def procfile(*path):
    with io.open(os.path.join(ROOT, *path), encoding='utf-8') as handle:
        return dict(line.split(': ', 1) for line in handle.read().splitlines() if line.strip())


def as_written(argv):
    return ' '.join(argv).replace('127.0.0.1', '$BIND').replace('{port}', '$PORT')


def test_the_launcher_runs_the_procfiles_commands():
    post, port = procfile('Procfile'), procfile('modern', 'Procfile')
    assert post['web'] == as_written(STACKS['1.0']['daphne'])
    # Tests stop and start workers themselves: no ops/respawn around them.
    assert post['worker'] == 'ops/respawn ' + as_written(STACKS['1.0']['worker'])
    assert port['web'] == 'cd modern && ' + as_written(STACKS['4.3']['daphne'])


def test_the_launcher_runs_each_generations_procfile():
    for generation in ('1.1', '2.4', '3.0'):
        tree = 'generations/channels-' + generation
        lines = procfile(tree, 'Procfile')
        folder = 'cd %s && ' % tree
        assert lines['web'] == folder + as_written(STACKS[generation]['daphne'])
        if STACKS[generation]['worker']:
            worker = as_written(STACKS[generation]['worker'])
            assert lines['worker'] == folder + '../../ops/respawn ' + worker
        else:
            assert 'worker' not in lines


def test_compose_runs_the_procfiles_lines():
    with io.open(os.path.join(ROOT, 'docker-compose.yml'), encoding='utf-8') as handle:
        compose = handle.read()
    for name in ('web', 'worker'):
        assert 'command: honcho start -f Procfile %s\n' % name in compose
