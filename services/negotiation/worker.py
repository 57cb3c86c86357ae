"""The negotiation service's worker process: `python -m services.negotiation.worker`."""

from contractflow.entrypoints import worker_main
from services.negotiation.bootstrap import bootstrap

if __name__ == "__main__":
    worker_main(bootstrap)
