"""Modules of bench/rig, the shardcast benchmark rig (see bench/README.md)."""
