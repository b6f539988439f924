"""
`make trace` against real stacks: a stack, the trace beside it, two
members, one message; the trace must show its hops in order with the real
channel names. Beside a plain stack, as `make run` starts it (read from
MONITOR), on the replica and on the post's code as printed; beside the layer
trace's settings (`make run TRACE=layer`); on the modern port; and on each
generation between (`make trace CHANNELS=X`), with its own key names.
"""

import re

import pytest

from lab.harness.client import frames, fresh_label, join, say
from lab.harness.post import post_as_printed
from lab.harness.stack import Stack, wait_for
from lab.harness.trace import Trace, chat, layer_trace
from lab.tracing.monitor import arguments


def flow_of(line):
    fields = line.split()
    return fields[3] if len(fields) > 3 else None


def order(lines, *needles):
    """The index of the first line holding each needle, each after the last."""
    at, found = -1, []
    for needle in needles:
        at = next(i for i in range(at + 1, len(lines)) if needle in lines[i])
        found.append(at)
    return found


@pytest.fixture
def post_as_printed_stack():
    with post_as_printed() as running:
        yield running


def check_legacy(stack, *options):
    trace = Trace(stack, '--summary', *options).start()
    label, lines = chat(stack, trace, 'delivered websocket.send!')
    members = [line.rsplit(' ', 1)[1] for line in lines if 'group_add chat-%s ←' % label in line]
    assert len(members) == 2 and all(m.startswith('websocket.send!') for m in members), lines
    steps = [
        '→ websocket.receive path=/chat/%s/' % label,
        'took websocket.receive',
        'group send chat-%s (2 members)' % label,
    ]
    if '--layer' in options:  # only the layer's own events see the channel session
        steps.insert(2, 'channel session load')
    found = order(lines, *steps)
    receive, took, fan_out = found[0], found[1], found[-1]
    assert '"message": "hello, trace"' in lines[receive]
    assert 'runworker' in lines[took]
    flow = flow_of(lines[receive])
    assert all(flow_of(lines[at]) == flow for at in found)
    delivered = [line for line in lines[fan_out:] if flow_of(line) == flow and 'delivered' in line]
    assert sorted(line.rsplit(' ', 1)[1] for line in delivered) == sorted(members), lines
    assert all('daphne' in line for line in delivered)
    summary = lines[lines.index('Per message:') + 1 :]
    assert any(
        line.startswith(flow + ' ') and 'websocket.receive' in line and 'fan-out 2' in line
        for line in summary
    ), summary


def test_the_replica_as_make_run_starts_it_traced_from_monitor():
    with Stack('1.0') as stack:
        check_legacy(stack)


def test_the_post_as_printed_traced_from_monitor(post_as_printed_stack):
    check_legacy(post_as_printed_stack)


def test_the_replica_traced_by_its_layer():
    with Stack('1.0', env=layer_trace('1.0')) as stack:
        check_legacy(stack, '--layer')


def test_the_modern_port_traced_by_its_layer():
    with Stack('4.3', env=layer_trace('4.3')) as stack:
        trace = Trace(stack, '--summary', '--layer').start()
        label, lines = chat(stack, trace, 'delivered chat.message')
        members = [
            line.rsplit(' ', 1)[1] for line in lines if 'group_add chat-%s ←' % label in line
        ]
        assert len(members) == 2, lines
        (send,) = order(lines, 'group_send chat-%s' % label)
        assert 'hello, trace' in lines[send]
        flow = flow_of(lines[send])
        delivered = [
            line.split()[-5]
            for line in lines[send:]
            if flow_of(line) == flow and 'delivered' in line
        ]
        assert sorted(delivered) == sorted(members), lines


def test_channels_1_1_traced_from_monitor_with_its_process_reply_channels():
    with Stack('1.1') as stack:
        trace = Trace(stack, '--summary').start()
        label, lines = chat(stack, trace, 'delivered daphne.response.')
        members = [
            line.rsplit(' ', 1)[1] for line in lines if 'group_add chat-%s ←' % label in line
        ]
        assert len(members) == 2, lines
        assert all(re.match(r'^daphne\.response\.\w+!\w+$', member) for member in members), lines
        order(lines, 'took websocket.receive', 'group send chat-%s (2 members)' % label)


# channels_redis's keys: the group's, and the prefix of the consumers' channels.
CORE_KEYS = {
    '2.4': ('asgi::group:', 'asgi:'),
    '3.0': ('asgi:group:', 'asgi'),
}


@pytest.mark.parametrize('generation', sorted(CORE_KEYS))
def test_a_generation_on_channels_redis_traced_from_monitor_with_its_key_names(generation):
    group_key, channel_key = CORE_KEYS[generation]
    with Stack(generation) as stack:
        trace = Trace(stack, '--summary').start()
        label = fresh_label('trace')
        alice, bob = join(stack, label), join(stack, label)
        say(alice, 'alice', 'hello, trace')
        assert frames(alice, 1) and frames(bob, 1)
        wait_for(
            lambda: any('hello, trace' in line for line in trace.lines),
            15,
            'the group_send in the trace',
            seen=lambda: '\n  '.join(trace.lines),
        )
        alice.close()
        bob.close()
        lines = trace.stop()
    group = group_key + 'chat-' + label
    members = [line.rsplit(' ', 1)[1] for line in lines if 'group_add %s ←' % group in line]
    assert len(members) == 2 and all(m.startswith('specific.') for m in members), lines
    (send,) = [line for line in lines if 'group_send %s ' % group in line]
    assert 'hello, trace' in send and send.endswith('(one EVAL)'), send
    keys = send.split(' → ', 1)[1][: -len(' (one EVAL)')].split()
    # One key per daphne process: its members' channels share its prefix.
    assert sorted(keys) == sorted(set(channel_key + m.split('!')[0] + '!' for m in members))
    if generation == '3.0':  # its $inflight set marks when daphne took it
        assert [line for line in lines if 'took ' in line and flow_of(line) == flow_of(send)]


def test_monitor_arguments_are_unescaped_to_the_bytes_sent():
    # Redis prints non-printable bytes as \xNN, and escapes quotes and backslashes.
    assert arguments(' "k\\x81\\"q\\\\z\\n" "second"') == [b'k\x81"q\\z\n', b'second']
