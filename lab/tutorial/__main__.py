"""
The post, step by step (docs/tutorial.md):

    python -m lab.tutorial list  WORKSPACE            the steps, and which are done
    python -m lab.tutorial step  WORKSPACE N [FILE..] to the end of step N (FILE: yours to replace)
    python -m lab.tutorial check WORKSPACE            each step by behaviour, to the first failing

`make tutorial`, `make tutorial STEP=N`, `make tutorial-check`; run on the
legacy virtualenv.
"""

import io
import os
import re
import sys

from lab.harness.stack import ROOT
from lab.tutorial import check
from lab.tutorial.steps import MARKER, NUMBERS, STEPS, Workspace, step

GUIDE = os.path.join(ROOT, 'docs', 'tutorial.md')


def guide(number):
    """Step N's section of docs/tutorial.md: what it does and why, what to
    run now, what you should see."""
    with io.open(GUIDE, encoding='utf-8') as handle:
        text = handle.read()
    found = re.search(r'^## %s\. .*?(?=^## |\Z)' % re.escape(number), text, re.M | re.S)
    return found.group(0).strip() if found else ''


def listing(path):
    done = []
    if os.path.exists(os.path.join(path, MARKER)):
        done = Workspace(path).done()
    lines = [
        '%-4s %s%s' % (item.number, item.heading, '   [done]' if item.number in done else '')
        for item in STEPS
    ]
    if not os.path.isdir(path) or not os.listdir(path):
        lines.append('%s is empty: make tutorial STEP=1 begins' % os.path.relpath(path))
    elif not done:
        lines.append(
            "%s is not a walk-through's workspace: make tutorial-check checks it"
            % os.path.relpath(path)
        )
    elif done[-1] != STEPS[-1].number:
        lines.append('next: make tutorial STEP=%s' % NUMBERS[NUMBERS.index(done[-1]) + 1])
    return lines


def main(argv):
    if len(argv) < 2 or argv[0] not in ('list', 'step', 'check'):
        raise SystemExit(__doc__)
    command, path = argv[0], argv[1]
    if command == 'list':
        print('\n'.join(listing(path)))
        return 0
    if command == 'check':
        if not os.path.isdir(path):
            raise SystemExit(
                'tutorial: %s does not exist; make tutorial STEP=1 begins one'
                % os.path.relpath(path)
            )
        running = check.Check(path)
        try:
            results = running.run()
        finally:
            running.close()
        lines, status = check.report(results)
        print('\n'.join(lines))
        return status
    if len(argv) < 3:
        raise SystemExit(
            'tutorial: which step? make tutorial STEP=N, N one of %s' % ', '.join(NUMBERS)
        )
    target = step(argv[2]).number
    workspace = Workspace(path, replace=argv[3:])
    for item, output in workspace.advance(target):
        print('=' * 72)
        print(guide(item.number) or item.title)
        if output:
            print('\nIn %s now:\n%s' % (os.path.relpath(workspace.path), output.rstrip()))
        if item.number == STEPS[-1].number:
            print(
                "\nThe post's consumers as printed, given frames the replica refuses:\n"
                + check.bad_input(workspace.path)
            )
    print('=' * 72)
    print(
        '%s is at the end of step %s. make tutorial-check checks it.'
        % (os.path.relpath(workspace.path), target)
    )
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
