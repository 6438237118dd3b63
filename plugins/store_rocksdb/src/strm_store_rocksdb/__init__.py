"""RocksDB table store (rocksdict) for strm."""
