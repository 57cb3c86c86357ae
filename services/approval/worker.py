"""The approval service's worker process: `python -m services.approval.worker`."""

from contractflow.entrypoints import worker_main
from services.approval.bootstrap import bootstrap

if __name__ == "__main__":
    worker_main(bootstrap)
