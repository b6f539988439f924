"""
The generated pages' one writer: each page in docs/generated/ is a
template in lab/templates/ of the same name, filled with figures that the
page's generator computes in Python and passes by name, or (a picture) a
file its generator drew, saved here. A template whose name starts with _
is a part that pages import, not a page.

    from lab import pages
    pages.write('benchmarks.md', rows=rows, targets=targets)
"""

import functools
import os

from lab.harness.generations import ROOT

DOCS = os.path.join(ROOT, 'docs', 'generated')
TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'templates')


@functools.lru_cache(maxsize=None)
def environment():
    # Imported on first render: the legacy tests import DOCS without Jinja2.
    import jinja2

    # Markdown, not HTML: nothing is escaped. A name the template uses and
    # the generator forgot is an error, not an empty string.
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def render(name, **values):
    """The template `name` filled with `values`."""
    return environment().get_template(name).render(**values)


def save(name, text, folder=DOCS):
    """Write `text` as the page `name` in `folder` (docs/generated/ by
    default), and return the path written."""
    path = os.path.join(folder, name)
    with open(path, 'w', encoding='utf-8') as page:
        page.write(text)
    return path


def write(name, folder=DOCS, **values):
    """Render `name` into `folder` (docs/generated/ by default)
    under the same name, and return the path written."""
    return save(name, render(name, **values), folder)
