"""A local SMTP server that accepts every message and keeps nothing but a line per message (arrival time, number of
recipients, the recipients), so that bench/punctuality.py and the fault tests can send real emails over SMTP without
a mail system and count them per recipient. `--delay` makes it slow (seconds per message), as a busy relay is.

    .venv/bin/python bench/smtp_sink.py --port 2525 --log var/bench/smtp-sink.log [--delay 0.05]
"""

import argparse
import asyncio
import time
from pathlib import Path


class Session:
    def __init__(self, log, delay: float):
        self.log = log
        self.delay = delay
        self.recipients: list[str] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 bench-sink ESMTP\r\n")
        while line := await reader.readline():
            command = line[:4].upper()
            if command in (b"EHLO", b"HELO"):
                writer.write(b"250 bench-sink\r\n")
            elif command == b"RCPT":
                self.recipients.append(line.decode(errors="replace").split(":", 1)[-1].strip().strip("<>"))
                writer.write(b"250 OK\r\n")
            elif command == b"DATA":
                writer.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                while (await reader.readline()) not in (b".\r\n", b""):
                    pass
                await asyncio.sleep(self.delay)
                self.log.write(f"{time.time():.6f} {len(self.recipients)} {','.join(self.recipients)}\n")
                self.log.flush()
                self.recipients = []
                writer.write(b"250 OK: queued\r\n")
            elif command == b"QUIT":
                writer.write(b"221 Bye\r\n")
                await writer.drain()
                break
            else:  # MAIL, RSET, NOOP and anything else
                if command == b"RSET":
                    self.recipients = []
                writer.write(b"250 OK\r\n")
            await writer.drain()
        writer.close()


async def serve(port: int, log_path: Path, delay: float) -> None:
    with log_path.open("a") as log:
        server = await asyncio.start_server(lambda r, w: Session(log, delay).handle(r, w), "127.0.0.1", port)
        async with server:
            await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before accepting each message")
    arguments = parser.parse_args()
    asyncio.run(serve(arguments.port, arguments.log, arguments.delay))


if __name__ == "__main__":
    main()
