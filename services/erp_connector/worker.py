"""The connector's process: `python -m services.erp_connector.worker`."""

from contractflow.entrypoints import worker_main
from services.erp_connector.bootstrap import bootstrap

if __name__ == "__main__":
    worker_main(bootstrap)
