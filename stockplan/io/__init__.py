"""The only package that touches files: readers, input preparation and writers."""
