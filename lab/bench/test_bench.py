"""
The benchmark's smoke run, in `make test`: each kind of system under a small
load through the whole harness, and the report written from the results.
It asserts what the benchmark counts, never a speed.
"""

import asyncio
import json
import socket

import pytest

from lab.bench import report, run, soak
from lab.harness import load as harness_load
from lab.harness.load import Load, Member, tally
from lab.harness.logged import account, losses, outcome

SMOKE = Load('smoke', rooms=2, members=3, rate=2, seconds=2)
# The reference, a stack with runworkers, one without, and the port under
# daphne and under uvicorn.
SYSTEMS = ('reference', 'legacy-2', '3.0', 'modern', 'modern-uvicorn')


@pytest.fixture(scope='module')
def results():
    return [dict(run.measure(system, SMOKE), repeat=0) for system in SYSTEMS]


def test_every_message_is_counted_from_send_to_each_member(results):
    for r in results:
        assert r['sent'] == 2 * 3 * 2 * 2, r
        assert r['stored'] == r['sent'], r
        assert r['expected'] == r['stored'] * 3, r
        assert r['delivered'] == r['expected'] and r['lost'] == {}, r
        assert r['p50_ms'] is not None and r['p99_ms'] >= r['p50_ms'], r
        assert all(s['peak_rss_mb'] > 0 for s in r['servers'].values()), r
        assert sum(s['cpu_seconds'] for s in r['servers'].values()) > 0, r


def test_each_room_says_hello_before_the_load_and_it_is_not_counted(results):
    for r in results:
        # Every member of both rooms got its room's hello; none of the
        # hellos is among the messages sent, stored or delivered above.
        assert r['first_ms'] is not None and r['lost'] == {}, r


def test_a_burst_sends_each_round_from_every_member_at_the_same_instant():
    burst = Load('burst', rooms=1, members=4, rate=1, seconds=2, burst=True)
    r = run.measure('reference', burst)
    assert r['delivered'] == r['expected'] == 2 * 4 * 4, r
    # At random phases the four would spread over the second between rounds.
    assert r['round_spread_ms'] < 100, r


def test_a_lost_message_is_counted_where_it_was_lost():
    sender, member, closed = Member('r', 0), Member('r', 1), Member('r', 2)
    sender.close_code, closed.close_code = 1013, 1013
    member.received = {'a': 0.01}
    sent = {'a': member, 'b': member, 'c': sender}
    counted = tally(
        SMOKE,
        sent,
        [('r', 'a 0'), ('r', 'b 0')],
        {'r': [member, closed]},
        [sender, member, closed],
        {},
        1,
        1,
        0,
    )
    assert counted['lost'] == {
        'never stored, sender closed 1013': 1,
        'stored, member closed 1013': 2,
        'stored, not delivered within the drain, no error': 1,
    }
    assert counted['lost_total'] == counted['expected'] - counted['delivered'] + 1


