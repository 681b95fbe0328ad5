"""Tests of auditkit.synth and the bundled sample exports."""
