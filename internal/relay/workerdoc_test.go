package relay_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// TestWorkerDocExampleRuns runs the minimal worker of docs/worker.md, as
// written, against a relay with one job waiting.
func TestWorkerDocExampleRuns(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed; the docs example needs it", tool)
		}
	}
	doc, err := os.ReadFile("../../docs/worker.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(doc), "<!-- worker-example -->\n```sh\n")
	block, _, ok2 := strings.Cut(block, "```\n<!-- /worker-example -->")
	if !ok || !ok2 {
		t.Fatal("docs/worker.md has no example between <!-- worker-example --> markers")
	}
	w := sqliteWorld(t)
	w.comment("alice", "/patchpanda generate")
	w.settle()
	_, key, err := w.relay.Keys.Create(context.Background(), "doc-worker", []patchpanda.Scope{patchpanda.ScopeWorker}, 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "-c", block)
	cmd.Env = append(os.Environ(), "RELAY="+w.relay.URL(), "KEY="+key, "PR="+w.gh.URL()+"/acme/widgets/pull/8")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the example failed: %v\n%s", err, out)
	}
	js := w.jobs()
	if len(js) != 1 || js[0].State != patchpanda.JobSucceeded || js[0].CostMicros != 420000 {
		t.Errorf("after the example: %+v, want one succeeded job that cost $0.42", js)
	}
}
