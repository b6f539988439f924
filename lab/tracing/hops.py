"""
From what Redis sees and what the layers publish, to hops: the messages the
post talks about, one line per step.

Legacy (asgi_redis 1.0), from MONITOR: beside a plain `make run`, Redis's
MONITOR shows each command daphne and the runworkers send (Monitored): a send
is the layer's send script with the message itself, a worker took a
message when it read the message's key, daphne delivered a reply when its
poll did the same; ZADD, ZREM and ZRANGE on a group's key are group_add,
group_discard and a group send. Layer trace (`make run TRACE=layer`): the layer in
daphne and in each runworker (lab/layers/traced.py) publishes what it does,
and the channel sessions when they load and save (lab/variants/traced_sessions.py).

Modern (channels_redis Pub/Sub): a consumer's channel and each group are
Redis Pub/Sub channels (SUBSCRIBE, UNSUBSCRIBE); group_send is one PUBLISH.
A daphne subscribes to a group once, for its first member, and pushes each
message to its members inside the process: the layer trace
(`make run-modern TRACE=layer`) its layer (lab/layers/modern_traced.py) publishes those
group_adds, group_discards and deliveries on a trace channel, read here.
A frame enters a modern consumer without crossing Redis: its timeline
starts at group_send.

Channels 2.4 and 3.0 (channels_redis's RedisChannelLayer), from MONITOR
(Core): the group's sorted set, each send's ZADD and each group_send's EVAL,
with the layer's own key names; Channels 1.1 (asgi_redis 1.4) as the
replica's, its reply channels inside one daphne.response channel.
"""

import json
import time

import msgpack

INCOMING = (
    'websocket.connect',
    'websocket.receive',
    'websocket.disconnect',
    'http.request',
    'http.disconnect',
)
CUT = 60


def decode(payload):
    try:
        return msgpack.unpackb(payload, raw=False, strict_map_key=False)
    except Exception:
        return None


def cut(value, limit=CUT):
    text = value if isinstance(value, str) else json.dumps(value, default=repr)
    return text if len(text) <= limit else text[: limit - 1] + '…'


class Hop(dict):
    """One line of the trace: when, which message (flow), who, what."""

    def line(self):
        return '%s %+9.1f ms  m%-3s %-16s %s' % (
            self['clock'],
            self['ms'],
            self['flow'],
            self['actor'][:16],
            self['what'],
        )


class Trail(object):
    def __init__(self, clients):
        self.clients = clients
        self.flows = {}  # flow -> start time
        self.next_flow = 0

    def new_flow(self, when):
        self.next_flow += 1
        self.flows[self.next_flow] = when
        return self.next_flow

    def hop(self, when, flow, client, what, **fields):
        start = self.flows.get(flow, when)
        clock = time.strftime('%H:%M:%S', time.localtime(when)) + ('%.3f' % (when % 1))[1:]
        return Hop(
            fields,
            clock=clock,
            when=when,
            ms=(when - start) * 1000,
            flow=flow or '-',
            actor=self.clients(client),
            what=what,
        )


