"""LevelDB table store (plyvel) for strm."""
