"""Analytics jobs: read InfluxDB, run the pure models of :mod:`analytics`, write results back."""
