# pandas reader for check.mjs, run as `/usr/bin/python3 -c <this file>`
# (Debian's python3 with python3-pandas, not a pyenv/venv python).
#
# argv[1] == "--probe": print {"status": ...} telling whether pandas has a
#                       Parquet engine, and exit.
# argv[1] == FILE:      read FILE with pandas.read_parquet and print
#                       {"status": "ok", "numRows", "columns": [{name, type, values}]}
#                       with every value tagged so that check.mjs can compare
#                       it exactly (see tag()).
#
# NB: Debian 12 packages neither pyarrow nor fastparquet, so on our machines
# only the probe runs.  The reading part could not be exercised there.
import datetime
import decimal
import json
import struct
import sys

try:
    import pandas as pd
except ImportError as e:
    print(json.dumps({"status": "no-pandas", "error": str(e)}))
    sys.exit(0)

try:
    from pandas.io.parquet import get_engine

    ENGINE = type(get_engine("auto")).__name__
except ImportError as e:
    print(json.dumps({"status": "no-engine", "pandas": pd.__version__, "error": str(e)}))
    sys.exit(0)

if sys.argv[1] == "--probe":
    print(json.dumps({"status": "ok", "pandas": pd.__version__, "engine": ENGINE}))
    sys.exit(0)

import numpy as np  # noqa: E402  (pandas depends on it)

EPOCH = datetime.datetime(1970, 1, 1)
EPOCH_UTC = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def tag(v):
    """One pandas/numpy/python value -> a JSON value check.mjs understands exactly."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return {"i": str(int(v))}
    if isinstance(v, (float, np.floating)):
        # float(np.float32) widens exactly; the bits keep NaN/-0.0/inf intact.
        return {"f": struct.pack(">d", float(v)).hex()}
    if isinstance(v, str):
        return v
    if isinstance(v, (bytes, bytearray, memoryview)):
        return {"b": bytes(v).hex()}
    if isinstance(v, pd.Timestamp):
        return {"ts": str(v.value), "unit": "ns"}  # .value: ns since the epoch (UTC)
    if isinstance(v, np.datetime64):
        unit, _ = np.datetime_data(v.dtype)
        return {"ts": str(int(v.astype(np.int64))), "unit": unit}
    if isinstance(v, datetime.datetime):
        base = EPOCH_UTC if v.tzinfo is not None else EPOCH
        return {"ts": str((v - base) // datetime.timedelta(microseconds=1)), "unit": "us"}
    if isinstance(v, datetime.date):
        return {"days": v.toordinal() - EPOCH.toordinal()}
    if isinstance(v, decimal.Decimal):
        sign, digits, exp = v.as_tuple()
        if not isinstance(exp, int):
            return {"invalid": "decimal %r" % (v,)}
        unscaled = int("".join(map(str, digits)) or "0")
        if exp > 0:
            unscaled *= 10**exp
            exp = 0
        return {"dec": str(-unscaled if sign else unscaled), "scale": -exp}
    return {"invalid": "%s %r" % (type(v).__name__, v)}


def read(path):
    # Nullable dtypes keep integers exact in the presence of nulls
    # (pandas >= 2: dtype_backend; pandas 1.x: use_nullable_dtypes).
    for kwargs in ({"dtype_backend": "numpy_nullable"}, {"use_nullable_dtypes": True}, {}):
        try:
            return pd.read_parquet(path, **kwargs)
        except TypeError:
            continue
    return pd.read_parquet(path)


df = read(sys.argv[1])
print(
    json.dumps(
        {
            "status": "ok",
            "numRows": len(df),
            "columns": [
                {"name": str(name), "type": str(df[name].dtype), "values": [tag(v) for v in df[name].tolist()]}
                for name in df.columns
            ],
        }
    )
)
