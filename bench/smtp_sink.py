"""A local SMTP server that accepts every message and keeps nothing but a line per message (arrival time and number
of recipients), so that bench/punctuality.py can send real notice emails over SMTP without a mail system.

    .venv/bin/python bench/smtp_sink.py --port 2525 --log var/bench/smtp-sink.log
"""

import argparse
import asyncio
import time
from pathlib import Path


class Session:
    def __init__(self, log):
        self.log = log
        self.recipients = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 bench-sink ESMTP\r\n")
        while line := await reader.readline():
            command = line[:4].upper()
            if command in (b"EHLO", b"HELO"):
                writer.write(b"250 bench-sink\r\n")
            elif command == b"RCPT":
                self.recipients += 1
                writer.write(b"250 OK\r\n")
            elif command == b"DATA":
                writer.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                while (await reader.readline()) not in (b".\r\n", b""):
                    pass
                self.log.write(f"{time.time():.6f} {self.recipients}\n")
                self.log.flush()
                self.recipients = 0
                writer.write(b"250 OK: queued\r\n")
            elif command == b"QUIT":
                writer.write(b"221 Bye\r\n")
                await writer.drain()
                break
            else:  # MAIL, RSET, NOOP and anything else
                if command == b"RSET":
                    self.recipients = 0
                writer.write(b"250 OK\r\n")
            await writer.drain()
        writer.close()


async def serve(port: int, log_path: Path) -> None:
    with log_path.open("a") as log:
        server = await asyncio.start_server(lambda r, w: Session(log).handle(r, w), "127.0.0.1", port)
        async with server:
            await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--log", type=Path, required=True)
    arguments = parser.parse_args()
    asyncio.run(serve(arguments.port, arguments.log))


if __name__ == "__main__":
    main()
