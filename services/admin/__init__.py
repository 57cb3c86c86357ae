"""The admin workflow editor: edit, validate, deploy and watch the services' workflows."""
