#!/usr/bin/env bash
# A throwaway one-node Slurm cluster for tests: its own munged (own key and socket), its own
# slurm.conf, slurmctld and slurmd, all under DIR and on free ports, none of the system's services.
#
#   bash test/cluster/slurm.sh start DIR [PID]  start it; prints SLURM_CONF=DIR/slurm.conf when the node is idle.
#                                               With PID (the test's process), a watchdog stops the cluster
#                                               once PID is gone, however it ended (even SIGKILL).
#   bash test/cluster/slurm.sh stop DIR         cancel its jobs, stop every process it started (by pid)
#   bash test/cluster/slurm.sh check            exit 0 if the Slurm and munge programs are installed and we are root
#
# Every Slurm command must see SLURM_CONF=DIR/slurm.conf (sbatch, squeue, sinfo...). Needs root (the
# daemons run as root, SlurmUser=root) and Debian's slurmctld, slurmd, slurm-client and munge
# (scripts/setup.sh installs them). Logs: DIR/log/{munged,slurmctld,slurmd,watchdog}.log, and
# DIR/log/jobcomp.txt has one line per finished job (JobState, ExitCode, ArrayJobId, ArrayTaskId...).
set -euo pipefail
# Our own SLURM_CONF (if the caller exported one) must not make us one of the cluster's processes.
unset SLURM_CONF

NODE=zarrio-node
CPUS="${ZARRIO_SLURM_CPUS:-2}"
PROGRAMS=(munged mungekey slurmctld slurmd sinfo sbatch squeue scancel scontrol)

log() { printf '[slurm.sh] %s\n' "$*" >&2; }
die() { printf '[slurm.sh] ERROR: %s\n' "$*" >&2; exit 1; }

