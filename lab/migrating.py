"""
The migration, one generation at a time: for each step (1.0 to 1.1, 1.1
to 2.4, 2.4 to 3.0, 3.0 to 4.3) the pins that changed, each file's
unified diff from one tree to the next, and the comparison's rows whose
outcome changed at that step, with why. Writes docs/generated/migrating.md
(lab/templates/migrating.md) from the trees and the recorded comparison;
lab/qa/test_migrating_page.py fails when the page is stale.

    python -m lab.migrating      (make migrating)
"""

import collections
import difflib
import os

from lab import pages
from lab.blackbox import comparison
from lab.harness.generations import GENERATIONS, ROOT, TABLE, minors, pins

PAGE = os.path.join(pages.DOCS, 'migrating.md')
# Each generation's tree, its pins and its CPython, from its row.
Tree = collections.namedtuple('Tree', 'name folder requirements python pinned')
TREES = {
    key: Tree(pins(key)['channels'], row.tree, row.pins, ' or '.join(minors(key)), pins(key))
    for key, row in TABLE.items()
}
# What the app is made of in each tree: the files a diff should show.
APP = ('manage.py', 'Procfile', 'vikander', 'chat')
Step = collections.namedtuple('Step', 'before after pins files rows')
Pin = collections.namedtuple('Pin', 'package before after')
File = collections.namedtuple('File', 'path status diff')
Changed = collections.namedtuple('Changed', 'scenario before after why source')


def app_files(folder):
    """The app's files in a tree, as paths relative to it."""
    found = []
    for entry in APP:
        path = os.path.join(ROOT, folder, entry)
        if os.path.isfile(path):
            found.append(entry)
        for parent, folders, files in os.walk(path):
            folders[:] = sorted(name for name in folders if name != '__pycache__')
            found += [
                os.path.relpath(os.path.join(parent, name), os.path.join(ROOT, folder))
                for name in files
                if name.endswith('.py')
            ]
    return set(found)


def text(folder, path):
    full = os.path.join(ROOT, folder, path)
    if not os.path.exists(full):
        return []
    with open(full, encoding='utf-8') as handle:
        return handle.read().splitlines(keepends=True)


def pin_changes(before, after):
    old, new = before.pinned, after.pinned
    return [
        Pin(name, old.get(name, '(none)'), new.get(name, '(none)'))
        for name in sorted(set(old) | set(new))
        if old.get(name) != new.get(name)
    ]


def file_changes(before, after):
    changed = []
    for path in sorted(app_files(before.folder) | app_files(after.folder)):
        old, new = text(before.folder, path), text(after.folder, path)
        if old == new:
            continue
        status = 'added' if not old else 'removed' if not new else 'changed'
        diff = difflib.unified_diff(
            old,
            new,
            'a/%s' % os.path.normpath(os.path.join(before.folder, path)),
            'b/%s' % os.path.normpath(os.path.join(after.folder, path)),
        )
        shown = os.path.normpath(os.path.join(after.folder if new else before.folder, path))
        changed.append(File(shown, status, ''.join(diff).rstrip('\n')))
    return changed


def row_changes(recorded, earlier, later):
    why = comparison.explanations()
    return [
        Changed(
            name,
            comparison.show(recorded[earlier][name]),
            comparison.show(recorded[later][name]),
            *why.get(name, {}).get(later, ('(not explained)', '(none)')),
        )
        for name in sorted(recorded[later])
        if later in comparison.changes(recorded, name)
    ]


def steps():
    recorded = comparison.expected()
    return [
        Step(
            TREES[earlier],
            TREES[later],
            pin_changes(TREES[earlier], TREES[later]),
            file_changes(TREES[earlier], TREES[later]),
            row_changes(recorded, earlier, later),
        )
        for earlier, later in zip(GENERATIONS, GENERATIONS[1:])
    ]


def render():
    return pages.render('migrating.md', steps=steps())


def main():
    print('wrote', os.path.relpath(pages.write('migrating.md', steps=steps()), ROOT))


if __name__ == '__main__':
    main()
