"""Test-only loopback proxy between librdkafka and a Kafka-compatible broker (Tansu).

A workaround for one client bug, nothing else: Debian's librdkafka 2.0.2 misreads the tagged fields at the end of an
ApiVersions v3 reply ("Local: Read underflow"; fixed upstream in librdkafka PR #4278). The proxy passes every byte
through unchanged, except that in ApiVersions replies it re-encodes the api_keys array and drops all tagged fields
(supported/finalized features), which no client here uses.

Usage: kafka_apiversions_proxy.py LISTEN_PORT BROKER_HOST BROKER_PORT  (prints "ready" when listening)
"""
import asyncio
import struct
import sys

API_VERSIONS = 18


def read_uvarint(data, pos):
    shift = value = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def skip_tagged_fields(data, pos):
    count, pos = read_uvarint(data, pos)
    for _ in range(count):
        _, pos = read_uvarint(data, pos)          # tag
        size, pos = read_uvarint(data, pos)       # size
        pos += size
    return pos


def rewrite_api_versions_v3(body):
    """body after the correlation id: error_code, api_keys (compact array), throttle_time_ms, tagged fields."""
    error_code = body[0:2]
    n_plus_one, pos = read_uvarint(body, 2)
    entries = []
    for _ in range(max(0, n_plus_one - 1)):
        entries.append(body[pos:pos + 6])           # api_key, min_version, max_version
        pos = skip_tagged_fields(body, pos + 6)
    throttle = body[pos:pos + 4]
    out = bytearray(error_code)
    out += bytes([n_plus_one]) if n_plus_one < 0x80 else encode_uvarint(n_plus_one)
    for entry in entries:
        out += entry + b"\x00"
    out += throttle + b"\x00"
    return bytes(out)


def encode_uvarint(value):
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


async def read_frame(reader):
    header = await reader.readexactly(4)
    (size,) = struct.unpack(">i", header)
    return header, await reader.readexactly(size)


async def pipe_requests(reader, writer, pending):
    try:
        while True:
            header, frame = await read_frame(reader)
            api_key, api_version, correlation = struct.unpack(">hhi", frame[:8])
            pending[correlation] = (api_key, api_version)
            writer.write(header + frame)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def pipe_responses(reader, writer, pending):
    try:
        while True:
            header, frame = await read_frame(reader)
            (correlation,) = struct.unpack(">i", frame[:4])
            api_key, api_version = pending.pop(correlation, (None, None))
            if api_key == API_VERSIONS and api_version is not None and api_version >= 3:
                frame = frame[:4] + rewrite_api_versions_v3(frame[4:])
                header = struct.pack(">i", len(frame))
            writer.write(header + frame)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main():
    listen_port, host, port = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])

    async def handle(client_reader, client_writer):
        try:
            broker_reader, broker_writer = await asyncio.open_connection(host, port)
        except OSError:
            client_writer.close()
            return
        pending = {}
        await asyncio.gather(pipe_requests(client_reader, broker_writer, pending),
                             pipe_responses(broker_reader, client_writer, pending))

    server = await asyncio.start_server(handle, "127.0.0.1", listen_port)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
