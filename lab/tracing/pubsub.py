"""
What the replica's layer publishes for the trace (`make run TRACE=layer`,
lab/layers/traced.py): batches of events on one Redis Pub/Sub channel, read
here with SUBSCRIBE. Each process publishes its batch every 50 ms, so an
event waits HOLD seconds here and they come out in the order they happened.
"""

import heapq
import itertools
import json
import socket
import time

HOLD = 0.3
INCOMPLETE = object()


def command(*words):
    encoded = [w.encode() for w in words]
    return b'*%d\r\n' % len(encoded) + b''.join(b'$%d\r\n%s\r\n' % (len(w), w) for w in encoded)


def parse(buffer, at=0):
    """One RESP reply from buffer[at:] and where it ends, or INCOMPLETE."""
    end = buffer.find(b'\r\n', at)
    if end < 0:
        return INCOMPLETE
    kind, head, position = buffer[at : at + 1], buffer[at + 1 : end], end + 2
    if kind == b'*':
        items = []
        for _ in range(int(head)):
            parsed = parse(buffer, position)
            if parsed is INCOMPLETE:
                return INCOMPLETE
            item, position = parsed
            items.append(item)
        return items, position
    if kind == b'$':
        size = int(head)
        if size < 0:
            return None, position
        if len(buffer) < position + size + 2:
            return INCOMPLETE
        return buffer[position : position + size], position + size + 2
    return head, position


def events(host, port, channel, stop):
    """Each event published on `channel`, in time order, until `stop()`; None
    once Redis has subscribed the connection, and whenever none is ripe."""
    sock = socket.create_connection((host, port))
    sock.settimeout(0.1)
    sock.sendall(command('SUBSCRIBE', channel))
    held, arrival, buffer, ready = [], itertools.count(), b'', False
    try:
        while not stop():
            try:
                data = sock.recv(1 << 16)
            except socket.timeout:
                data = None
            if data == b'':
                break
            buffer += data or b''
            parsed = parse(buffer)
            while parsed is not INCOMPLETE:
                reply, used = parsed
                buffer = buffer[used:]
                ready = ready or reply[0] == b'subscribe'
                if reply[0] == b'message':
                    for event in json.loads(reply[2].decode('utf-8'))['events']:
                        heapq.heappush(held, (event['at'], next(arrival), event))
                parsed = parse(buffer)
            ripe = time.time() - HOLD
            while held and held[0][0] < ripe:
                yield heapq.heappop(held)[2]
            if ready:
                yield None
    finally:
        sock.close()
    while held:
        yield heapq.heappop(held)[2]
