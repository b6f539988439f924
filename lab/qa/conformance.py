"""
WebSocket protocol conformance of both stacks: the Autobahn|Testsuite
fuzzing client (`wstest -m fuzzingclient`, CPython 2.7, var/venv-conformance)
against an echo endpoint on each, started by lab/harness/stack.py with test-only
routing:

  1.0  daphne 1.0.2 + runworker, lab/variants/echo.py (Channels 1 echo consumers)
  4.3  daphne 4, lab/variants/modern_echo.py (an AsyncWebsocketConsumer)

Reports land in artefacts/conformance/<stack>/ (index.html to browse), the
stack's logs in artefacts/conformance/<stack>/stack/. Prints the count of
cases per outcome for each stack and every FAILED case with its reason, and
writes them to artefacts/conformance/summary.txt; a run of both stacks on
the default cases also writes them, less the seconds each took, to
docs/generated/conformance.md. Both from templates in lab/templates/
(conformance-summary.txt, conformance.md).

Exits non-zero only when the harness breaks (a stack does not start, wstest
crashes or times out, no report): failed cases are findings, not errors.

    python -m lab.qa.conformance [1.0] [4.3]       (from the repository root)
    CONFORMANCE_CASES='1.*,9.*' CONFORMANCE_TIMEOUT=900 python -m lab.qa.conformance
"""

import collections
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

from lab import pages
from lab.harness.stack import ROOT, Stack, variant

WSTEST = os.path.join(ROOT, 'var', 'venv-conformance', 'bin', 'wstest')
OUT = os.path.join(ROOT, 'artefacts', 'conformance')
# Left out unless CONFORMANCE_CASES names them: 9 (limits and performance)
# takes minutes on the legacy stack (1000-message round trips through
# Redis and a worker, and two 60 s timeouts from dropped empty messages),
# 12 and 13 (permessage-deflate) far longer (docs/conformance.md).
DEFAULT_CASES = '1.*,2.*,3.*,4.*,5.*,6.*,7.*,10.*'
CASES = os.environ.get('CONFORMANCE_CASES', DEFAULT_CASES).split(',')
TIMEOUT = int(os.environ.get('CONFORMANCE_TIMEOUT', '600'))
OUTCOMES = ['OK', 'NON-STRICT', 'INFORMATIONAL', 'UNIMPLEMENTED', 'FAILED']
# A close that is neither of these is a finding, whatever the case's outcome.
CLOSED_WELL = ('OK', 'INFORMATIONAL')
# A case that failed or closed wrongly, as the summary shows it.
Failure = collections.namedtuple(
    'Failure', 'id behavior close description result expected received closed_wrongly result_close'
)

ECHO = {
    '1.0': {
        'agent': 'legacy daphne 1.0.2',
        'env': variant('echo_settings'),
        'asgi': None,
    },
    '4.3': {
        'agent': 'modern daphne 4',
        'env': {'PYTHONPATH': ROOT},
        'asgi': 'lab.variants.modern_echo:application',
    },
}


class HarnessError(Exception):
    pass


def case_key(case_id):
    return [int(part) for part in case_id.split('.')]


def fuzz(name):
    """Runs wstest against one stack; returns (seconds, {case: result})."""
    conf = ECHO[name]
    outdir = os.path.join(OUT, name)
    shutil.rmtree(outdir, ignore_errors=True)
    os.makedirs(os.path.join(outdir, 'stack'))
    stack = Stack(name, env=conf['env'], asgi=conf['asgi'], workdir=os.path.join(outdir, 'stack'))
    try:
        stack.start()
    except Exception as error:
        raise HarnessError('%s stack did not start: %s' % (name, error))
    try:
        seconds = wstest(name, stack.ws_url + '/echo/', outdir)
        if not stack.daphne.alive():
            print('%s: daphne died during the run (see %s)' % (name, stack.daphne.log_path))
    finally:
        stack.stop()
    return seconds, read_results(name, outdir)


