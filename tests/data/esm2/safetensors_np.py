"""Read a safetensors file into numpy arrays (name -> array of its dtype,
BF16 widened to float32).  Shared by golden_check.py and bench/esm_torch.py."""
import json

import numpy as np

_TYPES = {"F32": "<f4", "F16": "<f2", "I32": "<i4", "I64": "<i8", "F64": "<f8"}


def read_safetensors(path):
    with open(path, "rb") as f:
        buf = f.read()
    n = int(np.frombuffer(buf[:8], "<u8")[0])
    head = json.loads(buf[8:8 + n])
    data = memoryview(buf)[8 + n:]
    out = {}
    for name, t in head.items():
        if name == "__metadata__":
            continue
        b, e = t["data_offsets"]
        if t["dtype"] == "BF16":
            u = np.frombuffer(data[b:e], "<u2").astype(np.uint32) << 16
            a = u.view(np.float32)
        else:
            a = np.frombuffer(data[b:e], _TYPES[t["dtype"]])
        out[name] = a.reshape(t["shape"])
    return out
