"""flowc: a compiler and toolchain for .flow call flows on Bandwidth's voice platform (BXML)."""

__version__ = "0.1.0"
