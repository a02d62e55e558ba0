#!/bin/sh
# rec-shard: N complete files, a partition of the input that matches
# rec-cat --shard K/N; nothing left behind on failure.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

test_expect_success 'setup' '
	printf "id:str\tn:int\tv:f32[2]\n" >in.tsv &&
	i=1 && while [ $i -le 40 ]; do
		printf "s%d\t%d\t%d,-0.5\n" $i $((i * 7 % 13)) $i >>in.tsv
		i=$((i + 1))
	done &&
	rec-cat -M in.tsv >in.rec &&
	printf "id:int\tname:str\n" >int.tsv &&
	i=1 && while [ $i -le 30 ]; do
		printf "%d\tn%d\n" $((i * 1000 + 3)) $i >>int.tsv
		i=$((i + 1))
	done
'

test_expect_success 'file K equals rec-cat --shard K/4' '
	rec-shard -n 4 -k id p in.rec &&
	for k in 0 1 2 3; do
		rec-cat --typed p.$k >got.$k &&
		rec-cat --typed --shard $k/4 in.rec >want.$k &&
		body want.$k >w && body got.$k >g &&
		test_cmp w g || return 1
	done
'

test_expect_success 'the files partition the input' '
	for k in 0 1 2 3; do body got.$k | sed 1d; done >all &&
	test $(wc -l <all) -eq 40 &&
	sort all >all.sorted &&
	sed 1d in.tsv | sort >in.sorted &&
	test_cmp in.sorted all.sorted &&
	test $(sort -u all | wc -l) -eq 40 &&
	for k in 0 1 2 3; do test $(body got.$k | wc -l) -gt 1 || return 1; done
'

test_expect_success 'int keys shard as their decimal text, like --shard' '
	rec-shard --typed -n 3 q int.tsv &&
	for k in 0 1 2; do
		rec-cat --typed --shard $k/3 int.tsv >want &&
		body want >w && body q.$k >g &&
		test_cmp w g || return 1
	done
'

test_expect_success 'every file is a complete stream, even an empty one' '
	printf "id:str\nx\n" >one.tsv &&
	rec-shard -n 5 e one.tsv &&
	n=0 && for k in 0 1 2 3 4; do
		rec-cat --typed e.$k >o.$k || return 1
		n=$((n + $(body o.$k | sed 1d | wc -l)))
	done &&
	test $n -eq 1
'

test_expect_success 'prov appended; --typed writes TSV; --suffix .gz compresses' '
	rec-shard --typed -n 2 t in.rec &&
	head -n 1 t.0 | grep -q "^#plm" &&
	grep -q "\"tool\":\"rec-shard\"" t.0 &&
	rec-shard -n 2 --suffix .gz z in.rec &&
	gzip -t z.0.gz && gzip -t z.1.gz &&
	rec-cat --typed z.1.gz >z1 && body z1 >a &&
	rec-cat --typed --shard 1/2 in.rec >b.tsv && body b.tsv >b &&
	test_cmp b a
'

test_expect_success 'usage errors' '
	test_exit 2 rec-shard p in.rec 2>err &&
	test_exit 2 rec-shard -n 0 p in.rec 2>err &&
	test_exit 2 rec-shard -n 2 2>err
'

test_expect_success 'missing key field, wrong type: no files' '
	test_error "no field .nope. in input" rec-shard -n 2 -k nope m in.rec &&
	test_path_is_missing m.0 &&
	test_error "field .v. is f32\[2\]" rec-shard -n 2 -k v m in.rec &&
	test_path_is_missing m.0
'

test_expect_success 'empty or truncated input: exit 1, no files' '
	: >empty &&
	test_error "empty input" rec-shard -n 3 m empty &&
	test_path_is_missing m.0 &&
	size=$(wc -c <in.rec) &&
	head -c $((size - 2)) in.rec >trunc.rec &&
	test_error "truncated input" rec-shard -n 3 m trunc.rec &&
	test_path_is_missing m.0 && test_path_is_missing m.1 &&
	test_path_is_missing m.2 &&
	test -z "$(ls -A | grep "^m\.")"
'

test_expect_success 'rec-shard -n 100 stopped by SIGTERM leaves no temporary file' '
	mkdir term && mkfifo term/in || return 1
	rec-shard -n 100 term/out term/in 2>term/err &
	pid=$!
	exec 7>term/in
	printf "id:str\tn:int\n" >&7 &&
	i=1 && while [ $i -le 300 ]; do printf "k%d\t%d\n" $i $i >&7; i=$((i + 1)); done &&
	sleep 0.5 &&
	kill -TERM $pid &&
	{ wait $pid; rc=$?; } ; exec 7>&- ;
	test $rc -eq 143 &&
	ls term >left && printf "err\nin\n" >expect && test_cmp expect left
'

test_expect_success 'an ignored SIGHUP stays ignored (nohup): the run completes' '
	mkdir hup && mkfifo hup/in || return 1
	(trap "" HUP && exec rec-shard -n 3 hup/out hup/in) &
	pid=$!
	exec 7>hup/in
	printf "id:str\tn:int\n" >&7 &&
	sleep 0.3 &&
	kill -HUP $pid &&
	printf "k1\t1\nk2\t2\n" >&7 && exec 7>&- &&
	wait $pid &&
	rec-cat --typed hup/out.0 hup/out.1 hup/out.2 >all.tsv &&
	grep -c "^k[12]	" all.tsv >n &&
	echo 2 >expect && test_cmp expect n
'

test_done
