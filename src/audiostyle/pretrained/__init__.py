"""Models shipped inside the package (package data; nothing is downloaded)."""
