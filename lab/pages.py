"""
The generated pages' one renderer: each page in docs/generated/ is a
template in lab/templates/ of the same name, filled with figures that the
page's generator computes in Python and passes by name. A template whose
name starts with _ is a part that pages import, not a page.

    from lab import pages
    pages.write('benchmarks.md', rows=rows, targets=targets)
"""

import os

import jinja2

from lab.harness.stack import ROOT

DOCS = os.path.join(ROOT, 'docs', 'generated')
TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'templates')

# Markdown, not HTML: nothing is escaped. A name the template uses and the
# generator forgot is an error, not an empty string.
ENVIRONMENT = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
    autoescape=False,
)


def render(name, **values):
    """The template `name` filled with `values`."""
    return ENVIRONMENT.get_template(name).render(**values)


def write(name, folder=DOCS, **values):
    """Render `name` into `folder` (docs/generated/ by default)
    under the same name, and return the path written."""
    path = os.path.join(folder, name)
    with open(path, 'w', encoding='utf-8') as page:
        page.write(render(name, **values))
    return path