check() {
  local p missing=()
  for p in "${PROGRAMS[@]}"; do command -v "$p" >/dev/null 2>&1 || missing+=("$p"); done
  ((${#missing[@]} == 0)) || { echo "not installed: ${missing[*]} (Debian: slurmctld slurmd slurm-client munge; bash scripts/setup.sh --only apt)"; return 1; }
  [[ "$(id -u)" == 0 ]] || { echo "not root (the test cluster's daemons run as root)"; return 1; }
}

# A TCP port nobody listens on (the daemons bind it soon after; a clash makes start fail loudly).
free_port() {
  local used p i
  used=" $({ ss -Htan 2>/dev/null || true; } | awk '{n=split($4,a,":"); printf "%s ", a[n]}') "
  for i in $(seq 1 200); do
    p=$((20000 + RANDOM % 30000))
    [[ "$used" != *" $p "* && " ${PICKED:-} " != *" $p "* ]] && { PICKED="${PICKED:-} $p"; echo "$p"; return; }
  done
  die "no free port found"
}

pid_alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; }
# The pid in DIR/run/NAME.pid, if that process is alive and still ours: its command line or its
# environment (SLURM_CONF) names DIR. A stale pid file never gets an unrelated process killed.
pid_of() { # dir name
  local pid args
  pid="$( [[ -s "$1/run/$2.pid" ]] && tr -dc '0-9' <"$1/run/$2.pid" || true)"
  [[ -n "$pid" ]] && pid_alive "$pid" || return 0
  args=$'\n'"$(tr '\0' '\n' 2>/dev/null </proc/"$pid"/cmdline || true)"$'\n'
  if [[ "$args" == *"$1/"* || "$args" == *$'\n'"$1"$'\n'* ]] \
    || tr '\0' '\n' 2>/dev/null </proc/"$pid"/environ | grep -qxF "SLURM_CONF=$1/slurm.conf"; then
    echo "$pid"
  fi
}

# Processes of this cluster that are not daemons: slurmstepd and the jobs' processes, which carry
# SLURM_CONF=DIR/slurm.conf in their environment. This script and its callers (say, sbatch --wait's
# parent) are never among them.
cluster_pids() {
  local conf="$1" e pid p keep=" $$ $BASHPID "
  p=$$
  while [[ -n "$p" && "$p" != 0 && "$p" != 1 ]]; do
    p="$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null || true)"
    keep+="$p "
  done
  for e in /proc/[0-9]*/environ; do
    pid="${e#/proc/}"; pid="${pid%/environ}"
    [[ "$keep" == *" $pid "* ]] && continue
    if tr '\0' '\n' 2>/dev/null <"$e" | grep -qxF "SLURM_CONF=$conf"; then echo "$pid"; fi
  done
}

stop_pid() { # name pid [signalled: it was sent SIGTERM already]
  local name="$1" pid="$2" i
  [[ -n "$pid" ]] || return 0
  if [[ -z "${3:-}" ]]; then
    pid_alive "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null || true
  fi
  for i in $(seq 1 50); do pid_alive "$pid" || { log "stopped $name (pid $pid)"; return 0; }; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  log "killed $name (pid $pid) after 5 s"
}

stop() {
  local dir="$1" conf pid
  conf="$dir/slurm.conf"
  [[ -d "$dir" ]] || return 0
  # The watchdog first (unless we are it), so that it does not stop the cluster a second time.
  pid="$(pid_of "$dir" watchdog)"
  if [[ -n "$pid" && "$pid" != "$$" ]]; then stop_pid watchdog "$pid"; fi
  if [[ -f "$conf" ]] && [[ -n "$(pid_of "$dir" slurmctld)" ]]; then
    # Jobs first, while slurmctld and slurmd can still end them properly.
    SLURM_CONF="$conf" timeout 10 scancel --quiet --full "--partition=debug" >/dev/null 2>&1 || true
    for _ in $(seq 1 50); do
      [[ -z "$(SLURM_CONF="$conf" timeout 5 squeue -h -o %i 2>/dev/null)" ]] && break
      sleep 0.1
    done
  fi
  # Both daemons at once (each takes a second or two to shut down), then wait for each.
  local d p
  for d in slurmd slurmctld; do
    p="$(pid_of "$dir" "$d")"
    if [[ -n "$p" ]]; then kill -TERM "$p" 2>/dev/null || true; stop_pid "$d" "$p" signalled & fi
  done
  wait
  # Anything of this cluster still alive (a slurmstepd or a job that ignored the cancel).
  if [[ -f "$conf" ]]; then
    for pid in $(cluster_pids "$conf"); do
      kill -TERM "$pid" 2>/dev/null && stop_pid "leftover process" "$pid" signalled &
    done
    wait
  fi
  stop_pid munged "$(pid_of "$dir" munged)"
  rm -f "$dir/run/"*.pid
}

start_failed() { # dir
  local f
  log "start failed; the logs:"
  for f in "$1"/log/*.log; do [[ -f "$f" ]] && { echo "--- $f" >&2; tail -15 "$f" >&2; }; done
  stop "$1"
}

start() {
  local dir="$1"
  check >/dev/null || die "$(check)"
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  stop "$dir"   # a previous run's daemons, if any
  rm -rf "$dir/munge" "$dir/run" "$dir/state" "$dir/spool" "$dir/log"
  mkdir -p "$dir/munge" "$dir/run" "$dir/state" "$dir/spool" "$dir/log"
  # munged insists on private key and pid/log locations not writable by others.
  chmod 0755 "$dir" "$dir/munge" "$dir/run" "$dir/log"
  chmod 0700 "$dir/state" "$dir/spool"
  # Whatever goes wrong from here on (set -e, die), nothing started is left running.
  STARTING="$dir"
  trap 'start_failed "$STARTING"' EXIT

  local socket="$dir/munge/munge.socket"
  mungekey --create --keyfile="$dir/munge/munge.key" --force >/dev/null
  chmod 0600 "$dir/munge/munge.key"
  # --force: run even where a parent of DIR is group-writable (a CI checkout); this key guards nothing else.
  munged --force --socket="$socket" --key-file="$dir/munge/munge.key" --pid-file="$dir/run/munged.pid" \
    --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed"
  munge -n -S "$socket" | unmunge -S "$socket" >/dev/null || die "munged does not answer on $socket"

  local ctld_port slurmd_port
  ctld_port="$(free_port)"
  slurmd_port="$(free_port)"
  cat >"$dir/slurm.conf" <<EOF
# Written by test/cluster/slurm.sh: one node on 127.0.0.1, everything under $dir.
ClusterName=zarrio-test
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.txt
MpiDefault=none
MailProg=/bin/true
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MinJobAge=2
KillWait=5
InactiveLimit=0
SlurmdTimeout=60
PropagateResourceLimits=NONE
# The node has CPUs=$CPUS whatever the machine has (tests ask for 2 CPUs per task even on 1 core).
SlurmdParameters=config_overrides
NodeName=$NODE NodeHostname=localhost NodeAddr=127.0.0.1 CPUs=$CPUS State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF="$dir/slurm.conf"
  # -i: ignore state of an earlier run in this DIR (it was just removed anyway).
  slurmctld -i
  slurmd -N "$NODE"
  local state="" i
  for i in $(seq 1 300); do
    state="$(sinfo -h -N -n "$NODE" -o %T 2>/dev/null || true)"
    [[ "$state" == idle ]] && break
    if [[ -s "$dir/run/slurmctld.pid" && -z "$(pid_of "$dir" slurmctld)" ]]; then die "slurmctld exited"; fi
    sleep 0.1
  done
  [[ "$state" == idle ]] || die "node $NODE not idle after 30 s (state '${state:-no answer}')"
  trap - EXIT
  if [[ -n "${2:-}" ]]; then
    # Detached (own session, no SLURM_CONF, nothing inherited open): it outlives this script.
    setsid env -u SLURM_CONF bash "${BASH_SOURCE[0]}" watch "$dir" "$2" </dev/null >>"$dir/log/watchdog.log" 2>&1 &
    echo $! >"$dir/run/watchdog.pid"
  fi
  log "cluster up in $dir: slurmctld :$ctld_port, slurmd :$slurmd_port, node $NODE ($CPUS CPUs) idle"
  echo "SLURM_CONF=$dir/slurm.conf"
}

# Wait while OWNER lives, then stop the cluster (if `stop` has not already).
watch() { # dir owner
  local dir="$1" owner="$2"
  while pid_alive "$owner"; do sleep 1; done
  if [[ -n "$(pid_of "$dir" slurmctld)$(pid_of "$dir" slurmd)$(pid_of "$dir" munged)" ]]; then
    log "$(date +%T) process $owner is gone and the cluster still runs: stopping it"
    stop "$dir"
  fi
  rm -f "$dir/run/watchdog.pid"
}

case "${1:-}" in
  start) [[ -n "${2:-}" ]] || die "usage: $0 start DIR [OWNER_PID]"; start "$2" "${3:-}" ;;
  watch) watch "$2" "$3" ;;
  stop) [[ -n "${2:-}" ]] || die "usage: $0 stop DIR"; stop "$(cd "$2" 2>/dev/null && pwd || echo "$2")" ;;
  check) check ;;
  *) die "usage: $0 start DIR [OWNER_PID] | stop DIR | check" ;;
esac
