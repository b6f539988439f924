"""
`make tutorial-check`: a workspace, checked step by step and by behaviour
(what it serves and says, never how its text reads), stopping at the first
step that fails. The Django-side checks run inside the workspace
(lab/tutorial/probe.py); Redis, daphne and runworker run here, on free
loopback ports and a database of the check's own. Valid Python 3.5.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import traceback

from lab.harness.client import fresh_label, join, next_event, say
from lab.harness.post import DAPHNE_LINES, RUNWORKER_LINES, missing_lines
from lab.harness.stack import (
    ROOT,
    Process,
    Stack,
    free_port,
    port_open,
    redis_server,
    variant,
    wait_for,
)
from lab.tutorial import consumers
from lab.tutorial.probe import last_error
from lab.tutorial.steps import NUMBERS

# Where an error of the check itself goes (`without_a_traceback`).
ERRORS = os.path.join(ROOT, 'var', 'tutorial-check-errors.log')
# Whatever layer the workspace names: the post's, the replica's, a learner's.
LAYER = re.compile(r'Running worker against channel layer default \(([^)]*)\)')


def result_of(line):
    """A step's result, from a line the probe printed (a JSON object with a
    step: CPython 3.5 orders its keys at random), else None."""
    try:
        result = json.loads(line) if line.startswith('{') else None
    except ValueError:
        return None
    return result if isinstance(result, dict) and 'step' in result else None


class Check(object):
    def __init__(self, workspace):
        self.workspace = os.path.abspath(workspace)
        self.scratch = tempfile.mkdtemp(prefix='tutorial-check-')
        # What the workspace's processes get beside the machine's environment.
        self.own = dict(
            variant('tutorial_check'), TUTORIAL_CHECK_DB=os.path.join(self.scratch, 'db.sqlite3')
        )
        self.redis = None

    @property
    def env(self):
        return dict(os.environ, **self.own)

    def probe(self, steps):
        done = subprocess.run(
            [sys.executable, '-m', 'lab.tutorial.probe'] + steps,
            cwd=self.workspace,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            universal_newlines=True,
        )
        results = [result for result in map(result_of, done.stdout.splitlines()) if result]
        if len(results) < len(steps) and (not results or results[-1]['ok']):
            broken = done.stdout.strip().splitlines()
            results.append(
                {
                    'step': steps[len(results)],
                    'ok': False,
                    'expected': 'the project to load',
                    'saw': broken[-1] if broken else '(nothing)',
                    'hint': 'python manage.py check in the workspace says more',
                }
            )
        return results

    def redis_server(self):
        port = free_port()
        argv = redis_server(port, self.scratch)
        # The server the post's reader typed: `redis-server`, from PATH.
        argv[0] = shutil.which('redis-server') or 'redis-server'
        try:
            self.redis = Process('redis', argv, self.scratch, os.environ, self.scratch)
            wait_for(lambda: port_open(port) or not self.redis.alive(), 15, 'redis-server')
        except OSError as error:
            return {
                'step': '4.1',
                'ok': False,
                'expected': 'redis-server to run',
                'saw': str(error),
                'hint': 'make packages installs it (apt-get install redis-server, as the post did)',
            }
        if not port_open(port):
            return {
                'step': '4.1',
                'ok': False,
                'expected': 'redis-server to answer',
                'saw': self.redis.output(),
                'hint': 'make packages installs it',
            }
        self.own['REDIS_URL'] = 'redis://127.0.0.1:%d' % port
        return {'step': '4.1', 'ok': True}

    def start_stack(self):
        """daphne and runworker on the workspace's files, as step 5 runs them."""
        return Stack(
            '1.0', root=self.workspace, env=self.own, workdir=tempfile.mkdtemp(dir=self.scratch)
        ).start()

    def consumers(self):
        """Step 5: daphne and runworker from the workspace's files, saying the
        post's lines; then the consumers part by part (lab/tutorial/consumers.py)."""
        try:
            stack = self.start_stack()
        except RuntimeError as error:
            return {
                'step': '5',
                'ok': False,
                'expected': 'daphne and runworker to start',
                'saw': str(error).strip().splitlines()[-1],
                'hint': 'chat/consumers.py, chat/routing.py',
            }
        try:
            logs = stack.logs()
            layer = LAYER.search(logs)
            missing = missing_lines(
                logs, DAPHNE_LINES, port=stack.port, interface='127.0.0.1'
            ) + missing_lines(logs, RUNWORKER_LINES, layer=layer.group(1) if layer else '...')
            if missing:
                return {
                    'step': '5',
                    'ok': False,
                    'expected': "daphne's and runworker's first lines",
                    'saw': missing,
                    'hint': 'the log lines of the post, section 4, part 5',
                }
            return consumers.check(stack, self)
        finally:
            stack.stop()

    def run(self):
        """Each step's result, in order, until the first that fails."""
        results = []
        plan = [
            ('1', lambda: self.probe(NUMBERS[: NUMBERS.index('4.1')])),
            ('4.1', lambda: [self.redis_server()]),
            ('4.2', lambda: self.probe(NUMBERS[NUMBERS.index('4.2') : NUMBERS.index('5')])),
            ('5', lambda: [self.consumers()]),
        ]
        for first, part in plan:
            found = self.without_a_traceback(part, first)
            results.extend(found)
            if not all(result['ok'] for result in found):
                break
        return results

    def without_a_traceback(self, part, first):
        """A part's results; an error of the check itself as the failure of
        the part's first step: the learner reads a report, never a
        traceback (whoever fixes the check finds it in var/)."""
        try:
            return part()
        except Exception as error:
            os.makedirs(os.path.dirname(ERRORS), exist_ok=True)
            with open(ERRORS, 'a') as log:
                traceback.print_exc(file=log)
            return [
                {
                    'step': first,
                    'ok': False,
                    'expected': 'the check to finish this step',
                    'saw': last_error(traceback.format_exc(), self.workspace) or repr(error),
                    'hint': 'an error of the check itself, its traceback in %s: please report it'
                    % os.path.relpath(ERRORS),
                }
            ]

    def close(self):
        if self.redis:
            self.redis.stop()
        shutil.rmtree(self.scratch, ignore_errors=True)