def wstest(name, url, outdir):
    """Runs the fuzzing client against `url` into `outdir`; returns the
    seconds it took."""
    spec = {
        'outdir': outdir,
        'servers': [{'agent': ECHO[name]['agent'], 'url': url}],
        'cases': CASES,
        'exclude-cases': [],
        'exclude-agent-cases': {},
    }
    spec_path = os.path.join(outdir, 'fuzzingclient.json')
    with open(spec_path, 'w', encoding='utf-8') as spec_file:
        json.dump(spec, spec_file, indent=2)
    print('%s: fuzzing %s (cases %s)' % (name, url, ','.join(CASES)), flush=True)
    started = time.time()
    with open(os.path.join(outdir, 'wstest.log'), 'wb') as log:
        client = subprocess.Popen(
            [WSTEST, '-m', 'fuzzingclient', '-s', spec_path],
            cwd=outdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            code = client.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(client.pid, signal.SIGKILL)
            client.wait()
            raise HarnessError(
                '%s: wstest still running after %ss (see %s)' % (name, TIMEOUT, log.name)
            )
    if code != 0:
        raise HarnessError('%s: wstest exited %s (see %s/wstest.log)' % (name, code, outdir))
    return time.time() - started


def read_results(name, outdir):
    """The stack's index.json in `outdir`, each case with what its own
    report says."""
    try:
        with open(os.path.join(outdir, 'index.json'), encoding='utf-8') as index:
            results = json.load(index)[ECHO[name]['agent']]
    except (OSError, ValueError, KeyError) as error:
        raise HarnessError('%s: no usable index.json: %r' % (name, error))
    if not results:
        raise HarnessError('%s: the report holds no case' % name)
    for case_id, result in results.items():
        with open(os.path.join(outdir, result['reportfile']), encoding='utf-8') as case_file:
            case = json.load(case_file)
        for key in ('description', 'result', 'resultClose', 'expected', 'received'):
            result[key] = case.get(key, '')
    return results


def one_line(text):
    return re.sub(r'\s+', ' ', str(text)).strip()


def failures(results):
    """The cases that failed or closed wrongly, in case order, cut to a
    line each."""
    found = []
    for case_id in sorted(results, key=case_key):
        r = results[case_id]
        closed_wrongly = r['behaviorClose'] not in CLOSED_WELL
        if r['behavior'] == 'FAILED' or closed_wrongly:
            found.append(
                Failure(
                    case_id,
                    r['behavior'],
                    r['behaviorClose'],
                    one_line(r['description'])[:100],
                    one_line(r['result']),
                    one_line(json.dumps(r['expected']))[:120],
                    one_line(json.dumps(r['received']))[:120],
                    closed_wrongly,
                    one_line(r['resultClose']),
                )
            )
    return found


def tally(runs):
    """The summary's figures, by name: per stack in the order of `names`,
    the cases per outcome (any outcome of wstest's own after OUTCOMES),
    cases, closes not OK and seconds; each stack's failures."""
    names = list(runs)
    cases = {name: list(runs[name][1].values()) for name in names}
    extra = {r['behavior'] for name in names for r in cases[name]} - set(OUTCOMES)
    outcomes = OUTCOMES + sorted(extra)
    return {
        'names': names,
        'outcomes': outcomes,
        'counts': {
            outcome: [sum(r['behavior'] == outcome for r in cases[name]) for name in names]
            for outcome in outcomes
        },
        'cases': [len(cases[name]) for name in names],
        'closed_wrongly': [
            sum(r['behaviorClose'] not in CLOSED_WELL for r in cases[name]) for name in names
        ],
        'seconds': [runs[name][0] for name in names],
        'failures': {name: failures(runs[name][1]) for name in names},
    }


def write(runs, page, out=OUT, folder=pages.DOCS):
    """The summary into `out`/summary.txt and, with `page`, the page into
    `folder`, the summary less its timings (which vary run to run) as the
    docs quote it. Returns the summary."""
    figures = tally(runs)
    text = pages.render('conformance-summary.txt', timed=True, **figures)
    with open(os.path.join(out, 'summary.txt'), 'w', encoding='utf-8') as summary:
        summary.write(text)
    if page:
        pages.write('conformance.md', folder=folder, chosen=CASES, timed=False, **figures)
    return text


def main(argv):
    names = argv or list(ECHO)
    unknown = [name for name in names if name not in ECHO]
    if unknown:
        print('unknown generation(s): %s (choose from %s)' % (unknown, list(ECHO)), file=sys.stderr)
        return 2
    if not os.path.exists(WSTEST):
        print('%s is missing: run `make conformance`' % WSTEST, file=sys.stderr)
        return 2
    runs = {}
    try:
        for name in names:
            runs[name] = fuzz(name)
            print('%s: %d cases in %.0f s' % (name, len(runs[name][1]), runs[name][0]), flush=True)
    except HarnessError as error:
        print('conformance harness broke: %s' % error, file=sys.stderr)
        return 1
    text = write(runs, sorted(names) == sorted(ECHO) and CASES == DEFAULT_CASES.split(','))
    print()
    print(text, end='')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
