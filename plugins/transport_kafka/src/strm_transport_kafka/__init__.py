"""The Kafka transport for strm, on aiokafka."""
