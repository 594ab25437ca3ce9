# The request protocol between a guest script and its runner on this side,
# through files in run-guest's --share directory (the guest's /host). Each
# file is written whole (rename), numbered from 1:
#   guest:  request.N  one line saying what to change
#   runner: done.N     the exit status of the change (0: done)
#
# Runner side (sourced by tests/interop/run-*):
#   serve_requests SHARE GUEST_PID HANDLER: answers requests until GUEST_PID
#   exits; HANDLER WHAT makes the change, reports PASS/FAIL itself and returns
#   its exit status.
#
# Guest side (copied in with run-guest --file, sourced by guest-*.sh):
#   ask WHAT: writes the next request and waits up to 60 s for its answer;
#   calls the script's fail() and returns 1 when there is none or it is not 0.
# shellcheck shell=bash

serve_requests() {
    local share=$1 pid=$2 handler=$3 n=1 what rc
    while kill -0 "$pid" 2>/dev/null; do
        if [ -f "$share/request.$n" ]; then
            what=$(cat "$share/request.$n")
            rc=0
            "$handler" "$what" || rc=$?
            echo "$rc" >"$share/done.tmp.$n"
            mv "$share/done.tmp.$n" "$share/done.$n"
            n=$((n + 1))
        fi
        sleep 0.2
    done
}

ask_seq=0
ask() {
    local share=${REQUEST_DIR:-/host} rc
    ask_seq=$((ask_seq + 1))
    echo "$1" >"$share/request.tmp.$ask_seq"
    mv "$share/request.tmp.$ask_seq" "$share/request.$ask_seq"
    if ! wait_file "$share/done.$ask_seq" 60; then
        fail "host did not answer request $ask_seq ($1)"
        return 1
    fi
    rc=$(cat "$share/done.$ask_seq")
    if [ "$rc" != 0 ]; then
        fail "host side '$1' failed (nvmf-rpc exit $rc)"
        return 1
    fi
}
