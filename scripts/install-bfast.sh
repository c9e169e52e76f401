#!/usr/bin/env bash
# The `bfast` package (0.7, diku-dk), the independent reference of terra_lab's BFAST Monitor
# (tests/test_products_change.py::test_bfast_reference_package), patched to install and run on numpy 2.
#
#   bash scripts/install-bfast.sh [PYTHON]      (default: .venv/bin/python; `make env` calls it)
#
# bfast 0.7 is the last release (2020) and its sdist cannot be installed as published:
#  - its setup.py imports the package and builds with numpy.distutils (gone with numpy 2 / Python 3.12),
#    so pip fails already at the metadata step (`pip download` too);
#  - its python backend uses np.float, np.int and np.warnings (removed in numpy 1.24 / 2.0);
#  - `import bfast` imports the OpenCL backend, so pyopencl (and its numpy-1 generated code) for everyone.
# So: fetch the sdist from PyPI's file host (pinned by sha256; the only network access: the package
# registry), unpack it in a temporary folder, patch those lines, replace setup.py by a plain
# setuptools pyproject.toml, make the OpenCL backend optional (None when pyopencl is absent), and pip
# install the result with the python backend's dependencies (numpy, pandas, scipy, scikit-learn: all
# already terra_lab dependencies).  Idempotent: does nothing when the patched bfast already imports.
# BFAST_SDIST=/path/to/bfast-0.7.tar.gz uses a local copy of the sdist instead (checked the same way).
set -euo pipefail

PY=${1:-.venv/bin/python}
URL="https://files.pythonhosted.org/packages/d6/14/9418fc5dacae355be2ea1ec3d410d5d7b9c4d3d47c8eac1ef10dea20fd7f/bfast-0.7.tar.gz"
SHA256="649b8a6882db13634819b46ac056275683353591da77497d712236c595db2b79"

if "$PY" -c "import bfast, bfast.monitor.python as m; assert bfast.__version__ == '0.7'; m.BFASTMonitorPython" 2>/dev/null; then
  echo "install-bfast: bfast 0.7 (patched) already installed for $PY"
  exit 0
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
SDIST="$TMP/bfast-0.7.tar.gz"
if [ -n "${BFAST_SDIST:-}" ]; then
  cp "$BFAST_SDIST" "$SDIST"
else
  "$PY" - "$URL" "$SDIST" <<'EOF'
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=120) as r, open(sys.argv[2], "wb") as f:
    f.write(r.read())
EOF
fi
echo "$SHA256  $SDIST" | sha256sum -c --quiet - || { echo "install-bfast: $SDIST is not bfast 0.7's sdist (sha256 differs)" >&2; exit 1; }
tar -xzf "$SDIST" -C "$TMP"
SRC="$TMP/bfast-0.7"

# numpy 2: the aliases removed from numpy (np.float, np.int) and np.warnings
sed -i -e "s/^np.warnings.filterwarnings('ignore')//" -e 's/np\.float(/float(/g' -e 's/np\.int(/int(/g' \
  -e 's/astype(np\.float)/astype(float)/' -e 's/dtype=np\.float)/dtype=float)/' -e 's/dtype=np\.int)/dtype=int)/' \
  "$SRC/bfast/monitor/python/base.py" "$SRC/bfast/monitor/utils.py"
# the OpenCL backend only when pyopencl imports (its generated code also uses np.bool: not patched)
cat > "$SRC/bfast/monitor/__init__.py" <<'EOF'
from .python import BFASTMonitorPython

try:
    from .opencl import BFASTMonitorOpenCL
except (ImportError, AttributeError):  # patched by terra_lab's scripts/install-bfast.sh: pyopencl is optional
    BFASTMonitorOpenCL = None
EOF
# a plain setuptools build instead of setup.py (numpy.distutils, and an import of the package itself)
rm "$SRC/setup.py" "$SRC/setup.cfg"
rm -rf "$SRC/bfast.egg-info"
cat > "$SRC/pyproject.toml" <<'EOF'
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "bfast"
version = "0.7"
description = "BFAST Monitor (diku-dk/bfast 0.7), patched for numpy 2 by terra_lab's scripts/install-bfast.sh"
requires-python = ">=3.8"
dependencies = ["numpy", "pandas>=1.0", "scipy>=1.2", "scikit-learn>=0.20"]

[tool.setuptools.packages.find]
include = ["bfast", "bfast.monitor*"]
EOF
# left unpatched: any further numpy-1 alias in what the python backend runs
if grep -nE 'np\.(float|int|bool|object|warnings)\b([^0-9_]|$)' "$SRC/bfast/monitor/python/base.py" "$SRC/bfast/monitor/utils.py" \
    "$SRC/bfast/base.py" | grep -v '^\S*:[0-9]*:\s*#'; then
  echo "install-bfast: numpy-1 aliases left after the patch (above)" >&2
  exit 1
fi

"$PY" -m pip install -q "$SRC"
"$PY" -c "import bfast.monitor.python as m; m.BFASTMonitorPython; print('install-bfast: bfast 0.7 (patched for numpy 2) installed for', __import__('sys').executable)"
