#!/bin/sh
# A single-node Slurm cluster of Debian's slurm-wlm and munge, for the atlas test: started by
# hand (no systemd), every file under DIR, its own munge key and socket, non-default ports, the
# host's short name as the node. Needs root (slurmd runs jobs as their users).
#   slurm_cluster.sh start DIR   # prints nothing on success; the logs are in DIR/log
#   slurm_cluster.sh stop DIR    # ends the daemons this script started (by their pid files)
set -eu
cmd=$1
dir=$2
host=$(hostname -s)

stop_pidfile() {
    [ -s "$1" ] || return 0
    pid=$(cat "$1")
    kill "$pid" 2>/dev/null || return 0
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    kill -9 "$pid" 2>/dev/null || true
}

case "$cmd" in
start)
    [ "$(id -u)" = 0 ] || { echo "slurm_cluster.sh: needs root (slurmd runs the jobs)" >&2; exit 1; }
    for tool in munged mungekey slurmctld slurmd sinfo; do
        command -v $tool >/dev/null || [ -x /usr/sbin/$tool ] || { echo "slurm_cluster.sh: no $tool (apt-get install slurm-wlm munge)" >&2; exit 1; }
    done
    PATH=$PATH:/usr/sbin
    mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/log"
    chmod 755 "$dir"
    # munged runs as munge; its socket folder must be open to everyone, its key private.
    chown munge:munge "$dir/munge"
    chmod 755 "$dir/munge"
    runuser -u munge -- mungekey --create --keyfile="$dir/munge/munge.key"
    runuser -u munge -- munged --socket="$dir/munge/munge.sock" --key-file="$dir/munge/munge.key" \
        --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed"
    cat > "$dir/slurm.conf" <<CONF
ClusterName=cnnvis-test
SlurmctldHost=$host
SlurmUser=root
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.sock
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=atlas Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
    export SLURM_CONF="$dir/slurm.conf"
    slurmctld -f "$dir/slurm.conf"
    slurmd -f "$dir/slurm.conf"
    i=0
    until sinfo -h -o %T 2>/dev/null | grep -q idle; do
        i=$((i + 1))
        if [ $i -gt 300 ]; then
            echo "slurm_cluster.sh: the node did not come up in 30 s; logs in $dir/log:" >&2
            tail -n 20 "$dir"/log/*.log "$dir"/munge/munged.log >&2
            exit 1
        fi
        sleep 0.1
    done
    ;;
stop)
    stop_pidfile "$dir/slurmd.pid"
    stop_pidfile "$dir/slurmctld.pid"
    stop_pidfile "$dir/munge/munged.pid"
    ;;
*)
    echo "usage: slurm_cluster.sh start|stop DIR" >&2
    exit 2
    ;;
esac