class Legacy(Trail):
    """The replica's layer publishes each send, receive and group change and the
    channel sessions' loads and saves (lab/tracing/pubsub.py); a message sent and
    the same message received are paired by channel and digest."""

    def __init__(self):
        super(Legacy, self).__init__(lambda process: process)
        self.sent = {}  # (channel, digest) -> flows of messages waiting there, oldest first
        self.handling = {}  # runworker -> flow it is handling

    def from_layer(self, event):
        """The hop one event of the layer trace makes, if any."""
        handle = {
            'send': self.layer_send,
            'received': self.layer_received,
            'group_add': self.layer_group_change,
            'group_discard': self.layer_group_change,
            'group_send': self.layer_group_send,
            'full': self.layer_full,
            'session_load': self.layer_session,
            'session_save': self.layer_session,
        }.get(event['event'])
        return [handle(event, event['at'], event['by'])] if handle else []

    def layer_send(self, event, when, by):
        channel, message = event.get('channel'), event.get('message') or {}
        if channel in INCOMING:
            flow = self.new_flow(when)
            what = '→ %s %s' % (channel, describe(channel, message))
        else:
            flow = self.handling.get(by)
            what = '→ %s %s' % (channel, cut(reply_text(message)))
        self.sent.setdefault((channel, event['digest']), []).append(flow)
        kind = 'in' if channel in INCOMING else 'reply'
        return self.hop(when, flow, by, what, kind=kind, channel=channel)

    def layer_received(self, event, when, by):
        channel = event.get('channel')
        waiting = self.sent.get((channel, event['digest']))
        flow = waiting.pop(0) if waiting else None
        if channel in INCOMING:
            self.handling[by] = flow
            return self.hop(when, flow, by, 'took %s' % channel, kind='worker', channel=channel)
        return self.hop(when, flow, by, 'delivered %s' % channel, kind='delivered', channel=channel)

    def layer_group_change(self, event, when, by):
        kind, group, channel = event['event'], event['group'], event.get('channel')
        what = '%s %s ← %s' % (kind, group, channel)
        return self.hop(
            when, self.handling.get(by), by, what, kind=kind, group=group, channel=channel
        )

    def layer_group_send(self, event, when, by):
        message = event.get('message') or {}
        text = ' ' + cut(reply_text(message)) if message else ''  # MONITOR shows the sends after
        what = 'group send %s (%d members)%s' % (event['group'], event['members'], text)
        flow = self.handling.get(by)
        return self.hop(when, flow, by, what, kind='group_send', group=event['group'])

    def layer_full(self, event, when, by):
        channel = event.get('channel')
        what = '✗ %s full: message not sent (ChannelFull)' % channel
        return self.hop(when, self.handling.get(by), by, what, kind='full', channel=channel)

    def layer_session(self, event, when, by):
        kind = event['event']
        what = 'channel session %s' % kind.split('_')[1]
        return self.hop(when, self.handling.get(by), by, what, kind=kind)


class Monitored(Legacy):
    """The same hops, from the commands MONITOR shows (lab/tracing/monitor.py):
    a message's key pairs its send with the read that took it."""

    COMMANDS = {b'evalsha', b'get', b'zadd', b'zrem', b'zrange'}
    PREFIX = 'asgi:'
    GROUP = PREFIX + ':group:'  # asgi_redis's group keys: prefix, then ':group:'

    def __init__(self, clients):
        super(Monitored, self).__init__()
        self.processes = clients
        self.waiting = {}  # message key -> its channel, until a receive reads it
        self.groups = {}  # group -> members

    def feed(self, when, client, args):
        command, names = args[0], [a.decode('utf-8', 'replace') for a in args[1:]]
        event = {'at': when, 'by': self.processes(client)}
        if command == b'evalsha' and len(args) >= 8 and args[2] == b'2':
            # The send script: KEYS message key and channel, ARGV the message first.
            key, channel = names[2], names[3][len(self.PREFIX) :]
            if key in self.waiting:
                return []  # the same send again, after Redis loaded the script
            self.waiting[key] = channel
            event.update(
                event='send', channel=channel, digest=key, message=glimpsed(decode(args[5]) or {})
            )
        elif command == b'get' and len(names) == 1 and names[0] in self.waiting:
            event.update(event='received', channel=self.waiting.pop(names[0]), digest=names[0])
        elif command in (b'zadd', b'zrem', b'zrange') and names and names[0].startswith(self.GROUP):
            group = names[0][len(self.GROUP) :]
            members = self.groups.setdefault(group, set())
            if command == b'zadd' and len(names) == 3:
                members.add(names[2])
                event.update(event='group_add', group=group, channel=names[2])
            elif command == b'zrem' and len(names) == 2:
                members.discard(names[1])
                event.update(event='group_discard', group=group, channel=names[1])
            elif command == b'zrange':
                event.update(event='group_send', group=group, members=len(members), message={})
            else:
                return []
        else:
            return []
        return self.from_layer(event)