def test_losses_the_stack_logged_are_counted_as_such():
    # The lines the replica's runworker and daphne write (tests/test_faults.py runs them).
    logs = (
        'group chat-r: message dropped for 2 member(s) whose reply channel is full: '
        'websocket.send!a websocket.send!b\nchat message room=r\n'
        'group chat-r: message dropped for 1 member(s) whose reply channel is full: '
        'websocket.send!a\n'
        'channel websocket.receive: message expired unhandled, after the 60 s channel expiry: '
        'no runworker took it (a chat frame is never stored)\n'
        '2026-12-01 20:00:00,000 WARNING  channel websocket.send!b: message expired unhandled, '
        'after the 60 s channel expiry: a reply daphne never took, which never reached its socket\n'
        # And what the 2.4 and 3.0 trees' layers write.
        'WARNING channels_redis.core group chat-r: message dropped for 10 member(s) whose '
        'channel is full (1 of 1 Redis keys over capacity)\n'
        'WARNING vikander.layers channel specific.a!b: message dropped for 1 member whose '
        'receive buffer is full (100): the oldest it held\n'
        'WARNING vikander.layers channel asgispecific.a!: message dropped for 2 member(s): '
        'Redis popped it for a receive cancelled as its socket closed, before the library '
        'kept a backup: specific.a!b specific.a!c\n'
    )
    assert losses(logs) == {
        'dropped': 13,
        'dropped from a buffer': 1,
        'popped for a cancelled receive': 2,
        'expired replies': 1,
        'expired frames': 1,
    }
    lost = {
        'stored, not delivered within the drain, no error': 18,
        'stored, member closed 1013': 1,
        'never stored, no error': 1,
    }
    assert account(lost, losses(logs)) == {
        'stored, not delivered within the drain, no error': 1,
        'stored, member closed 1013': 1,
        'stored, dropped at a full reply channel, WARNING logged': 13,
        'stored, dropped from a full receive buffer, WARNING logged': 1,
        'stored, popped for a cancelled receive, WARNING logged': 2,
        'stored, expired in a reply channel, WARNING logged': 1,
        'never stored, expired waiting for a runworker, WARNING logged': 1,
    }
    # Never more than the clients saw lost.
    assert account({'stored, not delivered within the drain, no error': 2}, losses(logs)) == {
        'stored, dropped at a full reply channel, WARNING logged': 2
    }


def test_a_room_whose_every_loss_was_logged_differs_from_one_that_lost_silently():
    logged = {
        'close_codes': {},
        'lost_total': 2,
        'lost': {'stored, dropped at a full reply channel, WARNING logged': 2},
    }
    silent = dict(
        logged,
        lost={
            'stored, dropped at a full reply channel, WARNING logged': 1,
            'stored, not delivered within the drain, no error': 1,
        },
    )
    assert outcome(logged) == 'some lost, each logged at WARNING'
    assert outcome(silent) == 'some lost silently'
    assert outcome(dict(logged, lost_total=0, lost={})) == 'everything delivered'


def test_the_report_says_what_said_each_undelivered_message():
    # Lost classes as lab/harness/load.py and logged.account write them.
    runs = {
        ('2.4', '300'): [
            {'lost': {'stored, dropped at a full reply channel, WARNING logged': 9}},
            {'lost': {'stored, dropped at a full reply channel, WARNING logged': 11}},
        ],
        ('1.0', '300'): [
            {
                'lost': {
                    'never stored, sender closed 1013': 2,
                    'stored, member closed 1013': 5,
                    'stored, not delivered within the drain, no error': 1,
                }
            }
        ],
    }
    rows = report.accounted(runs, ['1.0', '2.4', '4.3'], ['300'])
    assert rows == [
        {
            'load': '300',
            'system': '1.0',
            'undelivered': '8',
            'logged': '0',
            'closed': '7',
            'silent': '1',
        },
        {
            'load': '300',
            'system': '2.4',
            'undelivered': '10 (9–11)',
            'logged': '10 (9–11)',
            'closed': '0',
            'silent': '0',
        },
    ]


def test_the_report_has_a_table_row_for_each_system_and_the_plot(results, tmp_path):
    path = tmp_path / 'results.json'
    path.write_text(json.dumps(results))
    report.main(str(path), docs=str(tmp_path))
    written = (tmp_path / 'benchmarks.md').read_text()
    for system in SYSTEMS:
        assert '| %s | 72 / 72 | none |' % system in written
        # Nothing logged lost in the smoke run: the row says 0 for each kind.
        assert '| %s | 0 | 0 |' % system in written
    assert (tmp_path / 'bench-load.png').stat().st_size > 10000
    # The port under uvicorn beside daphne, figure by figure; every other
    # generation in its own section of the same page, the port as 4.3.
    assert '\n| smoke | yes | ' in written
    generations = written.split('## Every generation')[1]
    assert '| 3.0 | 72 / 72 | none |' in generations
    assert '| 4.3 | 72 / 72 | none |' in generations


