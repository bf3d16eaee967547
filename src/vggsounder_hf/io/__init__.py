"""Files in and out: annotation sources and parsing, prediction readers, the restricted unpickler,
atomic writes.
"""
