"""
The project's shape: the root shows the post's layout, the post's package
holds the post, tools depend one way, and the Makefile tells its targets.
"""

import ast
import glob
import os
import re
import subprocess
import sys

from lab.harness.make import make, targets
from lab.harness.stack import ROOT

POSTS_NINE = {
    'manage.py',
    'vikander',
    'chat',
    'templates',
    'static',
    'tests',
    'requirements-legacy.txt',
    'Dockerfile',
    'README.md',
}


def tracked():
    return subprocess.check_output(['git', 'ls-files'], cwd=ROOT, universal_newlines=True).split()


def python_files():
    return [path for path in tracked() if path.endswith('.py')]


def imported(path):
    """Every module name a file imports, as written."""
    with open(os.path.join(ROOT, path), encoding='utf-8') as source:
        tree = ast.parse(source.read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
            for alias in node.names:
                yield node.module + '.' + alias.name


def test_the_root_is_the_posts_layout_and_a_few_entries_of_its_own():
    root = {path.split('/')[0] for path in tracked() if not path.startswith('.')}
    assert POSTS_NINE <= root
    # 18 until the generations between the post and the port came, in one
    # folder (generations/).
    assert len(root) <= 19, sorted(root)


def test_no_test_module_imports_another():
    tests = {
        os.path.splitext(os.path.basename(path))[0]
        for path in python_files()
        if os.path.basename(path).startswith('test_')
    }
    importing = {}
    for path in python_files():
        found = {
            name
            for name in imported(path)
            if name.split('.')[-1] in tests or any(part in tests for part in name.split('.')[:-1])
        }
        if found:
            importing[path] = sorted(found)
    assert importing == {}


def test_the_posts_package_holds_no_tool_code():
    for path in glob.glob(os.path.join(ROOT, 'vikander', '*.py')) + glob.glob(
        os.path.join(ROOT, 'chat', '*.py')
    ):
        with open(path, encoding='utf-8') as source:
            text = source.read()
        assert not re.search(r'trace|publisher|shard|bench', text, re.I), path
        assert not any(
            name.startswith(('lab', 'ops')) for name in imported(os.path.relpath(path, ROOT))
        ), path


def test_the_app_imports_no_tool_and_the_harness_no_suite():
    layers = {
        'vikander': ('lab', 'ops'),
        'chat': ('lab', 'ops'),
        'generations': ('lab', 'ops'),
        'modern': ('lab', 'ops'),
        'lab/harness': (
            'lab.blackbox',
            'lab.bench',
            'lab.tracing',
            'lab.qa',
            'lab.variants',
            'lab.cluster',
        ),
    }
    for path in python_files():
        for folder, forbidden in layers.items():
            if path.startswith(folder + '/'):
                assert not [name for name in imported(path) if name.startswith(forbidden)], path


def test_what_the_legacy_interpreter_runs_is_in_the_python_35_set():
    # Every lab module the legacy tests import lies in a folder `make
    # check-py35` checks whole.
    py35 = py35_set()
    for path in python_files():
        if path.startswith('tests/'):
            for name in imported(path):
                if name.startswith('lab.'):
                    folder = '/'.join(name.split('.')[:2])
                    assert folder in py35, (path, name)
    assert {'vikander', 'chat', 'tests', 'manage.py'} <= set(py35)


def py35_set():
    with open(os.path.join(ROOT, 'Makefile'), encoding='utf-8') as makefile:
        text = makefile.read().replace('\\\n', ' ')
    return re.search(r'^PY35 := (.*)$', text, re.M).group(1).split()


def commas_after_star_parameters(source):
    """The lines of each def whose parameters after a * (*args, keyword-only,
    **kwargs) end with a comma: Python 3.6 allows it, 3.5 refuses to parse
    it, vermin does not see it, and ruff's formatter (which targets 3.7 at
    the oldest) writes it when it splits a signature."""
    lines = source.splitlines()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            args = node.args
            last = args.kwarg or (args.kwonlyargs or [None])[-1] or args.vararg
            if last is not None:
                end, column = last.end_lineno, last.end_col_offset
                if args.kwonlyargs and last is args.kwonlyargs[-1]:
                    default = args.kw_defaults[-1]
                    if default is not None:
                        end, column = default.end_lineno, default.end_col_offset
                after = '\n'.join([lines[end - 1][column:]] + lines[end : end + 2]).lstrip()
                if after.startswith(','):
                    yield node.lineno


def test_what_must_stay_python_35_has_no_comma_after_star_parameters():
    found = []
    for path in python_files():
        if any(path == entry or path.startswith(entry + '/') for entry in py35_set()):
            source = open(os.path.join(ROOT, path), encoding='utf-8').read()
            found += ['%s:%d' % (path, line) for line in commas_after_star_parameters(source)]
    assert found == []


def test_the_comma_check_can_fail():
    assert list(commas_after_star_parameters('def f(\n    a,\n    **kwargs,\n):\n    pass\n')) == [
        1
    ]
    assert list(commas_after_star_parameters('def f(*, a=(1, 2),\n):\n    pass\n')) == [1]
    assert list(commas_after_star_parameters('def f(*args, a, **kw):\n    pass\n')) == []


def test_make_help_names_every_target_with_one_line():
    defined = targets()
    assert {'setup-channels-1.1', 'setup-channels-2.4', 'setup-channels-3.0'} <= defined
    shown = subprocess.check_output(
        ['make', '--no-print-directory', 'help'], cwd=ROOT, universal_newlines=True
    )
    lines = dict(line.split(None, 2)[1:] for line in shown.splitlines())
    assert set(lines) == defined
    assert all(len(text) > 10 for text in lines.values())


def configured_hosts():
    """The package registries and mirrors this machine is configured with,
    read at test time from pip (its settings and its default index), apt
    and npm, so that this test names none of them itself."""
    from pip._internal.models.index import PyPI

    hosts = {PyPI.netloc, PyPI.file_storage_domain}
    pip_settings = subprocess.run(
        [sys.executable, '-m', 'pip', 'config', 'list'],
        stdout=subprocess.PIPE,
        universal_newlines=True,
    ).stdout
    apt_sources = ''.join(
        open(path, encoding='utf-8', errors='replace').read()
        for path in glob.glob('/etc/apt/sources.list') + glob.glob('/etc/apt/sources.list.d/*')
    )
    npm = subprocess.run(
        'npm config get registry',
        shell=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        universal_newlines=True,
    ).stdout
    configured = re.findall(
        r'[a-z][a-z0-9+.-]*://(?:[^@/\s]*@)?([^/:\s\'"]+)', pip_settings + apt_sources + npm
    )
    # Names only: an address (127.0.0.1) is no registry's name, and is everywhere.
    return hosts | {host for host in configured if re.search(r'[a-z]', host) and '.' in host}


def test_no_registry_or_mirror_host_is_written_into_the_project():
    hosts = configured_hosts()
    found = []
    for path in tracked():
        if path.endswith(('.png', '.svg')) or path.startswith('static/'):
            continue
        with open(os.path.join(ROOT, path), encoding='utf-8', errors='replace') as handle:
            text = handle.read()
        found.extend((path, host) for host in hosts if host in text)
    assert found == []


def test_make_test_runs_one_file_and_test_in_the_virtualenv_its_path_needs():
    status, legacy = make('-s', 'test', 'TEST_ARGS=tests/test_models.py -k unicode -v')
    # The legacy virtualenv: CPython 3.5 or 3.6, and its pytest.
    assert status == 0 and re.search(r'Python 3\.[56]\.\d+, pytest-6\.1\.2', legacy), legacy
    assert (
        re.search(
            r'^tests/test_models\.py::\w+::test_unicode_methods_are_not_used_by_python3 PASSED',
            legacy,
            re.M,
        )
        and '1 passed' in legacy
    ), legacy
    status, tools = make('-s', 'test', 'TEST_ARGS=lab/qa/test_docs.py -k the_readme_reads')
    assert status == 0 and '1 passed' in tools, tools
    status, nowhere = make('-s', 'test', 'TEST_ARGS=nowhere -k x')
    assert status == 2 and 'its first word is a path under tests/, modern/tests/ or lab/' in nowhere


def declared_all(module):
    """A lab module's `__all__`, read from its source, or None."""
    path = os.path.join(ROOT, *module.split('.')) + '.py'
    if not os.path.exists(path):
        return None
    with open(path, encoding='utf-8') as source:
        tree = ast.parse(source.read(), path)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            getattr(target, 'id', None) == '__all__' for target in node.targets
        ):
            return {element.value for element in node.value.elts}
    return None


def test_what_one_lab_module_takes_from_another_is_in_its_all():
    undeclared = []
    for path in python_files():
        with open(os.path.join(ROOT, path), encoding='utf-8') as source:
            tree = ast.parse(source.read(), path)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or '').startswith('lab.'):
                public = declared_all(node.module)
                for alias in node.names:
                    if public is not None and alias.name not in public:
                        undeclared.append('%s: %s.%s' % (path, node.module, alias.name))
    assert undeclared == []
