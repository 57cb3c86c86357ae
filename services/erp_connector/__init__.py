"""The reference ERP connector: a process that plays the customer's ERP against contractflow."""
