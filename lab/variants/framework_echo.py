"""
The framework echo (Channels 1.x): an echo consumer on /echo/ alone, for the
comparison's scenarios of what the framework does where the chat app's own
rules hide it (lab/blackbox/scenarios.py). Each text frame is a command:
`raise` raises, `sleep S` prints `framework echo: asleep`, blocks the
consumer S seconds and answers `slept`, `twice` sends `first`, blocks 1 s
and sends `second`; any other text comes back as it came.
lab/variants/framework_echo_settings.py routes it;
lab/variants/framework_echo_asgi.py is the same echo for Channels 2 and later.
"""

import time


def answer(text, send):
    if text == 'raise':
        raise RuntimeError('framework echo: raised on purpose')
    if text.startswith('sleep '):
        # Said first, so a test knows when the consumer is at work.
        print('framework echo: asleep', flush=True)
        time.sleep(float(text.split()[1]))
        text = 'slept'
    if text == 'twice':
        send('first')
        time.sleep(1)
        text = 'second'
    send(text)


def ws_connect(message):
    message.reply_channel.send({'accept': True})


def ws_receive(message):
    answer(
        message.content.get('text') or '', lambda text: message.reply_channel.send({'text': text})
    )
