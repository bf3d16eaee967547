"""Files in and out: annotation sources (``sources``) and parsing (``annotations`` into the
``clips`` structures), prediction readers (``readers``, with CSV/Parquet ``tables``), the
restricted unpickler (``safe_pickle``), atomic writes (``atomic``).
"""
