# Echo consumers for the conformance run: accept every socket, send every
# frame back exactly as it came, text as text and bytes as bytes (empty
# ones too: what daphne then does with them is daphne's business).


def ws_connect(message):
    message.reply_channel.send({"accept": True})


def ws_receive(message):
    if message.content.get("text") is not None:
        message.reply_channel.send({"text": message.content["text"]})
    else:
        message.reply_channel.send({"bytes": message.content["bytes"]})
