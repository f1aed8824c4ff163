"""OpenTelemetry traces, optional (extra `otel`) and off unless asked for: see facade.py.

Only `facade` and `spans` are imported by the rest of the system; the other modules
import OpenTelemetry and are loaded only when tracing is on.
"""
