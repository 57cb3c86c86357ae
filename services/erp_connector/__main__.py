from services.erp_connector.commands import main

raise SystemExit(main())
