#!/bin/sh
# scripts/check-slurm.sh [BIN] — pipelines/slurm on a real Slurm, on this
# machine: a private munged, slurmctld and slurmd (one node, localhost) in
# a temporary directory; the esm-embed array job (3 shards of 300 UniProt
# sequences, tiny checkpoint) and its dependent merge job are submitted with
# pipelines/slurm/submit.sh, and their results are compared with one
# esm-embed run of the same input.  Everything is stopped and removed on
# exit.  Run by `make check-slurm` (and CI).  Needs root (the daemons run as
# root): anyone else gets a message and exit status 0 — the only skip.
# Installs slurm-wlm and munge when missing (scripts/install-deps.sh).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(cd "${1:-$top/bin}" && pwd)
N=300 SHARDS=3 LEN=150
# the whole check, daemons started to daemons stopped, is kept under 5 min
START_S=60 JOBS_S=180

say () { echo "check-slurm: $*"; }
fail () { echo "check-slurm: FAILED: $*" >&2; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
	say "SKIPPED: not root; this check starts munged, slurmctld and slurmd" \
		"as root on this machine (CI runs it as root)"
	exit 0
fi

PLM_DEPS_EXTRA="slurm-wlm munge" sh "$top/scripts/install-deps.sh"
for c in munged munge unmunge slurmctld slurmd sbatch scontrol sinfo squeue scancel; do
	command -v $c >/dev/null 2>&1 || fail "$c not found after installing slurm-wlm and munge"
done

T=$(mktemp -d "${TMPDIR:-/tmp}/plm-slurm.XXXXXX")
pids='' jobs=''
cleanup () {
	rc=$?
	trap - EXIT INT TERM
	# shellcheck disable=SC2086 # two job ids
	if [ -n "$jobs" ]; then scancel $jobs 2>/dev/null || true; fi
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	i=0
	for p in $pids; do
		while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
		kill -9 "$p" 2>/dev/null || true
	done
	if [ $rc -ne 0 ]; then
		for f in "$T"/*.log "$T"/out/logs/*.log; do
			[ -f "$f" ] || continue
			echo "--- $f (last 20 lines)" >&2
			tail -n 20 "$f" >&2
		done
	fi
	rm -rf "$T"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Two free ports (slurmctld, slurmd) away from the defaults 6817/6818, so
# that a Slurm already on the machine is not disturbed.
used=$( (ss -Htln 2>/dev/null || true) | awk '{ n = split($4, a, ":"); print a[n] }')
P=$((20000 + ($$ % 1000) * 2))
while printf '%s\n' "$used" | grep -qx -e "$P" -e "$((P + 1))"; do P=$((P + 2)); done

# munged with its own key and socket
dd if=/dev/urandom of="$T/munge.key" bs=1024 count=1 2>/dev/null
chmod 400 "$T/munge.key"
munged -F --force --key-file="$T/munge.key" --socket="$T/munge.sock" \
	--pid-file="$T/munged.pid" --log-file="$T/munged.log" \
	--seed-file="$T/munged.seed" >"$T/munged.out.log" 2>&1 &
pids="$!"
i=0
until munge -n -S "$T/munge.sock" 2>/dev/null | unmunge -S "$T/munge.sock" >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 50 ] || fail "munged did not start"
	sleep 0.2
done

mkdir -p "$T/state" "$T/spool"
cat >"$T/slurm.conf" <<CONF
ClusterName=plmcheck
SlurmctldHost=localhost
SlurmctldPort=$P
SlurmdPort=$((P + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$T/munge.sock
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
DependencyParameters=kill_invalid_depend
MinJobAge=600
NodeName=localhost CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$T/slurm.conf"

slurmctld -D -i -f "$T/slurm.conf" >"$T/slurmctld.out.log" 2>&1 &
pids="$! $pids"
slurmd -D -N localhost -f "$T/slurm.conf" >"$T/slurmd.out.log" 2>&1 &
pids="$! $pids"

t0=$(date +%s)
until [ "$(sinfo -h -n localhost -o %t 2>/dev/null)" = idle ]; do
	[ $(($(date +%s) - t0)) -lt $START_S ] ||
		fail "node localhost not idle after ${START_S}s (sinfo: $(sinfo -h -o '%t %E' 2>&1))"
	sleep 1
done
say "Slurm $(sinfo -V | cut -d' ' -f2) up on ports $P/$((P + 1)) in $(($(date +%s) - t0))s: node localhost idle, $(nproc) CPUs"

O=$T/out
ids=$(sh "$top/pipelines/slurm/submit.sh" BIN="$BIN" MODEL="$top/tests/data/esm2/esm2_tiny" \
	IN="$top/tests/data/uniprot_20k.fasta.gz" HEAD=$N SHARDS=$SHARDS THREADS=1 \
	EMBED="--max-len $LEN" OUT="$O") || fail "submit.sh"
arr=${ids% *} mrg=${ids#* }
jobs="$arr $mrg"
scontrol show job "$mrg" | grep -q "Dependency=afterok:${arr}_\*" ||
	fail "merge job $mrg does not depend on array $arr: $(scontrol show job "$mrg" | grep -o 'Dependency=[^ ]*')"
say "submitted array job $arr (--array=0-$((SHARDS - 1))) and merge job $mrg (afterok:$arr)"

# state JOBID: the JobState of every record scontrol shows for the job (an
# array job shows one per task), sorted and counted
state () { scontrol show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | sort | uniq -c | tr -s ' ' | tr '\n' ' '; }
t0=$(date +%s)
while :; do
	s=$(scontrol show job "$mrg" 2>/dev/null | grep -o 'JobState=[A-Z_]*' || true)
	case $s in
	JobState=COMPLETED) break ;;
	JobState=PENDING|JobState=RUNNING|JobState=CONFIGURING|JobState=COMPLETING|"") ;;
	*) fail "merge job $mrg: $s; array job $arr: $(state "$arr")" ;;
	esac
	[ $(($(date +%s) - t0)) -lt $JOBS_S ] ||
		fail "jobs not done after ${JOBS_S}s: array $(state "$arr"), merge $s"
	sleep 1
done
secs=$(($(date +%s) - t0))
[ "$(state "$arr")" = " $SHARDS JobState=COMPLETED " ] ||
	fail "array job $arr: $(state "$arr"), not $SHARDS tasks COMPLETED"
for k in $(seq 0 $((SHARDS - 1))); do
	grep -q "^embed-shard: shard $k/$SHARDS on" "$O/logs/embed-${arr}_$k.log" ||
		fail "no log of array task $k"
done
say "array job: $SHARDS tasks COMPLETED; merge job COMPLETED; ${secs}s"

# The same input in one esm-embed run, and the comparisons.
cd "$T"
"$BIN/esm-embed" --model "$top/tests/data/esm2/esm2_tiny" --threads 2 --max-len $LEN \
	--cache one.h5 -T -o one.tsv "$O/input.rec" 2>one.log
body () { grep -v '^#' "$@"; }
sorted_rows () { body "$1" | head -n 1; body "$1" | tail -n +2 | LC_ALL=C sort; }
n=$(body one.tsv | sed 1d | wc -l)
[ "$n" -eq $N ] || fail "one run: $n records, not $N"

"$BIN/emb-cache" export -T one.h5 >one.exp
"$BIN/emb-cache" export -T "$O/cache.h5" >merged.exp
# keys and vectors (a sequence under two ids is stored under either id)
sorted_rows one.exp | cut -f 2- | LC_ALL=C sort >expect
sorted_rows merged.exp | cut -f 2- | LC_ALL=C sort >actual
cmp -s expect actual || fail "merged cache differs from one run's: $(diff expect actual | head -c 600)"
"$BIN/emb-cache" check "$O/cache.h5" >/dev/null || fail "emb-cache check of the merged cache"
say "merged cache = one run's cache: $(($(wc -l <expect) - 1)) rows, keys and vectors bit for bit"

"$BIN/rec-cat" -T "$O/shards.rec" >shards.tsv
sorted_rows one.tsv >expect
sorted_rows shards.tsv >actual
cmp -s expect actual || fail "shards.rec (sorted) differs from one run: $(diff expect actual | head -c 600)"
say "shards.rec (shard order) = one run, byte for byte after sorting: $n records"

"$BIN/rec-cat" -T "$O/emb.rec" >emb.tsv
grep -v '^#meta' one.tsv >expect
grep -v '^#meta' emb.tsv >actual
cmp -s expect actual || fail "emb.rec differs from one run: $(diff expect actual | head -c 600)"
say "emb.rec (input order) = one run, byte for byte (TSV, #meta aside)"
say "ok"