class Core(Trail):
    """channels_redis's RedisChannelLayer (Channels 2.4 and 3.0), from
    MONITOR. Each consumer's channel is named the layer's prefix and the
    channel's process part (asgi:specific.X! in 2.4, asgispecific.X! in
    3.0, whose prefix lost its colon); ZADD and ZREM on a group's key are
    group_add and group_discard; a group_send reads the group (ZRANGE) and
    is one EVAL of a script whose keys are the members' channels. On 3.0
    (channels_redis 3.4.1) a channel is a sorted set: a consumer takes a
    message with BZPOPMIN, which MONITOR shows when it is asked, not when it
    returns, then copies it into the channel's $inflight set (ZADD) until
    the layer has read it, which marks when it was taken. On 2.4
    (channels_redis 2.4.2) a channel is a list, taken with a BRPOPLPUSH into
    an $inflight list that no ZADD marks, so its trail ends at the
    group_send."""

    COMMANDS = {b'zadd', b'zrem', b'zrange', b'eval', b'evalsha'}

    def __init__(self, clients, prefix):
        super(Core, self).__init__(clients)
        self.prefix = prefix
        self.group_key = prefix + ':group:'
        self.reading = {}  # client -> the group it read last, for its group_send
        self.sent = {}  # each message a group_send wrote, as stored -> its flow

    def feed(self, when, client, args):
        command, names = args[0], [a.decode('utf-8', 'replace') for a in args[1:]]
        if command in (b'zadd', b'zrem', b'zrange') and names[:1]:
            if names[0].startswith(self.group_key):
                return self.group(when, client, command, names[0][len(self.group_key) :], names)
            if command == b'zadd' and len(args) == 4 and names[0].endswith(INFLIGHT):
                return self.took(when, client, names[0][: -len(INFLIGHT)], args[3])
            if command == b'zadd' and len(args) == 4:
                what = 'send → %s %s' % (names[0], cut(unpacked(args[3])))
                return [self.hop(when, None, client, what, kind='send', channel=names[0])]
        if command in (b'eval', b'evalsha') and len(names) > 1 and names[1].isdigit():
            keys = names[2 : 2 + int(names[1])]
            if keys and args[3 + len(keys) :]:
                return self.group_send(when, client, keys, args[3 + len(keys) : 3 + 2 * len(keys)])
        return []

    def took(self, when, client, channel, payload):
        # channels_redis 3 copies what a BZPOPMIN returned into the
        # channel's $inflight set until the layer has read it (a ZPOPMIN
        # removes it then): the moment of receipt.
        what = 'took %s (BZPOPMIN, held in %s until the layer read it)' % (channel, INFLIGHT)
        flow = self.sent.pop(payload, None)
        return [self.hop(when, flow, client, what, kind='delivered', channel=channel)]

    def group(self, when, client, command, group, names):
        if command == b'zrange':
            self.reading[client] = group
            return []
        kind = 'group_add' if command == b'zadd' else 'group_discard'
        what = '%s %s ← %s' % (kind, names[0], names[-1])
        return [self.hop(when, None, client, what, kind=kind, group=group, channel=names[-1])]

    def group_send(self, when, client, keys, payloads):
        group = self.reading.pop(client, '?')
        message = unpacked(payloads[0])
        what = 'group_send %s%s %s → %s (one EVAL)' % (
            self.group_key,
            group,
            cut(message.get('text', message)),
            ' '.join(keys),
        )
        flow = self.new_flow(when)
        self.sent.update((payload, flow) for payload in payloads)
        return [self.hop(when, flow, client, what, kind='group_send', group=group)]


INFLIGHT = '$inflight'


def unpacked(payload):
    """A message as channels_redis stores it: msgpack, after 12 random bytes
    in channels_redis 3 (which keep equal messages apart in a sorted set)."""
    message = decode(payload)
    if not isinstance(message, dict):
        message = decode(payload[12:])
    return glimpsed(message if isinstance(message, dict) else {})


def glimpsed(message):
    """A message as the trace prints it: bytes as their length."""
    return {
        key: '<%d bytes>' % len(value) if isinstance(value, bytes) else value
        for key, value in message.items()
        if key != 'headers'
    }


