# Shared helpers for scripts/*, .ci/run and tests/interop/run (bash only).
#   . "$(dirname "$0")/lib.sh"
# Everything prints to stderr so that a script's stdout stays its own.

NVMF_ROOT=${NVMF_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
NVMF_JOBS=${NVMF_JOBS:-$(nproc 2>/dev/null || echo 2)}

# Debian packages the build, tests, sanitizers, fuzzers and lint need.
NVMF_DEB_PACKAGES=(
    build-essential g++ cmake ninja-build pkg-config
    liburing-dev libisal-dev libssl-dev nlohmann-json3-dev libcli11-dev
    libspdlog-dev libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev
    clang clang-format clang-tidy libclang-rt-14-dev libasan8 libubsan1 libtsan2
    libibverbs-dev librdmacm-dev ibverbs-providers
    nvme-cli python3 e2fsprogs
    librbd-dev librados-dev ceph-mon ceph-osd ceph-common
    prometheus
)
# (rdma-core: the NVMe/RDMA transport builds against libibverbs and librdmacm;
# ibverbs-providers holds the user-space device drivers, rxe among them.
# nvme-cli: its gen-dhchap-key/check-dhchap-key and gen-tls-key/check-tls-key
# make and check the keys the DH-HMAC-CHAP and TLS tests load into the
# keyring. python3 runs SPDK's rpc.py from ../shared/spdk-rpc in the
# integration tests. librbd/librados: the rbd bdev; ceph-mon, ceph-osd and
# ceph-common: the one-node test cluster of tests/ceph/cluster-up.
# prometheus: its promtool checks the --metrics endpoint's output in
# integration_tests (metrics_test); 19 MB to download, small next to Ceph.
# Installing it enables a prometheus.service; nothing here needs it running.)

nvmf_log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
nvmf_die() { echo "error: $*" >&2; exit 1; }

# Section headers with timings: nvmf_section NAME ... nvmf_section_end [STATUS]
_nvmf_section_name='' _nvmf_section_t0=0
nvmf_section() {
    _nvmf_section_name=$1 _nvmf_section_t0=$SECONDS
    printf '\n==== %s ====\n' "$1" >&2
}
nvmf_section_end() {
    local rc=${1:-0} what=ok
    [ "$rc" = 0 ] || what="FAILED (exit $rc)"
    printf '==== %s: %s in %d s ====\n' "$_nvmf_section_name" "$what" \
        $((SECONDS - _nvmf_section_t0)) >&2
}

# Runs a command as root: directly when root, else through sudo when there is one.
nvmf_as_root() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        nvmf_die "not root and no sudo: cannot run $*"
    fi
}

# Installs the missing Debian packages; does nothing (no apt) when all are there.
# shellcheck disable=SC2120  # extra package names are optional
nvmf_deps() {
    local missing=() p
    for p in "${NVMF_DEB_PACKAGES[@]}" "$@"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    command -v apt-get >/dev/null 2>&1 ||
        nvmf_die "missing packages (${missing[*]}) and no apt-get: install them by hand"
    nvmf_log "installing missing packages: ${missing[*]}"
    nvmf_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null >&2 ||
        nvmf_die "apt-get update failed"
    nvmf_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        "${missing[@]}" </dev/null >&2 || nvmf_die "apt-get install ${missing[*]} failed"
}

# nvmf_configure BUILD_DIR [CMAKE_ARGS...]: Ninja build tree of the repository.
# CMake's chatter goes to BUILD_DIR/configure.log, shown only when it fails.
nvmf_configure() {
    local dir=$1
    shift
    mkdir -p "$dir"
    if cmake -S "$NVMF_ROOT" -B "$dir" -G Ninja -Wno-dev "$@" >"$dir/configure.log" 2>&1; then
        echo "configured $dir ($*)" >&2
    else
        cat "$dir/configure.log" >&2
        nvmf_die "cmake configure of $dir failed"
    fi
}

# nvmf_build BUILD_DIR [TARGETS...]
nvmf_build() {
    local dir=$1
    shift
    ninja -C "$dir" -j "$NVMF_JOBS" "$@" >&2 || nvmf_die "build in $dir failed"
}

# nvmf_has_target BUILD_DIR NAME: true when the build tree defines that target.
# The list is read whole before grep: with pipefail, `ninja | grep -q` fails at
# random when grep exits on its match and ninja then dies of SIGPIPE.
nvmf_has_target() {
    local list
    list=$(ninja -C "$1" -t targets all 2>/dev/null) || return 1
    grep -q "^$2:" <<<"$list"
}

