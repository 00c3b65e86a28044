"""The argon2 peer of `make bench`: argon2-cffi, which binds the reference C implementation.

Arguments: time cost, memory cost (KiB), parallelism, hash length and salt length (bytes). For
each line on stdin, hashes the line as argon2id with a fresh salt and answers one line:
`<milliseconds of the hash alone>\t<PHC string>`, so the pipe to the bench is not timed and the
bench can check the parameters in the PHC string are its own.
"""

import sys
import time

from argon2 import PasswordHasher, Type

time_cost, memory_cost, parallelism, hash_len, salt_len = map(int, sys.argv[1:6])
hasher = PasswordHasher(
    time_cost=time_cost,
    memory_cost=memory_cost,
    parallelism=parallelism,
    hash_len=hash_len,
    salt_len=salt_len,
    type=Type.ID,
)
for line in sys.stdin:
    password = line.rstrip("\n")
    start = time.perf_counter()
    encoded = hasher.hash(password)
    elapsed_ms = (time.perf_counter() - start) * 1000
    print(f"{elapsed_ms}\t{encoded}", flush=True)
