#!/usr/bin/env bash
# Applies each mutation the decision core's tests must catch, runs the
# tests of the package it lives in, and expects them to fail. It restores
# every file it touched, also when interrupted. Usage, from the repository
# root: tools/mutants/run.sh [NAME...]  (no names: every mutation).
#
# Each mutation is: name | file | perl substitution | packages to test.
# A substitution that no longer matches is reported as stale, so the list
# stays in step with the code.
set -u
cd "$(dirname "$0")/../.."

mutations=(
'perm-key-without-repo|internal/dispatch/dispatch.go|s/permKey\{inst: inst, repo: strings.ToLower\(repo.FullName\(\)\), login: strings.ToLower\(actor.Login\)\}/permKey{login: strings.ToLower(actor.Login)}/|./internal/dispatch'
'team-key-without-team|internal/dispatch/dispatch.go|s/teamKey\{inst: inst, team: team, login: strings.ToLower\(actor.Login\)\}/teamKey{inst: inst, login: strings.ToLower(actor.Login)}/|./internal/dispatch'
'tokens-in-any-state|internal/jobs/service.go|s/l, err := s.DB.CheckLease\(ctx, id, who.Identity\(\), leaseID\)/l, err := patchpanda.Lease{ID: leaseID}, error(nil)/; s/if j.State.Terminal\(\) \{\n\t\treturn nil, patchpanda.Errorf\(patchpanda.ECONFLICT, "job %s is %s: tokens/if false {\n\t\treturn nil, patchpanda.Errorf(patchpanda.ECONFLICT, "job %s is %s: tokens/|./internal/jobs'
'denial-comment-for-pull-request-events|internal/dispatch/commands.go|s/if r.trigger != patchpanda.TriggerComment \{\n\t\t\treturn nil/if false {\n\t\t\treturn nil/|./internal/dispatch'
'max-attempts-off-by-one|internal/intake/processor.go|s/d.Attempts >= p.MaxAttempts/d.Attempts > p.MaxAttempts/|./internal/intake'
'outbox-ignores-retry-after|internal/outbox/outbox.go|s/errors.As\(err, &ra\) && ra.RetryAfter\(\).After\(time.Now\(\)\)/errors.As(err, &ra) && false/|./internal/outbox'
)

backups=()
restore() { for f in "${backups[@]}"; do mv -f "$f.mutant-orig" "$f"; done; backups=(); }
trap restore EXIT INT TERM

caught=0 missed=0 stale=0
for m in "${mutations[@]}"; do
	IFS='|' read -r name file subst pkgs <<<"$m"
	if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$name"; then continue; fi
	cp "$file" "$file.mutant-orig"
	backups=("$file")
	perl -0pi -e "$subst" "$file"
	if cmp -s "$file" "$file.mutant-orig"; then
		echo "STALE   $name: the substitution no longer matches $file"
		stale=$((stale + 1))
	elif go test -count=1 $pkgs >/tmp/mutant-$name.log 2>&1; then
		echo "MISSED  $name: the tests of $pkgs pass with it (log: /tmp/mutant-$name.log)"
		missed=$((missed + 1))
	elif grep -q '\[build failed\]\|\[setup failed\]' /tmp/mutant-$name.log; then
		echo "STALE   $name: the mutant does not compile (log: /tmp/mutant-$name.log)"
		stale=$((stale + 1))
	else
		echo "caught  $name"
		caught=$((caught + 1))
	fi
	restore
done
echo "$caught caught, $missed missed, $stale stale"
[ "$missed" -eq 0 ] && [ "$stale" -eq 0 ]