# nvmf_build_release [BUILD_DIR [TARGETS...]]: the Release daemon (and by
# default the tools) that scripts/run and the interop tests use.
nvmf_build_release() {
    local dir=${1:-$NVMF_ROOT/build/release} t targets=()
    [ $# -gt 0 ] && shift
    nvmf_configure "$dir" -DCMAKE_BUILD_TYPE=Release
    nvmf_has_target "$dir" nvmf-target || nvmf_die "no nvmf-target in the build (src/app/ missing?)"
    [ $# -gt 0 ] || set -- nvmf-target nvmf-rpc nvmf-identify nvmf-perf
    for t in "$@"; do
        nvmf_has_target "$dir" "$t" && targets+=("$t")
    done
    nvmf_build "$dir" "${targets[@]}"
}

# Sanitizer run-time options for every test process.
nvmf_sanitizer_env() {
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=0:print_stacktrace=1:strict_string_checks=1:check_initialization_order=1:detect_stack_use_after_return=0}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
    export LSAN_OPTIONS=${LSAN_OPTIONS:-print_suppressions=0}
}

# nvmf_port_busy PORT: true when something listens on 127.0.0.1/any:PORT (TCP).
nvmf_port_busy() {
    local out
    out=$(ss -Hltn "sport = :$1" 2>/dev/null) || return 1
    [ -n "$out" ]
}

# nvmf_free_port [PREFERRED]: the preferred port when free, else a free one.
nvmf_free_port() {
    local p=${1:-4420}
    if ! nvmf_port_busy "$p"; then
        echo "$p"
        return 0
    fi
    for p in $(seq 4421 4520) $(shuf -i 20000-40000 -n 50); do
        nvmf_port_busy "$p" || { echo "$p"; return 0; }
    done
    return 1
}

# nvmf_wait_port PORT SECONDS [PID]: wait until PORT listens (fails early when PID exits).
nvmf_wait_port() {
    local port=$1 limit=$(($2 * 10)) pid=${3:-} i=0
    while ! nvmf_port_busy "$port"; do
        [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null && return 1
        [ $i -ge $limit ] && return 1
        sleep 0.1
        i=$((i + 1))
    done
}

# Files clang-format checks: C++ sources under the project's code folders.
nvmf_format_files() {
    (cd "$NVMF_ROOT" && git ls-files --cached --others --exclude-standard -- \
        'src/*.cpp' 'src/*.hpp' 'src/*.h' 'include/*.hpp' 'include/*.h' \
        'tools/*.cpp' 'tools/*.hpp' 'tests/*.cpp' 'tests/*.hpp' \
        'examples/*.cpp' 'examples/*.hpp' 'bench/*.cpp' 'bench/*.hpp' |
        while read -r f; do [ -f "$f" ] && echo "$f"; done)
}

# nvmf_format_check: lists files clang-format would change; non-zero when any.
# One clang-format process for all files (a process per file is slow).
nvmf_format_check() {
    local files bad n
    command -v clang-format >/dev/null || nvmf_die "clang-format is not installed"
    mapfile -t files < <(nvmf_format_files)
    n=${#files[@]}
    [ "$n" -gt 0 ] || { echo "clang-format: no files to check" >&2; return 0; }
    bad=$(cd "$NVMF_ROOT" && clang-format --dry-run -Werror "${files[@]}" 2>&1 |
        sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: error: code should be clang-formatted.*/\1/p' |
        awk '{c[$0]++} END {for (f in c) printf "not formatted: %s (%d places)\n", f, c[f]}' |
        sort)
    if [ -n "$bad" ]; then
        echo "$bad" >&2
        echo "clang-format: $(echo "$bad" | wc -l) of $n files need formatting" \
            "(see: clang-format FILE | diff FILE -; fix: clang-format -i FILE)" >&2
        return 1
    fi
    echo "clang-format: all $n files formatted" >&2
}

# nvmf_guest_tally LOG GUEST_RC MIN_PASS: adds a guest run's "PASS "/"FAIL "
# lines in LOG to the caller's npass and nfail, and counts one more failure
# (with a FAIL line) when the run ended badly without saying why, or when it
# printed fewer than MIN_PASS PASS lines: a guest that silently did nothing
# (a check skipped, a loop over nothing, a script cut short) must not pass.
# MIN_PASS sits a little below what a full run prints (see each caller).
nvmf_guest_tally() {
    local log=$1 rc=$2 min=$3 gp gf
    gp=$(grep -c '^PASS ' "$log" || true)
    gf=$(grep -c '^FAIL ' "$log" || true)
    npass=$((npass + gp)) nfail=$((nfail + gf))
    if [ "$rc" != 0 ] && [ "$gf" = 0 ]; then
        echo "FAIL [host] guest run ended with exit $rc (124: timeout, 125: guest died)"
        nfail=$((nfail + 1))
    fi
    if [ "$gp" -lt "$min" ]; then
        echo "FAIL [host] $gp PASS lines in $(basename "$log"), at least $min expected:" \
            "checks that should have run did not"
        nfail=$((nfail + 1))
    else
        echo "guest: $gp PASS lines (at least $min expected), $gf FAIL lines" >&2
    fi
}
