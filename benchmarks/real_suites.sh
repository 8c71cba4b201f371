#!/usr/bin/env bash
# Starlette's and FastAPI's own test suites, from their released sdists (which ship
# their tests), run stock and with --unwired-patch-starlette, side by side.
#
#   benchmarks/real_suites.sh setup    # venv, sdists, test dependencies, unwired (once)
#   benchmarks/real_suites.sh [REPS]   # REPS alternating stock/patched runs per suite (default 3)
#   SUITES=starlette benchmarks/real_suites.sh 1
#
# Everything lives in .suites/ (or $SUITES_DIR). unwired is installed from a snapshot
# of this repository's HEAD taken at setup (commit in .suites/unwired-src/COMMIT), so
# the numbers belong to one commit. Network: package downloads only. Results and the
# failures explained: docs/migrating.md, "Measured on real suites".
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
HERE=${SUITES_DIR:-$ROOT/.suites}
VENV=$HERE/venv
PY=$VENV/bin/python
STARLETTE_VERSION=1.10.0
FASTAPI_VERSION=0.165.0
SUITES=${SUITES:-"starlette fastapi"}
PATCH_ARGS=${PATCH_ARGS:-"--unwired-patch-starlette"}

setup() {
    python3 -m venv "$VENV"
    "$PY" -m pip install -q -U pip
    rm -rf "$HERE/unwired-src" && mkdir -p "$HERE/unwired-src"
    git -C "$ROOT" archive --format=tar HEAD | tar -x -C "$HERE/unwired-src"
    git -C "$ROOT" rev-parse --short HEAD >"$HERE/unwired-src/COMMIT"
    "$PY" -m pip install -q -e "$HERE/unwired-src"
    mkdir -p "$HERE/sdists" "$HERE/src"
    "$PY" -m pip download -q --no-binary :all: --no-deps "starlette==$STARLETTE_VERSION" -d "$HERE/sdists"
    "$PY" -m pip download -q --no-binary :all: --no-deps "fastapi==$FASTAPI_VERSION" -d "$HERE/sdists"
    tar xzf "$HERE/sdists/starlette-$STARLETTE_VERSION.tar.gz" -C "$HERE/src"
    tar xzf "$HERE/sdists/fastapi-$FASTAPI_VERSION.tar.gz" -C "$HERE/src"
    # Starlette: [full] extra + the test tools of its "dev" dependency group
    # (left out: mypy, twine, pytest-codspeed, types-PyYAML: not needed to run tests;
    # ruff and coverage come with FastAPI's group below).
    "$PY" -m pip install -q "$HERE/src/starlette-$STARLETTE_VERSION[full]" \
        "httpx2[zstd]>=2.0.0" "blockbuster>=1.5.23" "importlib-metadata>=9.0.1" \
        "opentelemetry-sdk>=1.44.0" "trio>=0.34.0"
    # FastAPI: [all] extra + its "tests" dependency group
    # (left out: mypy, ty, pytest-codspeed, pytest-cov, pytest-sugar: type checkers / output plugins).
    # pytest is pinned by FastAPI to <9.2 and by Starlette to >=9.1.1: 9.1.x serves both suites.
    "$PY" -m pip install -q "$HERE/src/fastapi-$FASTAPI_VERSION[all]" \
        "pytest>=9.1.1,<9.2" "opentelemetry-instrumentation-fastapi>=0.65b0" "logfire>=5.1.0" \
        "sentry-sdk>=2.70.0" "opentelemetry-sdk>=1.44.0" "opentelemetry-exporter-otlp-proto-http>=1.44.0" \
        "httpx>=0.23.0,<1.0.0" "httpx2>=2.0.0" "python-slugify>=8.0.4" "ruff>=0.14.14,<0.17.0" \
        "anyio[trio]>=4.1.0,<5.0.0" "coverage[toml]>=7.13,<8.0" "dirty-equals>=0.9.0" \
        "flask>=3.0.0,<4.0.0" "inline-snapshot>=0.21.1" "pwdlib[argon2]>=0.2.1" "pyjwt>=2.9.0" \
        "pyyaml>=5.3.1,<7.0.0" "sqlmodel>=0.0.31" "strawberry-graphql>=0.200.0,<1.0.0" \
        "typer>=0.26.1" "a2wsgi>=1.9.0,<=2.0.0" "pytest-xdist[psutil]>=3.0.2" "pytest-timeout>=2.4.0"
    "$PY" -m pip check
}

# run SUITE MODE REP: one full run of a suite's tests/, from its extracted sdist,
# with the suite's own pytest configuration; -rfE only adds the short summary of failures.
run() {
    local suite=$1 mode=$2 rep=$3 dir extra=()
    case $suite in
        starlette) dir=$HERE/src/starlette-$STARLETTE_VERSION; extra=(-rfEXs) ;;
        fastapi)   dir=$HERE/src/fastapi-$FASTAPI_VERSION;     extra=(-rfE -p no:randomly) ;;
    esac
    local patch=()
    [[ $mode == patched ]] && read -r -a patch <<<"$PATCH_ARGS"
    local log=$HERE/logs/$suite-$mode-$rep.log
    echo "+ cd $dir && python -m pytest tests -q -p no:cacheprovider ${extra[*]} ${patch[*]}" >"$log"
    (cd "$dir" && /usr/bin/time -f "TIME wall=%e user=%U sys=%S" \
        "$PY" -m pytest tests -q -p no:cacheprovider "${extra[@]}" "${patch[@]}") >>"$log" 2>&1 || true
    printf '%-9s %-7s #%s  %-60s %s\n' "$suite" "$mode" "$rep" \
        "$(grep -E '^[0-9]+ (passed|failed).* in [0-9.]+s' "$log" | tail -n 1)" "$(grep '^TIME ' "$log")"
    grep '^unwired: ' "$log" | sed 's/^/      /' || true
}

if [[ ${1:-} == setup ]]; then setup; exit 0; fi
REPS=${1:-3}
mkdir -p "$HERE/logs"
"$PY" -c "import unwired, starlette, fastapi, pytest; print('unwired', unwired.__version__, 'from', unwired.__file__, '| starlette', starlette.__version__, '| fastapi', fastapi.__version__, '| pytest', pytest.__version__)"
[[ -f $HERE/unwired-src/COMMIT ]] && echo "unwired snapshot of commit $(cat "$HERE/unwired-src/COMMIT")"
echo "patched runs use: $PATCH_ARGS"
for suite in $SUITES; do
    for rep in $(seq 1 "$REPS"); do   # alternate, so machine noise hits both modes alike
        run "$suite" stock "$rep"
        run "$suite" patched "$rep"
    done
    for mode in stock patched; do
        echo "  $suite $mode failures (union over this invocation's runs):"
        for rep in $(seq 1 "$REPS"); do cat "$HERE/logs/$suite-$mode-$rep.log"; done |
            { grep -E '^(FAILED|ERROR) ' || true; } | sed 's/ - .*//' | sort -u | sed 's/^/    /'
    done
done
