# shellcheck shell=bash
# Shared helpers for the scripts in this folder. Source it; it defines functions only
# (plus REPO_ROOT and VENV) and changes no shell options of the caller.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$REPO_ROOT/.venv}"

log() { printf '[%s] %s\n' "${LOG_TAG:-contractflow}" "$*"; }
warn() { printf '[%s] WARNING: %s\n' "${LOG_TAG:-contractflow}" "$*" >&2; }
die() {
    printf '[%s] ERROR: %s\n' "${LOG_TAG:-contractflow}" "$*" >&2
    exit 1
}

section() {
    printf '\n==== %s ====\n' "$*"
}

# abs_path PATH: PATH made absolute against the repo root (the file need not exist).
abs_path() {
    case "$1" in
        /*) printf '%s\n' "$1" ;;
        *) printf '%s\n' "$REPO_ROOT/${1#./}" ;;
    esac
}

# proc_running PID: true while PID exists and is not a zombie (a detached process is
# re-parented to PID 1, which may take a while to reap it; kill -0 alone would wait for that).
# No state read means it is gone: a zombie reaped between kill -0 and the read used to count
# as running, and `start` then refused to start a killed worker again.
proc_running() {
    local state
    kill -0 "$1" 2>/dev/null || return 1
    state="$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null)"
    [[ -n "$state" && "$state" != Z ]]
}

# pid_alive PIDFILE [CMDLINE_SUBSTRING]: true when PIDFILE names a live process (whose
# command line contains CMDLINE_SUBSTRING, when given: guards against a recycled pid left
# behind in a stale pid file).
pid_alive() {
    local pidfile="$1" want="${2:-}" pid
    [[ -s "$pidfile" ]] || return 1
    pid="$(<"$pidfile")"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    proc_running "$pid" || return 1
    if [[ -n "$want" && -r "/proc/$pid/cmdline" ]]; then
        tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$want" || return 1
    fi
    return 0
}

# stop_pidfile PIDFILE NAME [GRACE_SECONDS] [CMDLINE_SUBSTRING]: SIGTERM, wait up to GRACE
# seconds, then SIGKILL. Only the process recorded in PIDFILE is signalled (never a name
# pattern).
stop_pidfile() {
    local pidfile="$1" name="$2" grace="${3:-30}" want="${4:-}" pid waited=0
    if ! pid_alive "$pidfile" "$want"; then
        rm -f "$pidfile"
        log "$name is not running"
        return 0
    fi
    pid="$(<"$pidfile")"
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    while proc_running "$pid"; do
        if ((waited >= grace * 10)); then
            warn "$name (pid $pid) did not exit within ${grace}s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.5
            break
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    rm -f "$pidfile"
    log "$name stopped"
}

# launch_detached PIDFILE LOGFILE WORKDIR CMD...: start CMD in the background, in its own
# session (setsid) and immune to hangups (nohup), so it outlives the calling shell (make up)
# and gets no signal meant for the caller's terminal; output is appended to LOGFILE. The
# child writes its own pid and then execs CMD, so PIDFILE names CMD itself whether or not
# setsid had to fork. Returns once the pid file exists.
launch_detached() {
    local pidfile="$1" logfile="$2" workdir="$3"
    shift 3
    rm -f "$pidfile"
    (
        cd "$workdir" || exit 1
        # shellcheck disable=SC2016  # $$, $0 and $@ are for the inner bash
        nohup setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" \
            >>"$logfile" 2>&1 </dev/null &
    )
    local _
    for _ in $(seq 1 100); do
        [[ -s "$pidfile" ]] && return 0
        sleep 0.05
    done
    die "the process for $pidfile did not start (see $logfile)"
}

# port_open HOST PORT: true when something accepts TCP connections there.
port_open() {
    # shellcheck disable=SC2016  # $0 and $1 are for the inner bash
    timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null
}

# show_log_tail FILE [LINES]: print the end of a log file to stderr, for failure reports.
show_log_tail() {
    local file="$1" lines="${2:-60}"
    if [[ -f "$file" ]]; then
        printf -- '----- last %s lines of %s -----\n' "$lines" "$file" >&2
        tail -n "$lines" "$file" >&2
        printf -- '----- end of %s -----\n' "$file" >&2
    else
        printf -- '(no log file at %s)\n' "$file" >&2
    fi
}

# as_root CMD...: run CMD as root, through sudo when the caller is not root.
as_root() {
    if [[ "$(id -u)" -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root to run: $* (and sudo is not installed)"
    fi
}

# npm_tools: install the locked npm packages the checks use (tools/*/package-lock.json),
# with `npm ci`, when node_modules is missing or older than its lock.
npm_tools() {
    local lock dir
    for lock in "$REPO_ROOT"/tools/*/package-lock.json; do
        [[ -e "$lock" ]] || continue
        dir="$(dirname "$lock")"
        if [[ ! -d "$dir/node_modules" || "$lock" -nt "$dir/node_modules" ]]; then
            command -v npm >/dev/null 2>&1 || die "npm is needed for $dir (install nodejs and npm)"
            log "npm ci in ${dir#"$REPO_ROOT"/}"
            npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >/dev/null
            touch "$dir/node_modules"
        fi
    done
}
