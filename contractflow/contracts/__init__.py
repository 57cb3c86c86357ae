"""The shared contract domain: terms, fees and signing checks (pure Python + marshmallow)."""
