#!/bin/sh
# SPDX-License-Identifier: MIT
# A small script as a docker user writes it: a volume, a user network with
# two services finding each other by name, inspect -f, ps --filter,
# events. test-docker-script.sh runs it unchanged with `docker` being img.
# $P prefixes the names (default demo), so two runs do not meet.
set -eu
P=${P:-demo}
start=$(date +%s)

docker volume create ${P}-data
docker network create ${P}-net

# the "db" service writes its greeting into the volume and serves it
docker run -d --name ${P}-db --network ${P}-net -v ${P}-data:/data busybox \
	sh -c 'echo hello-from-db > /data/msg && mkdir -p /www && cp /data/msg /www/index.html && exec httpd -f -p 8080 -h /www'
# the "web" service reaches it by name
docker run -d --name ${P}-web --network ${P}-net --network-alias frontend busybox sleep 300

for i in 1 2 3 4 5 6 7 8 9 10; do
	docker exec ${P}-web wget -q -O- http://${P}-db:8080/ >/dev/null 2>&1 && break
	sleep 1
done
echo "web got: $(docker exec ${P}-web wget -q -O- http://${P}-db:8080/)"
echo "db resolves web's alias: $(docker exec ${P}-db nslookup frontend >/dev/null && echo yes)"

echo "db running: $(docker inspect -f '{{.State.Running}}' ${P}-db)"
echo "db network: $(docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}' ${P}-db)"
echo "db mounts: $(docker inspect -f '{{range .Mounts}}{{.Name}}:{{.Destination}}{{end}}' ${P}-db)"
echo "on the network: $(docker ps --filter network=${P}-net --format '{{.Names}}' | sort | tr '\n' ' ')"
echo "running db: $(docker ps --filter name=${P}-db --filter status=running -q | wc -l)"

docker rm -f ${P}-web ${P}-db >/dev/null
echo "the volume kept: $(docker run --rm -v ${P}-data:/data busybox cat /data/msg)"
docker network rm ${P}-net
docker volume rm ${P}-data

echo "events:"
docker events --since $start --until $(($(date +%s) + 1)) \
	--filter type=network --filter type=volume --filter event=create --filter event=destroy \
	--format '{{.Type}} {{.Action}} {{if .Actor.Attributes.name}}{{.Actor.Attributes.name}}{{else}}{{.Actor.ID}}{{end}}'
