"""moto's S3 server with conditional writes applied atomically, as S3 applies them.

moto serves each request on its own thread and checks a PUT's or DELETE's If-Match/If-None-Match
before storing, in two steps: two writers that read the same object could both pass the check, and
the second would overwrite the first's update. S3 itself decides and stores in one step, which is
what zarrio's shared-chunk merges rely on. Here every object write and delete runs under one lock.
"""
import sys
import threading

from moto.s3.responses import S3Response
from moto.server import main

_lock = threading.Lock()


def _atomic(method):
    def run(self, *args, **kwargs):
        with _lock:
            return method(self, *args, **kwargs)

    return run


S3Response._key_response_put = _atomic(S3Response._key_response_put)
S3Response._key_response_delete = _atomic(S3Response._key_response_delete)

if __name__ == "__main__":
    main(sys.argv[1:])
