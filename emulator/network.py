"""Ending a peer connection the way a network failure would (the `POST /_emulator/drop` knob)."""

from aiortc import RTCPeerConnection

DROP_MODES = ("close", "silent")


async def drop(pc: RTCPeerConnection, mode: str = "close") -> None:
    """End `pc` without any goodbye event on the data channel.

    `close`: the peer connection closes at once; the browser's data channel fires `close` within
    moments (SCTP abort). `silent`: the sockets go quiet first, like pulling a cable — nothing more
    reaches the browser, whose ICE state goes `disconnected` and later `failed`.
    """
    if mode == "silent":
        for connection in _ice_connections(pc):
            # Closing aioice's sockets sends nothing; the SCTP abort and DTLS close_notify that
            # pc.close() tries next then fail with ConnectionError, which aiortc swallows.
            await connection.close()
    await pc.close()


def _ice_connections(pc: RTCPeerConnection) -> list:
    transports = [t.sender.transport for t in pc.getTransceivers() if t.sender.transport]
    if pc.sctp is not None:
        transports.append(pc.sctp.transport)
    connections = []
    for dtls in transports:
        connection = dtls.transport._connection
        if connection not in connections:
            connections.append(connection)
    return connections
