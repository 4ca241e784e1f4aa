# shellcheck shell=bash
# bash completion for traffic-counter(8), installed as
# share/bash-completion/completions/traffic-counter. Commands and options
# come from the binary's own --help, so they never drift from it; option
# values from fixed lists, interfaces and files.

# _traffic_counter_commands BIN: the command names of BIN --help.
_traffic_counter_commands() {
	"$1" --help 2>/dev/null | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p'
}

# _traffic_counter_options BIN COMMAND: the long options of COMMAND --help
# (-v, --verbose and -h, --help, which every command takes, are not "  --" lines).
_traffic_counter_options() {
	"$1" "$2" --help 2>/dev/null | sed -n 's/^  \(--[a-z0-9][a-z0-9-]*\).*/\1/p'
	echo --verbose --help
}

# _traffic_counter_values COMMAND OPTION: completes OPTION's value; fails
# when OPTION takes none.
_traffic_counter_values() {
	local words=""
	case $2 in
	--iface)
		_available_interfaces -a
		return 0
		;;
	--pin-dir)
		_filedir -d
		return 0
		;;
	--pin | --flow-pin | --control-pin | --config | --web-config | --db | --chart)
		_filedir
		return 0
		;;
	--attach-point) words="xdp tc-ingress tc-egress" ;;
	--xdp-mode) words="driver native skb hw" ;;
	--tc-api) words="auto tcx netlink" ;;
	--count-by) words="src dst" ;;
	--ip-map-type) words="percpu shared" ;;
	--retention) words="5min= hour= day= month= year=" ;;
	--direction) words="ingress egress" ;;
	--sort)
		words="bytes packets ip"
		[ "$1" = top ] && words="rate total"
		;;
	--interval | --top | --iterations | --ip-map-size | --flow-map-size | --max-series | \
		--tolerance | --listen | --aggregate-prefix | --address | --since | --until | \
		--chart-size | --save-interval | --max-addresses | --evict-idle)
		return 0 # a number or an address: nothing to offer
		;;
	*) return 1 ;;
	esac
	mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
	return 0
}

_traffic_counter() {
	local cur prev words cword bin=$1 cmd="" i
	_init_completion || return
	command -v "$bin" >/dev/null 2>&1 || bin=traffic-counter

	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-*) ;;
		*)
			cmd=${words[i]}
			break
			;;
		esac
	done
	if [ -z "$cmd" ] || [ "$cmd" = help ]; then
		if [[ $cur == -* && -z $cmd ]]; then
			mapfile -t COMPREPLY < <(compgen -W '-v --verbose --version --help' -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "$(_traffic_counter_commands "$bin")" -- "$cur")
		fi
		return
	fi
	_traffic_counter_values "$cmd" "$prev" && return
	mapfile -t COMPREPLY < <(compgen -W "$(_traffic_counter_options "$bin" "$cmd")" -- "$cur")
}

complete -F _traffic_counter traffic-counter
