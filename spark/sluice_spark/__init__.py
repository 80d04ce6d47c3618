"""The sluice Spark Structured Streaming job."""
