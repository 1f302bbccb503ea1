# SPDX-License-Identifier: MIT
# Ports for the servers the tests and tools start on 127.0.0.1. Sourced.
# A server that binds port 0 and says which port it got is best: nothing can
# take the port between a choice and the bind (reported_port reads it).
# free_port is for the others (img run -p, a server restarted on its port).

# free_port: a tcp port no socket holds, below the kernel's ephemeral range.
# An outgoing connection's source port is taken from that range, so a port
# chosen there (or bound at 0 and closed, as the kernel picks from it) may be
# some connection's by the time the server binds it (CI: priv-run-net's
# 37298, commit 4b3501f). Sockets in every state are checked, not only
# listeners: a port in TIME_WAIT or of an established connection is held too.
free_port() {
	local p lo
	read -r lo _ </proc/sys/net/ipv4/ip_local_port_range
	[ "$lo" -gt 12000 ] || lo=32768
	for _ in $(seq 50); do
		p=$((10000 + RANDOM % (lo - 10000)))
		ss -Htan "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return 0; }
	done
	return 1
}

# reported_port LOG PID SED: the port server PID wrote to LOG, as the sed
# script SED prints it (sed -n), waited for up to 60 s (a loaded machine);
# fails at once if PID has exited without writing it.
reported_port() {
	local p i
	for ((i = 0; i < 600; i++)); do
		p=$(sed -n "$3" "$1" 2>/dev/null | head -n1)
		[ -n "$p" ] && { echo "$p"; return 0; }
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
# docker-registry's line at log level info: msg="listening on 127.0.0.1:N"
# (", tls" after it with TLS)
REGISTRY_PORT_SED='s/.*msg="listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p'
# python3 -u -m http.server's first line: "Serving HTTP on 127.0.0.1 port N (...) ..."
HTTP_SERVER_PORT_SED='s/^Serving HTTP on 127\.0\.0\.1 port \([0-9]*\) .*/\1/p'
