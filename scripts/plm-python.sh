# scripts/plm-python.sh — find a Python 3 interpreter by what it can import.
# Sourced (POSIX sh) by tests/lib.sh and the bench/ scripts:
#
#   . "$top/scripts/plm-python.sh"
#   PY=$(plm_python numpy msgpack) || PY=
#
# plm_python [MODULE...] prints the path of the first interpreter that
# imports every MODULE and returns 0; with none it prints nothing and
# returns 1.  Candidates, in this order: each python3 on $PATH (in $PATH
# order), then each python3.N on $PATH.  Relative $PATH entries are passed
# over, and an interpreter reached twice (through a link) is tried once.
# No interpreter path is built in.

plm_python () {
	_plm_py_imp="import sys"
	for _plm_py_m; do
		_plm_py_imp="$_plm_py_imp, $_plm_py_m"
	done
	_plm_py_seen=
	_plm_py_ifs=$IFS
	IFS=:
	# shellcheck disable=SC2086 # split $PATH on ':'
	set -- $PATH
	IFS=$_plm_py_ifs
	for _plm_py_name in python3 'python3.[0-9]' 'python3.[0-9][0-9]'; do
		for _plm_py_dir; do
			case $_plm_py_dir in /*) ;; *) continue ;; esac
			for _plm_py_c in "$_plm_py_dir"/$_plm_py_name; do
				[ -f "$_plm_py_c" ] || continue
				[ -x "$_plm_py_c" ] || continue
				_plm_py_r=$(readlink -f "$_plm_py_c" 2>/dev/null) ||
					_plm_py_r=$_plm_py_c
				case ":$_plm_py_seen:" in *":$_plm_py_r:"*) continue ;; esac
				_plm_py_seen="$_plm_py_seen:$_plm_py_r"
				if "$_plm_py_c" -c "$_plm_py_imp" >/dev/null 2>&1; then
					printf '%s\n' "$_plm_py_c"
					return 0
				fi
			done
		done
	done
	return 1
}
