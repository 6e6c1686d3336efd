"""Log formatting: one line per record, so a request error is one line on stdout."""

import logging


class OneLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace("\n", " ⏎ ")
