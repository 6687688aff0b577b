"""Loading: payloads validated into COPY rows, and the loader that writes them per page."""
