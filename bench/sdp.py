"""Realistic SDP for the GPT-Live bench row: the offer a Chromium page posts to /live/session/ (one
audio transceiver and the data channel, ICE gathering complete) and the answer GPT-Live returns.

Both are fixed text with the sizes and line counts of real ones (a 2.6 KB offer, a 0.9 KB answer), so
the relay parses, posts and returns what it would in production.
"""

FINGERPRINT = ":".join(f"{(i * 37 + 11) % 256:02X}" for i in range(32))
CANDIDATES = (
    "a=candidate:1467250027 1 udp 2122260223 192.168.1.20 54321 typ host generation 0 network-id 1 network-cost 10",
    "a=candidate:3329473227 1 udp 2122194687 10.8.0.14 50172 typ host generation 0 network-id 2 network-cost 50",
    "a=candidate:491463087 1 tcp 1518280447 192.168.1.20 9 typ host tcptype active generation 0 network-id 1 network-cost 10",
    "a=candidate:842163049 1 udp 1686052607 198.51.100.23 54321 typ srflx raddr 192.168.1.20 rport 54321 generation 0 network-id 1 network-cost 10",
)
STREAM = "5c2b7f0e-8a41-4e0b-9d3c-2f6a1b7e4d90"
TRACK = "0f4e9a21-63d8-4b57-a1c2-7e5d3b9f8c16"
TRANSPORT = [
    "c=IN IP4 198.51.100.23",
    "a=rtcp:9 IN IP4 0.0.0.0",
    *CANDIDATES,
    "a=ice-ufrag:Yk3J",
    "a=ice-pwd:VRuVyKAH7qYkmJzmFyYhsBqt",
    "a=ice-options:trickle",
    f"a=fingerprint:sha-256 {FINGERPRINT}",
    "a=setup:actpass",
]

OFFER = "\r\n".join(
    [
        "v=0",
        "o=- 4215775240449105457 2 IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0 1",
        "a=extmap-allow-mixed",
        f"a=msid-semantic: WMS {STREAM}",
        "m=audio 54321 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126",
        *TRANSPORT,
        "a=mid:0",
        "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
        "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
        "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
        "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
        "a=sendrecv",
        f"a=msid:{STREAM} {TRACK}",
        "a=rtcp-mux",
        "a=rtcp-rsize",
        "a=rtpmap:111 opus/48000/2",
        "a=rtcp-fb:111 transport-cc",
        "a=fmtp:111 minptime=10;useinbandfec=1",
        "a=rtpmap:63 red/48000/2",
        "a=fmtp:63 111/111",
        "a=rtpmap:9 G722/8000",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:13 CN/8000",
        "a=rtpmap:110 telephone-event/48000",
        "a=rtpmap:126 telephone-event/8000",
        "a=ssrc:3735928559 cname:q8Ld2Rj7ZkV1xYwB",
        f"a=ssrc:3735928559 msid:{STREAM} {TRACK}",
        "m=application 54321 UDP/DTLS/SCTP webrtc-datachannel",
        *TRANSPORT,
        "a=mid:1",
        "a=sctp-port:5000",
        "a=max-message-size:262144",
        "",
    ]
)

ANSWER = "\r\n".join(
    [
        "v=0",
        "o=- 3957434235 3957434235 IN IP4 0.0.0.0",
        "s=-",
        "t=0 0",
        "a=msid-semantic:WMS *",
        f"a=fingerprint:sha-256 {FINGERPRINT[::-1]}",
        "a=ice-lite",
        "a=group:BUNDLE 0 1",
        "m=audio 3478 UDP/TLS/RTP/SAVPF 111",
        "c=IN IP4 203.0.113.7",
        "a=rtcp:3478 IN IP4 203.0.113.7",
        "a=candidate:4241563893 1 udp 2130706431 203.0.113.7 3478 typ host ufrag bC7x",
        "a=ice-ufrag:bC7x",
        "a=ice-pwd:h3Kq9pZx2VnL8rTyW4mFsD6j",
        "a=mid:0",
        "a=sendrecv",
        "a=msid:live live-audio",
        "a=rtcp-mux",
        "a=rtpmap:111 opus/48000/2",
        "a=fmtp:111 minptime=10;useinbandfec=1",
        "a=ssrc:2864434397 cname:live",
        "a=setup:passive",
        "m=application 3478 UDP/DTLS/SCTP webrtc-datachannel",
        "c=IN IP4 203.0.113.7",
        "a=candidate:4241563893 1 udp 2130706431 203.0.113.7 3478 typ host ufrag bC7x",
        "a=ice-ufrag:bC7x",
        "a=ice-pwd:h3Kq9pZx2VnL8rTyW4mFsD6j",
        "a=mid:1",
        "a=sctp-port:5000",
        "a=setup:passive",
        "",
    ]
)
