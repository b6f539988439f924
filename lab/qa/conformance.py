"""
WebSocket protocol conformance of both stacks: the Autobahn|Testsuite
fuzzing client (`wstest -m fuzzingclient`, CPython 2.7, var/venv-conformance)
against an echo endpoint on each, started by lab/harness/stack.py with test-only
routing:

  legacy  daphne 1.0.2 + runworker, lab/variants/echo.py (Channels 1 echo consumers)
  modern  daphne 4, lab/variants/modern_echo.py (an AsyncWebsocketConsumer)

Reports land in artefacts/conformance/<stack>/ (index.html to browse), the
stack's logs in artefacts/conformance/<stack>/stack/. Prints the count of
cases per outcome for each stack and every FAILED case with its reason; a
run of both stacks on the default cases also writes them, less the
seconds each took, to docs/generated/conformance.md.

Exits non-zero only when the harness breaks (a stack does not start, wstest
crashes or times out, no report): failed cases are findings, not errors.

    python -m lab.qa.conformance [legacy] [modern]       (from the repository root)
    CONFORMANCE_CASES='1.*,9.*' CONFORMANCE_TIMEOUT=900 python -m lab.qa.conformance
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

from lab.harness.stack import ROOT, Stack, variant

WSTEST = os.path.join(ROOT, 'var', 'venv-conformance', 'bin', 'wstest')
OUT = os.path.join(ROOT, 'artefacts', 'conformance')
# Left out unless CONFORMANCE_CASES names them: 9 (limits and performance)
# takes minutes on the legacy stack (1000-message round trips through
# Redis and a worker, and two 60 s timeouts from dropped empty messages),
# 12 and 13 (permessage-deflate) far longer (docs/conformance.md).
DEFAULT_CASES = '1.*,2.*,3.*,4.*,5.*,6.*,7.*,10.*'
CASES = os.environ.get('CONFORMANCE_CASES', DEFAULT_CASES).split(',')
PAGE = os.path.join(ROOT, 'docs', 'generated', 'conformance.md')
TIMEOUT = int(os.environ.get('CONFORMANCE_TIMEOUT', '600'))
OUTCOMES = ['OK', 'NON-STRICT', 'INFORMATIONAL', 'UNIMPLEMENTED', 'FAILED']

ECHO = {
    'legacy': {
        'agent': 'legacy daphne 1.0.2',
        'env': variant('echo_settings'),
        'asgi': None,
    },
    'modern': {
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
    try:
        stack = Stack(
            name, env=conf['env'], asgi=conf['asgi'], workdir=os.path.join(outdir, 'stack')
        )
    except Exception as error:
        raise HarnessError('%s stack did not start: %s' % (name, error))
    with stack:
        spec = {
            'outdir': outdir,
            'servers': [{'agent': conf['agent'], 'url': stack.ws_url + '/echo/'}],
            'cases': CASES,
            'exclude-cases': [],
            'exclude-agent-cases': {},
        }
        spec_path = os.path.join(outdir, 'fuzzingclient.json')
        with open(spec_path, 'w', encoding='utf-8') as spec_file:
            json.dump(spec, spec_file, indent=2)
        print(
            '%s: fuzzing %s (cases %s)' % (name, spec['servers'][0]['url'], ','.join(CASES)),
            flush=True,
        )
        started = time.time()
        with open(os.path.join(outdir, 'wstest.log'), 'wb') as log:
            wstest = subprocess.Popen(
                [WSTEST, '-m', 'fuzzingclient', '-s', spec_path],
                cwd=outdir,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                code = wstest.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(wstest.pid, signal.SIGKILL)
                wstest.wait()
                raise HarnessError(
                    '%s: wstest still running after %ss (see %s)' % (name, TIMEOUT, log.name)
                )
        seconds = time.time() - started
        if code != 0:
            raise HarnessError('%s: wstest exited %s (see %s/wstest.log)' % (name, code, outdir))
        if not stack.daphne.alive():
            print('%s: daphne died during the run (see %s)' % (name, stack.daphne.log_path))
    try:
        with open(os.path.join(outdir, 'index.json'), encoding='utf-8') as index:
            results = json.load(index)[conf['agent']]
    except (OSError, ValueError, KeyError) as error:
        raise HarnessError('%s: no usable index.json: %r' % (name, error))
    if not results:
        raise HarnessError('%s: the report holds no case' % name)
    for case_id, result in results.items():
        with open(os.path.join(outdir, result['reportfile']), encoding='utf-8') as case_file:
            case = json.load(case_file)
        result['description'] = case.get('description', '')
        result['result'] = case.get('result', '')
        result['resultClose'] = case.get('resultClose', '')
        result['expected'] = case.get('expected', '')
        result['received'] = case.get('received', '')
    return seconds, results


def one_line(text):
    return re.sub(r'\s+', ' ', str(text)).strip()


def report(runs):
    names = list(runs)
    lines = ['%-22s' % 'outcome' + ''.join('%10s' % name for name in names)]
    extra = set()
    for results in runs.values():
        extra.update(r['behavior'] for r in results[1].values() if r['behavior'] not in OUTCOMES)
    for outcome in OUTCOMES + sorted(extra):
        lines.append(
            '%-22s' % outcome
            + ''.join(
                '%10d' % sum(r['behavior'] == outcome for r in runs[name][1].values())
                for name in names
            )
        )
    lines.append('%-22s' % 'cases' + ''.join('%10d' % len(runs[n][1]) for n in names))
    lines.append(
        '%-22s' % 'close not OK'
        + ''.join(
            '%10d'
            % sum(r['behaviorClose'] not in ('OK', 'INFORMATIONAL') for r in runs[n][1].values())
            for n in names
        )
    )
    lines.append('%-22s' % 'seconds' + ''.join('%10.0f' % runs[n][0] for n in names))
    for name in names:
        results = runs[name][1]
        bad = [
            c
            for c in sorted(results, key=case_key)
            if results[c]['behavior'] == 'FAILED'
            or results[c]['behaviorClose'] not in ('OK', 'INFORMATIONAL')
        ]
        lines.append('')
        lines.append('%s: %d case(s) FAILED or closed wrongly' % (name, len(bad)))
        for case_id in bad:
            r = results[case_id]
            lines.append(
                '  %s [%s, close %s] %s'
                % (case_id, r['behavior'], r['behaviorClose'], one_line(r['description'])[:100])
            )
            lines.append('      result: %s' % one_line(r['result']))
            lines.append(
                '      expected %s, received %s'
                % (
                    one_line(json.dumps(r['expected']))[:120],
                    one_line(json.dumps(r['received']))[:120],
                )
            )
            if r['behaviorClose'] not in ('OK', 'INFORMATIONAL'):
                lines.append('      resultClose: %s' % one_line(r['resultClose']))
    return '\n'.join(lines)


def write_page(text):
    """The counts and failures, without the timings (which vary run to
    run), as the page the docs quote."""
    kept = '\n'.join(line for line in text.splitlines() if not line.startswith('seconds'))
    with open(PAGE, 'w', encoding='utf-8') as page:
        page.write(
            '# WebSocket conformance: the last run\n\n'
            'Written by `make conformance` (lab/qa/conformance.py), which `make test` runs: '
            'the Autobahn|Testsuite fuzzing client against the echo endpoint of each stack, '
            'cases %s. Cases per outcome, then each case that failed or closed wrongly, '
            'with its reason ([conformance.md](../conformance.md) says why).\n\n'
            '```\n%s\n```\n' % (', '.join(CASES), kept)
        )


def main(argv):
    names = argv or list(ECHO)
    unknown = [name for name in names if name not in ECHO]
    if unknown:
        print('unknown stack(s): %s (choose from %s)' % (unknown, list(ECHO)), file=sys.stderr)
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
    text = report(runs)
    with open(os.path.join(OUT, 'summary.txt'), 'w', encoding='utf-8') as summary:
        summary.write(text + '\n')
    if sorted(names) == sorted(ECHO) and CASES == DEFAULT_CASES.split(','):
        write_page(text)
    print()
    print(text)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
