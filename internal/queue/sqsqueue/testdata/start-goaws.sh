#!/bin/sh
# start-goaws.sh starts the goaws SQS emulator for PatchPanda's tests on
# port 4100 (goaws binds every interface; the URLs below use 127.0.0.1),
# installing it first if it is missing, waits until it answers, and prints
# the environment the sqsqueue tests read:
#
#	eval "$(internal/queue/sqsqueue/testdata/start-goaws.sh)"
#	go test ./internal/queue/sqsqueue
#
# goaws v0.5.4 is used, not v0.4.5: v0.4.5 speaks only SQS's old query/XML
# protocol, and the aws-sdk-go-v2 SQS client in go.mod speaks the JSON
# protocol, which goaws added in v0.5. The binary goaws installs is called
# "cmd", so it gets a directory of its own.
# Environment: GOAWS_PORT (default 4100), GOAWS_LOG (default $TMPDIR/goaws.log).
set -eu

version=v0.5.4
port=${GOAWS_PORT:-4100}
dir=$(cd "$(dirname "$0")" && pwd)
bindir=${GOAWS_BIN_DIR:-$(go env GOPATH)/goaws-$version/bin}
log=${GOAWS_LOG:-${TMPDIR:-/tmp}/goaws.log}
url=http://127.0.0.1:$port

if ! [ -x "$bindir/cmd" ]; then
	echo "installing goaws $version into $bindir" >&2
	GOBIN=$bindir go install "github.com/Admiral-Piett/goaws/app/cmd@$version" >&2
fi

if ! curl -fsS -o /dev/null "$url/health" 2>/dev/null; then
	config=${TMPDIR:-/tmp}/goaws-$port.yaml
	sed "s/^  Port: .*/  Port: $port/" "$dir/goaws.yaml" >"$config"
	nohup "$bindir/cmd" -config "$config" -loglevel warn >"$log" 2>&1 &
	echo "started goaws (pid $!, log $log)" >&2
	i=0
	until curl -fsS -o /dev/null "$url/health" 2>/dev/null; do
		i=$((i + 1))
		if [ "$i" -gt 100 ]; then
			echo "goaws did not answer on $url within 20s; see $log" >&2
			exit 1
		fi
		sleep 0.2
	done
fi

echo "export AWS_ENDPOINT_URL_SQS=$url"
echo "export PATCHPANDA_TEST_SQS_URL=$url/100010001000/patchpanda-jobs"
echo "export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test"
