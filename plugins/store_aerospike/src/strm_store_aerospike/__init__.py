"""Aerospike table store for strm."""
