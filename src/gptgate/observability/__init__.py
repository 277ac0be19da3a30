"""What an operator watches: Prometheus metrics, redacted logs with request ids, health routes."""
