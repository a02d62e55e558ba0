#!/bin/sh
# The terminal view of a slow stream: rows reach the terminal as they come
# (the window shown after 1 s, each later row flushed), not when the
# producer ends; input sniffing does not wait for bytes a pipe has not sent.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

command -v script >/dev/null 2>&1 || skip_all 'needs script (bsdutils)'

test_expect_success 'rows a, b, c are on the terminal while the producer still sleeps' '
	cat >slow.sh <<-\EOF &&
	printf "#plm\t1\nid:str\tn:int\n"; printf "a\t1\n"; sleep 1.2
	printf "b\t2\n"; sleep 0.3; printf "c\t3\n"; sleep 4; printf "d\t4\n"
	EOF
	{ script -qec "sh slow.sh | COLUMNS=80 rec-cat" /dev/null >raw </dev/null & } &&
	pid=$! && sleep 3 && tr -d "\r" <raw >mid && wait $pid &&
	printf "id  n\na   1\nb   2\nc   3\n" >expect && test_cmp expect mid &&
	tr -d "\r" <raw >out && printf "d   4\n" >>expect && test_cmp expect out
'

test_done
