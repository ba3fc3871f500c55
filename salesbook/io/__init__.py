"""Adapters: reading workbooks safely and fast, writing outputs, the Book port."""
