"""
The post's code as printed (docs/post.md): its thirteen blocks, each under
the file it names, and a copy of the replica with the post's own files laid
over it, running as a legacy stack. Shared by the fidelity check
(lab/qa/fidelity.py), the legacy tests and the trace's tests; valid Python
3.5, standard library only.
"""

import contextlib
import io
import os
import re
import shutil
import tempfile

from lab.harness.stack import ROOT, Stack

__all__ = [
    'DAPHNE_LINES',
    'RUNWORKER_LINES',
    'Snippet',
    'missing_lines',
    'post_as_printed',
    'read',
    'snippets',
]

POST = os.path.join(ROOT, 'docs', 'post.md')
# daphne's and runworker's first lines as the post printed them (section
# 4.5), where they listen and the layer's class left to fill in.
DAPHNE_LINES = (
    'Starting server at tcp:port={port}:interface={interface}, '
    'channel layer chat.asgi:channel_layer.',
    'Using busy-loop synchronous mode on channel layer',
    'Listening on endpoint tcp:port={port}:interface={interface}',
)
RUNWORKER_LINES = (
    'runworker - Using single-threaded worker.',
    'runworker - Running worker against channel layer default ({layer})',
    'worker - Listening on channels http.request, websocket.connect, websocket.disconnect, '
    'websocket.receive',
)


def missing_lines(log, lines, **fields):
    """Those of the post's `lines`, filled in with `fields`, that `log` lacks."""
    return [line for line in (line.format(**fields) for line in lines) if line not in log]


def read(path):
    with io.open(path, encoding='utf-8') as handle:
        return handle.read()


class Snippet(object):
    def __init__(self, number, path, fragment, text):
        self.number, self.path, self.fragment, self.text = number, path, fragment, text

    @property
    def title(self):
        return '%d. %s' % (self.number, self.path) + (
            ' (%s)' % self.fragment if self.fragment else ''
        )


def snippets(post=POST):
    found = re.findall(
        r'^## (\d+)\. `([^`]+)`(?: \((\w+)\))?\n\n```\w*\n(.*?)^```$', read(post), re.M | re.S
    )
    return [
        Snippet(int(number), path, fragment or None, text) for number, path, fragment, text in found
    ]


def lay_post_over(destination):
    """A copy of the replica at `destination` with every complete file of
    the post's code as printed in its place (fragments of settings.py
    excepted): the post's own code, in the post's own files."""
    os.makedirs(destination, exist_ok=True)
    for name in ('manage.py', 'vikander', 'chat', 'templates', 'static'):
        source = os.path.join(ROOT, name)
        target = os.path.join(destination, name)
        if os.path.isdir(source):
            shutil.copytree(source, target, ignore=shutil.ignore_patterns('__pycache__'))
        else:
            shutil.copy2(source, target)
    for snippet in snippets():
        if not snippet.fragment:
            with io.open(os.path.join(destination, snippet.path), 'w', encoding='utf-8') as handle:
                handle.write(snippet.text)
    return destination


@contextlib.contextmanager
def post_as_printed(**options):
    """A legacy stack (lab/harness/stack.py) running the post's code as printed,
    in a copy removed afterwards."""
    copy = lay_post_over(tempfile.mkdtemp(prefix='chat-post-'))
    try:
        with Stack('1.0', root=copy, **options) as running:
            yield running
    finally:
        shutil.rmtree(copy)
