"""The renewal service's worker process: `python -m services.renewal.worker`."""

from contractflow.entrypoints import worker_main
from services.renewal.bootstrap import bootstrap

if __name__ == "__main__":
    worker_main(bootstrap)
