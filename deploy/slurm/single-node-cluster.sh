#!/usr/bin/env bash
# A throw-away single-node SLURM cluster (munge + slurmctld + slurmd, as root) in one folder, for
# the integration test and for trying deploy/slurm/volseg-array.sbatch on a workstation.
#   single-node-cluster.sh start DIR   → writes DIR/slurm.conf, starts the daemons, waits until
#                                        the node is idle; prints "export SLURM_CONF=DIR/slurm.conf"
#   single-node-cluster.sh stop DIR    → stops the daemons it started (by their pid files)
# Needs Debian's slurmctld slurmd slurm-client munge. Ports are picked at random (no clash with a
# real cluster or a second test); nothing outside DIR is written.
set -euo pipefail
cmd=${1:?start|stop}
dir=$(realpath -m "${2:?cluster folder}")

stop() {
  for p in slurmd slurmctld munged; do
    if [ -f "$dir/$p.pid" ]; then
      pid=$(cat "$dir/$p.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$dir/$p.pid"
    fi
  done
}

if [ "$cmd" = stop ]; then stop; exit 0; fi
[ "$cmd" = start ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "single-node-cluster: needs root" >&2; exit 3; }
for b in munged mungekey slurmctld slurmd sinfo sbatch; do
  command -v "$b" >/dev/null || { echo "single-node-cluster: $b not installed" >&2; exit 3; }
done
mkdir -p "$dir"/{state,spool,munge}
chmod 700 "$dir/munge"
host=$(hostname -s)
mungekey -c -f -k "$dir/munge/munge.key" >/dev/null 2>&1 || mungekey -c -f -k "$dir/munge/munge.key"
chmod 600 "$dir/munge/munge.key"
munged --force -S "$dir/munge/socket" --key-file="$dir/munge/munge.key" \
  --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munge/seed"
for _ in $(seq 50); do [ -S "$dir/munge/socket" ] && break; sleep 0.1; done
base=$((20000 + RANDOM % 20000))
# The node's real CPUs and memory (slurmd refuses a node claiming more than it has).
read -r cpus mem < <(slurmd -C | awk '/NodeName/{for(i=1;i<=NF;i++){split($i,a,"=");
  if(a[1]=="CPUs")c=a[2]; if(a[1]=="RealMemory")m=a[2]}} END{print c, m}')
cat > "$dir/slurm.conf" <<CONF
ClusterName=volsegtest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$base
SlurmdPort=$((base + 1))
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MaxArraySize=1001
NodeName=$host CPUs=$cpus RealMemory=$((mem * 9 / 10)) State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$dir/slurm.conf
slurmctld -i
slurmd
for _ in $(seq 150); do
  state=$(sinfo -h -N -o %t 2>/dev/null | head -1 || true)
  case "$state" in idle*|mix*|alloc*) echo "export SLURM_CONF=$SLURM_CONF"; exit 0 ;; esac
  sleep 0.2
done
echo "single-node-cluster: the node did not come up (state '${state:-none}'); see $dir/*.log" >&2
stop
exit 1
