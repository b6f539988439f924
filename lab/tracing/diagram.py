"""
`make trace-diagram`: one real chat message through each stack, drawn. Starts
the stack (lab/harness/stack.py) and the trace beside it, has two members chat
once, and draws the message's hops as a sequence diagram:
docs/generated/trace-1.0.svg (the post) and trace-4.3.svg (the port),
self-contained SVG, written through lab/pages.py.

    python -m lab.tracing.diagram
"""

import json
import os
import tempfile
from html import escape

from lab import pages
from lab.harness.stack import ROOT, Stack
from lab.harness.trace import Trace, chat, layer_trace

LANES = {
    '1.0': ['browser', 'daphne', 'Redis', 'runworker', 'database'],
    '4.3': ['browser', 'daphne', 'Redis'],
}
# kind of hop -> (from lane, to lane)
ARROWS = {
    '1.0': {
        'in': ('daphne', 'Redis'),
        'worker': ('Redis', 'runworker'),
        'group_send': ('runworker', 'Redis'),
        'reply': ('runworker', 'Redis'),
        'delivered': ('Redis', 'daphne'),
        'session_load': ('database', 'runworker'),
        'session_save': ('runworker', 'database'),
    },
    '4.3': {'group_send': ('daphne', 'Redis'), 'delivered': ('Redis', 'daphne')},
}
WIDTH, LANE_GAP, ROW, TOP = 1000, 190, 30, 70


def flow_hops(hops, generation):
    """The hops of the chat message (the flow with a group send), in order."""
    flow = next(h['flow'] for h in hops if h.get('kind') == 'group_send')
    return [h for h in hops if h['flow'] == flow and h.get('kind') in ARROWS[generation]]


def draw(generation, hops, title):
    lanes = LANES[generation]
    x = {lane: 90 + i * LANE_GAP for i, lane in enumerate(lanes)}
    rows = [('browser', 'daphne', 'frame {"handle", "message"}', 0.0)]
    for hop in hops:
        start, end = ARROWS[generation][hop['kind']]
        rows.append((start, end, hop['what'].replace('→ ', ''), hop['ms']))
        if hop['kind'] == 'delivered':
            rows.append(('daphne', 'browser', 'frame to a member', hop['ms']))
    height = TOP + ROW * (len(rows) + 1)
    out = [
        '<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
        'font-family="monospace" font-size="11">' % (WIDTH, height),
        '<rect width="100%" height="100%" fill="white"/>',
        '<defs><marker id="a" markerWidth="8" markerHeight="8" refX="7" refY="3" orient="auto">'
        '<path d="M0,0 L7,3 L0,6 z" fill="#333"/></marker></defs>',
        '<text x="10" y="20" font-size="13" font-weight="bold">%s</text>' % escape(title),
    ]
    for lane in lanes:
        out.append(
            '<text x="%d" y="48" text-anchor="middle" font-weight="bold">%s</text>'
            % (x[lane], lane)
        )
        out.append(
            '<line x1="%d" y1="55" x2="%d" y2="%d" stroke="#bbb" stroke-dasharray="4"/>'
            % (x[lane], x[lane], height - 10)
        )
    for n, (start, end, label, ms) in enumerate(rows):
        y = TOP + ROW * n + 10
        out.append(
            '<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333" marker-end="url(#a)"/>'
            % (x[start], y, x[end] - (6 if x[end] > x[start] else -6), y)
        )
        left = min(x[start], x[end]) + 4
        text = label if len(label) <= 62 else label[:61] + '…'
        out.append('<text x="%d" y="%d">%s</text>' % (left, y - 4, escape(text)))
        out.append('<text x="%d" y="%d" fill="#06c">%+.1f ms</text>' % (WIDTH - 80, y + 4, ms))
    out.append('</svg>')
    return '\n'.join(out) + '\n'


def record(generation):
    """A stack, the layer trace (which sees inside daphne), two members, one
    message: the trace's hops."""
    handle, path = tempfile.mkstemp(suffix='.json')
    os.close(handle)
    with Stack(generation, env=layer_trace(generation)) as stack:
        trace = Trace(stack, '--layer', '--record', path).start()
        chat(
            stack,
            trace,
            'delivered chat.message' if generation == '4.3' else 'delivered websocket.send!',
        )
    with open(path) as recorded:
        hops = json.load(recorded)
    os.remove(path)
    return hops


def main():
    titles = {
        '1.0': 'One chat message through the replica (Channels 1.0.3, asgi_redis, one runworker)',
        '4.3': 'One chat message through the modern port (Channels 4, channels_redis Pub/Sub)',
    }
    for generation, title in titles.items():
        hops = flow_hops(record(generation), generation)
        path = pages.save('trace-%s.svg' % generation, draw(generation, hops, title))
        print('wrote', os.path.relpath(path, ROOT))


if __name__ == '__main__':
    main()