def test_one_run_plans_each_stack_once_under_each_load_and_uvicorn_beside_daphne():
    for load in run.loads(6):
        planned = run.everything(load)
        assert len(planned) == len(set(planned))
        assert {'reference', 'modern', 'modern-uvicorn'} <= set(planned)
        assert ('legacy-1' in planned) == (load.name not in run.NEAR_A_CORE)
        # The post and the port run once, as legacy-1 and modern.
        assert not {'1.0', '4.3'} & set(planned)
    large = next(load for load in run.loads(6) if load.name == 'large')
    assert {'1.1', '2.4', '3.0'} <= set(run.everything(large))


def test_the_report_counts_each_kind_of_logged_loss_over_a_repeat():
    kinds = losses('')
    results = [
        {
            'system': '3.0',
            'repeat': 0,
            'logged': dict(kinds, **{'popped for a cancelled receive': n}),
            # and what the closes refused, as load.tally classes it
            'lost': {'stored, member closed 1013': n, 'never stored, sender closed 1013': 1},
        }
        for n in (2, 3)
    ]
    counted = report.logged(results, ['3.0'])[0]
    assert (counted['popped'], counted['closed']) == ('5', '7')


def test_a_run_says_each_system_and_load_as_it_ends_and_the_time_left(tmp_path, capsys):
    argv = ['--systems', 'reference', '--loads', 'quiet,busy', '--seconds', '1']
    run.main(argv + ['--out', str(tmp_path)])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:3] for line in lines] == [
        ['1/2', 'reference', 'quiet'],
        ['2/2', 'reference', 'busy'],
    ]
    assert lines[0].endswith('min left') and lines[1].endswith('about 0 min left')


def test_a_soak_samples_each_process_and_redis_through_its_churn():
    r = soak.measure('1.0', 6)
    assert r['cycles'] > 0 and r['failed'] == 0, r['failures']
    assert r['sockets'] == r['cycles'] * soak.MEMBERS
    assert r['delivered'] == r['cycles'] * soak.MEMBERS * soak.MEMBERS and r['unheard'] == 0
    assert set(r['logged'].values()) == {0}, r['logged']
    assert len(r['samples']) >= 5
    for sample in r['samples']:
        assert sample['daphne 1 rss MB'] > 0 and sample['worker 1 rss MB'] > 0, sample
        assert sample['daphne 1 fds'] > 0 and sample['redis clients'] >= 1, sample
        assert 'redis keys' in sample and sample['redis used MB'] > 0, sample


def test_a_leak_is_a_slope_that_rises_past_its_scatter_after_the_warm_up():
    def samples(value):
        return [{'seconds': t, 'x': value(t) if t >= soak.WARM else 999} for t in range(200)]

    rising = soak.slope(samples(lambda t: 5 + 0.5 * t), 'x')
    assert round(rising['per_minute'], 6) == 30.0 and rising['grows']
    # A count that swings with the open sockets, and drifts less than it swings.
    swinging = soak.slope(samples(lambda t: 20 * (t % 2) + 0.01 * t), 'x')
    assert swinging['per_minute'] > 0 and not swinging['grows']
    assert soak.slope(samples(lambda t: t)[: soak.WARM + 2], 'x') is None


def test_a_soak_refuses_a_length_past_its_bound_in_one_line(capsys):
    with pytest.raises(SystemExit) as refused:
        soak.main(['--seconds', '86400'])
    assert refused.value.code == 2
    said = capsys.readouterr().err.strip().splitlines()[-1]
    assert 'a soak run lasts from 150 to 3600 seconds (slopes start at 90 s), not 86400' in said


def test_a_page_not_answered_is_counted_as_refused_and_the_run_goes_on(monkeypatch):
    # A listener that takes the connection and never answers its TLS
    # handshake, as nginx once did in a make bench run.
    monkeypatch.setattr(harness_load, 'OPEN_TIMEOUT', 0.5)
    silent = socket.socket()
    silent.bind(('127.0.0.1', 0))
    silent.listen(1)

    class Unanswered(object):
        url = 'https://127.0.0.1:%d' % silent.getsockname()[1]

    try:
        pages = asyncio.run(harness_load.fetch_rooms(Unanswered, ['a-room']))
    finally:
        silent.close()
    assert pages == {'room page URLError': 1}
