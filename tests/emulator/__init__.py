"""Unit tests of the LocalStack extensions (emulator/) that need no running stack."""