def bad_input(workspace):
    """What the post's consumers as printed do with frames the replica
    refuses (deviations C1 to C4): each sent to the workspace's stack, and
    the runworker's last lines after it."""
    check = Check(workspace)
    frames_sent = [
        ('not JSON at all', 'logged and dropped (C1)'),
        ('[1, 2]', 'logged and dropped (C3)'),
        ('{"handle": "alice"}', 'logged and dropped (C4)'),
        ('{"handle": 1, "message": ["x"]}', 'logged and dropped (C4)'),
    ]
    lines = []
    try:
        stack = check.start_stack()
        try:
            label = fresh_label('tutorial')
            sock = join(stack, label)
            for text, ledger in frames_sent:
                before = len(stack.workers[0].output())
                sock.send(text)
                # A good frame after it: the one runworker takes a socket's
                # frames in order, so once the room hears this one, the bad
                # frame is done with and whatever it made the runworker say
                # is in its log.
                say(sock, 'probe', 'after the bad frame')
                received = []
                while True:
                    event = next_event(sock, 10)
                    if event[0] != 'frame' or json.loads(event[1]).get('handle') == 'probe':
                        break
                    received.append(event[1])
                printed = [
                    line for line in stack.workers[0].output()[before:].splitlines() if line.strip()
                ]
                lines.append(
                    '  %s\n    the room heard: %s\n    runworker said: %s\n    the replica: %s'
                    % (
                        text,
                        ', '.join(received) or 'nothing',
                        printed[-1] if printed else 'nothing',
                        ledger,
                    )
                )
            sock.close()
        finally:
            stack.stop()
    finally:
        check.close()
    return '\n'.join(lines)


def report(results):
    """The lines the learner reads, and the exit status."""
    lines = []
    for result in results:
        if result['ok']:
            lines.append(
                'step %-4s passed%s'
                % (result['step'], ' (%s)' % result['note'] if result.get('note') else '')
            )
            continue
        lines += [
            'step %-4s FAILED%s'
            % (result['step'], ', part: %s' % result['part'] if result.get('part') else ''),
            '  expected: %s' % result['expected'],
            '  saw:      %s' % (result['saw'],),
        ]
        lines += ['  %s: %s' % (who, what) for who, what in result.get('logged', [])]
        lines.append('  hint:     %s' % result['hint'])
    passed = len(results) == len(NUMBERS) and all(result['ok'] for result in results)
    lines.append('every step passes' if passed else 'stopped at step %s' % results[-1]['step'])
    return lines, 0 if passed else 1
