# gen.awk — synthetic data for the mlp-train / mlp-predict tests, the same
# on every machine (Park–Miller generator in exact double arithmetic, not
# awk's rand()).
#   awk -v kind=K -v n=N -v d=D -v seed=S -f gen.awk
# kind: lin (binary, x0 + x1/2 > 0), noisy (binary, x0 + noise > 0), xor
# (binary, sign(x0) xor sign(x1)), multi (str labels a/b/c = argmax of
# x0..x2), ml (multi-label: "p" if x0 > 0, "q" if x1 > 0, comma-separated).
# Splits by row number: 3/5 train, 1/5 val, 1/5 test.
function rnd() { s = (s * 16807) % 2147483647; return s / 2147483647 }
function nrm() { return (rnd() + rnd() + rnd() + rnd() - 2) * 1.7 }
BEGIN {
	s = seed + 1
	printf "id:str\tsplit:str\tlabel:%s\temb:f32[%d]\n",
		kind == "multi" || kind == "ml" ? "str" : "int", d
	for (i = 0; i < n; i++) {
		v = ""
		for (j = 0; j < d; j++) {
			x[j] = nrm()
			v = v (j ? "," : "") sprintf("%.4f", x[j])
		}
		if (kind == "lin") y = x[0] + x[1] / 2 > 0
		else if (kind == "noisy") y = x[0] + nrm() > 0
		else if (kind == "xor") y = (x[0] > 0) != (x[1] > 0)
		else if (kind == "multi")
			y = x[0] > x[1] && x[0] > x[2] ? "a" : x[1] > x[2] ? "b" : "c"
		else y = (x[0] > 0 ? "p" : "") (x[0] > 0 && x[1] > 0 ? "," : "") (x[1] > 0 ? "q" : "")
		sp = i % 5 < 3 ? "train" : i % 5 == 3 ? "val" : "test"
		printf "r%d\t%s\t%s\t%s\n", i, sp, y, v
	}
}