class Modern(Trail):
    COMMANDS = {b'subscribe', b'unsubscribe', b'publish'}
    GROUP = '__group__'
    TRACE = '__trace__'

    def __init__(self, clients):
        super(Modern, self).__init__(clients)
        self.sent = {}  # text of a group_send -> its flow

    def feed(self, when, client, args):
        command, names = args[0], [a.decode('utf-8', 'replace') for a in args[1:]]
        if command in (b'subscribe', b'unsubscribe'):
            return [
                self.subscription(when, client, command == b'subscribe', name) for name in names
            ]
        if command == b'publish' and len(args) == 3:
            if names[0].endswith(self.TRACE):
                # Each event at its own time: daphne sends a turn's events together.
                events = (decode(args[2]) or {}).get('events', [])
                return [
                    hop for event in events for hop in self.from_layer(event['at'], client, event)
                ]
            return self.publish(when, client, names[0], args[2])
        return []

    def subscription(self, when, client, subscribe, name):
        if self.GROUP in name:
            group = name.split(self.GROUP, 1)[1]
            what = (
                'subscribes to %s in Redis (its first member of the room)'
                if subscribe
                else 'unsubscribes from %s (its last member left)'
            ) % group
            return self.hop(when, None, client, what, kind='subscribe', group=group)
        return self.hop(
            when,
            None,
            client,
            '%s consumer channel %s' % ('new' if subscribe else 'closed', name),
            kind='channel',
            channel=name,
        )

    def from_layer(self, when, client, event):
        """What lab/layers/modern_traced.py says happened inside daphne."""
        kind, channel = event.get('event'), event.get('channel')
        if kind == 'received':
            flow = self.sent.get(event.get('text'))
            return [
                self.hop(
                    when,
                    flow,
                    client,
                    'delivered %s %s (the consumer took it)' % (event.get('type'), channel),
                    kind='delivered',
                    channel=channel,
                )
            ]
        return [
            self.hop(
                when,
                None,
                client,
                '%s %s ← %s' % (kind, event.get('group'), channel),
                kind=kind,
                group=event.get('group'),
                channel=channel,
            )
        ]

    def publish(self, when, client, name, payload):
        message = decode(payload) or {}
        if self.GROUP not in name:
            return [
                self.hop(
                    when, None, client, '→ %s %s' % (name, cut(message)), kind='send', channel=name
                )
            ]
        flow = self.new_flow(when)
        self.sent[message.get('text')] = flow
        group = name.split(self.GROUP, 1)[1]
        return [
            self.hop(
                when,
                flow,
                client,
                'group_send %s %s (one PUBLISH)' % (group, cut(message.get('text', message))),
                kind='group_send',
                group=group,
                channel='group_send',
            )
        ]


def describe(channel, message):
    if channel == 'http.request':
        return '%s %s reply=%s' % (
            message.get('method'),
            message.get('path'),
            message.get('reply_channel'),
        )
    client = message.get('client')  # only on websocket.connect
    text = message.get('text')
    if text is None and message.get('bytes') is not None:
        text = message['bytes']  # '<N bytes>': the layer sends no bytes to the trace
    return 'path=%s%s%s reply=%s' % (
        message.get('path'),
        ' client=%s:%s' % tuple(client) if client else '',
        '' if text is None else ' frame=%s' % cut(text),
        message.get('reply_channel'),
    )


def reply_text(message):
    for key in ('text', 'status', 'accept', 'close'):
        if key in message:
            return '%s=%s' % (key, message[key])
    return message


def summary(hops):
    """Per message: time queued before a worker took it, time in the consumer,
    fan-out, and time until the last member's delivery (all from its entry)."""
    flows = {}
    for hop in hops:
        if hop['flow'] != '-':
            flows.setdefault(hop['flow'], []).append(hop)
    rows = []
    for flow, trail in sorted(flows.items()):
        first = trail[0]
        kinds = {}
        for hop in trail:
            kinds.setdefault(hop.get('kind'), []).append(hop['ms'])
        delivered = kinds.get('delivered', [])
        row = {
            'flow': flow,
            'channel': first.get('channel'),
            'fan_out': len(delivered),
            'queued_ms': kinds['worker'][0] if 'worker' in kinds else None,
            'consumer_ms': (kinds['group_send'][0] - kinds['worker'][0])
            if 'worker' in kinds and 'group_send' in kinds
            else None,
            'last_delivery_ms': max(delivered)
            if delivered and first.get('kind') in ('in', 'group_send')
            else None,
        }
        rows.append(row)
    return rows


def summary_lines(rows):
    def ms(value):
        return '–' if value is None else '%.1f ms' % value

    return [
        'm%-3s %-20s queued %-9s in the consumer %-9s fan-out %-3d last delivery %s'
        % (
            r['flow'],
            r['channel'],
            ms(r['queued_ms']),
            ms(r['consumer_ms']),
            r['fan_out'],
            ms(r['last_delivery_ms']),
        )
        for r in rows
    ]
