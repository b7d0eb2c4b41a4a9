#!/usr/bin/env python3
"""Prints a Windows executable's PE subsystem (2: windows, no console; 3: console). Exits 1 if
the file is not a PE image."""
import struct
import sys

with open(sys.argv[1], "rb") as f:
    data = f.read(4096)
if data[:2] != b"MZ":
    sys.exit(1)
pe = struct.unpack_from("<I", data, 0x3C)[0]
if data[pe:pe + 4] != b"PE\0\0":
    sys.exit(1)
# The optional header follows the 4-byte signature and the 20-byte file header; Subsystem is at
# offset 68 in it for both PE32 and PE32+.
print(struct.unpack_from("<H", data, pe + 24 + 68)[0])
