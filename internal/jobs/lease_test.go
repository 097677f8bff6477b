package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/patchpanda/patchpanda/internal/jobs"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

func TestLeasesAreReceipts(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	j := r.enqueue("widgets")
	lease := r.claim(j.ID, w1)

	if again := r.claim(j.ID, w1); again != lease {
		t.Errorf("claiming a job one holds gave lease %q, want the same %q", again, lease)
	}
	if _, err := r.svc.Claim(ctx, j.ID, w2); patchpanda.ErrorCode(err) != patchpanda.ECONFLICT {
		t.Errorf("another key claiming a held job: %v, want conflict (409)", err)
	}
	started := patchpanda.WorkerEvent{Type: "started"}
	cases := []struct {
		name  string
		lease string
		who   *patchpanda.Principal
		want  string
	}{
		{"another key, even with the lease id", lease, w2, patchpanda.EFORBIDDEN},
		{"another key without it", "", w2, patchpanda.EFORBIDDEN},
		{"the holder without the header", "", w1, patchpanda.ECONFLICT},
		{"the holder with a made-up lease", "lse_0000", w1, patchpanda.ECONFLICT},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := r.svc.Report(ctx, j.ID, c.lease, started, c.who); patchpanda.ErrorCode(err) != c.want {
				t.Errorf("event: %v, want %s", err, c.want)
			}
			if _, err := r.svc.Token(ctx, j.ID, c.lease, c.who); patchpanda.ErrorCode(err) != c.want {
				t.Errorf("token: %v, want %s", err, c.want)
			}
		})
	}
	if n := len(r.gh.IssuedTokens()); n != 0 {
		t.Fatalf("%d tokens minted for refused requests", n)
	}
	if got, _ := r.db.Job(ctx, j.ID); got.State != patchpanda.JobQueued {
		t.Fatalf("a refused event moved the job to %s", got.State)
	}
	if _, err := r.svc.Report(ctx, j.ID, lease, started, w1); err != nil {
		t.Fatalf("the holder's event: %v", err)
	}

	// Once the lease has expired, nobody's receipt is good, and another
	// worker may claim the job when it is queued again.
	r.svc.Heartbeat = time.Millisecond
	if _, err := r.svc.Report(ctx, j.ID, lease, patchpanda.WorkerEvent{Type: "progress"}, w1); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	if _, err := r.svc.Token(ctx, j.ID, lease, w1); patchpanda.ErrorCode(err) != patchpanda.ECONFLICT {
		t.Errorf("token after the lease expired: %v, want conflict", err)
	}
	r.svc.Heartbeat = time.Hour
	if n, err := r.svc.Reap(ctx); err != nil || n != 1 {
		t.Fatalf("Reap = %d, %v", n, err)
	}
	lease2 := r.claim(j.ID, w2)
	if lease2 == lease {
		t.Errorf("the new holder got the old lease id")
	}
	if _, err := r.svc.Report(ctx, j.ID, lease, patchpanda.WorkerEvent{Type: "succeeded"}, w1); patchpanda.ErrorCode(err) != patchpanda.EFORBIDDEN {
		t.Errorf("the old holder after the job moved on: %v, want forbidden", err)
	}
	if _, err := r.svc.Report(ctx, j.ID, lease2, started, w2); err != nil {
		t.Errorf("the new holder: %v", err)
	}
}

func TestTokensAreRevokedWhenTheJobEndsOrTheLeaseExpires(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()

	ends := r.enqueue("widgets")
	lease := r.claim(ends.ID, w1)
	tok, err := r.svc.Token(ctx, ends.ID, lease, w1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.Report(ctx, ends.ID, lease, patchpanda.WorkerEvent{Type: "started"}, w1); err != nil {
		t.Fatal(err)
	}
	if revoked := r.gh.RevokedTokens(); len(revoked) != 0 {
		t.Fatalf("a running job's token was revoked")
	}
	if _, err := r.svc.Report(ctx, ends.ID, lease, patchpanda.WorkerEvent{Type: "failed", Message: "gave up"}, w1); err != nil {
		t.Fatal(err)
	}
	if revoked := r.gh.RevokedTokens(); len(revoked) != 1 || revoked[0] != tok.Token {
		t.Errorf("revoked %d tokens after the job failed, want its one", len(revoked))
	}

	expires := r.enqueue("gadgets")
	lease = r.claim(expires.ID, w1)
	if _, err := r.svc.Token(ctx, expires.ID, lease, w1); err != nil {
		t.Fatal(err)
	}
	if n, _ := r.svc.RevokeDue(ctx); n != 0 {
		t.Errorf("RevokeDue revoked %d tokens of a live lease", n)
	}
	// Two hours later the lease (an hour) has lapsed.
	r.db.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	if n, err := r.svc.RevokeDue(ctx); err != nil || n != 1 {
		t.Errorf("RevokeDue after the lease expired = %d, %v; want 1", n, err)
	}
	if n := len(r.gh.RevokedTokens()); n != 2 {
		t.Errorf("%d tokens revoked at GitHub, want 2", n)
	}
	if n, _ := r.svc.RevokeDue(ctx); n != 0 {
		t.Errorf("a second RevokeDue revoked %d", n)
	}
}

func TestPullRequestURLMustBeOfTheJobsRepository(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	j := r.enqueue("widgets")
	lease := r.claim(j.ID, w1)
	if _, err := r.svc.Report(ctx, j.ID, lease, patchpanda.WorkerEvent{Type: "started"}, w1); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{
		"https://evil.example/acme/widgets/pull/8",
		"https://github.com/acme/gadgets/pull/8",
		"https://github.com/acme/widgets/issues/8",
		"https://github.com/acme/widgets/pull/8x",
		"https://github.com/acme/widgets/pull/0",
		"http://github.com/acme/widgets/pull/8",
		"https://user@github.com/acme/widgets/pull/8",
		"javascript:alert(1)",
	} {
		if _, err := r.svc.Report(ctx, j.ID, lease, patchpanda.WorkerEvent{Type: "progress", PullRequestURL: u}, w1); patchpanda.ErrorCode(err) != patchpanda.EINVALID {
			t.Errorf("%s: %v, want invalid (400)", u, err)
		}
	}
	if _, err := r.svc.Report(ctx, j.ID, lease, patchpanda.WorkerEvent{Type: "succeeded", PullRequestURL: "https://github.com/Acme/Widgets/pull/8"}, w1); err != nil {
		t.Errorf("a pull request of the job's repository: %v", err)
	}
}

func TestWebURL(t *testing.T) {
	for api, want := range map[string]string{
		"":                                     "https://github.com",
		"https://api.github.com":               "https://github.com",
		"https://ghe.example.com/api/v3":       "https://ghe.example.com",
		"http://127.0.0.1:4000":                "http://127.0.0.1:4000",
		"https://ghe.example.com:8443/api/v3/": "https://ghe.example.com:8443",
	} {
		u, err := jobs.WebURL(api)
		if err != nil || u.String() != want {
			t.Errorf("WebURL(%q) = %v, %v; want %s", api, u, err, want)
		}
	}
	if _, err := jobs.WebURL("not a url"); err == nil {
		t.Error("WebURL of a relative URL: no error")
	}
}
