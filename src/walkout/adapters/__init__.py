"""Production adapters around the deterministic core: device transport, event log, runner.

Each adapter is a small Protocol with an embedded implementation (in memory, or a recording
file) and a real one (Mosquitto over MQTT, NATS JetStream), and one contract test suite runs
against both (``tests/adapters``). The engine and the domain never import this package
(import-linter); the service imports it to consume the event log.
"""
