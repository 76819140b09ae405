"""Text encoders assembled from pinned PyPI packages (no Hub download), for neural metrics."""
