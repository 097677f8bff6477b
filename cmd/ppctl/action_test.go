package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/store"

	"github.com/patchpanda/patchpanda/internal/actionsoidc/actionsoidctest"
	"github.com/patchpanda/patchpanda/internal/relay"
)

// action is the part of action.yml a runner reads to run a composite
// action.
type action struct {
	Inputs map[string]struct {
		Default string `yaml:"default"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Value string `yaml:"value"`
	} `yaml:"outputs"`
	Runs struct {
		Using string `yaml:"using"`
		Steps []struct {
			ID    string            `yaml:"id"`
			Name  string            `yaml:"name"`
			Shell string            `yaml:"shell"`
			Env   map[string]string `yaml:"env"`
			Run   string            `yaml:"run"`
		} `yaml:"steps"`
	} `yaml:"runs"`
}

var expression = regexp.MustCompile(`\$\{\{\s*([^}]*?)\s*\}\}`)

// TestActionUnderASimulatedRunner runs action.yml's steps as a runner
// does — bash, each step's env with its expressions evaluated, a
// GITHUB_OUTPUT file per step — in a workspace holding a real pull
// request's commits, against a real relay that trusts a test Actions
// token issuer. The ID token comes from a fake ACTIONS_ID_TOKEN_REQUEST_URL,
// as on a runner with `permissions: id-token: write`. It checks the
// outputs, the job summary and the annotations.
func TestActionUnderASimulatedRunner(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the action's scripts are bash")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("needs git")
	}
	actionDir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(actionDir, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var act action
	if err := yaml.Unmarshal(raw, &act); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	if act.Runs.Using != "composite" {
		t.Fatalf("runs.using = %q, want composite", act.Runs.Using)
	}

	// The repository of the pull_request fixture below.
	const repo, repoID = "acme-labs/ledger", int64(700111222)
	iss := actionsoidctest.New(t)
	r := startRelay(t, iss.URL())
	// The App is installed on the repository (as its installation webhook
	// would have recorded): the relay takes Actions tokens only from there.
	if err := r.DB.InTx(context.Background(), func(q *store.Queries) error {
		return q.UpsertInstallation(context.Background(), 99, "acme-labs",
			[]patchpanda.Repository{{Owner: "acme-labs", Name: "ledger", ID: repoID}})
	}); err != nil {
		t.Fatal(err)
	}

	// The runner's token service: it hands the job an ID token for the
	// audience asked, when shown the job's request token.
	var audiences []string
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Header.Get("Authorization") != "Bearer runner-request-token" {
			http.Error(w, `{"message":"bad request token"}`, http.StatusUnauthorized)
			return
		}
		aud := req.URL.Query().Get("audience")
		audiences = append(audiences, aud)
		claims := map[string]any{"repository_id": strconv.FormatInt(repoID, 10), "repository_owner": "acme-labs", "repository_owner_id": "4242", "event_name": "pull_request"}
		_ = json.NewEncoder(w).Encode(map[string]string{"value": iss.Token(t, repo, aud, 5*time.Minute, claims)})
	}))
	defer tokens.Close()

	ws := t.TempDir()
	base, head := pullRequestCommits(t, ws)
	report := "TN:\nSF:" + filepath.Join(ws, "src/calc.js") + "\n" +
		"DA:1,1\nDA:2,1\nDA:3,1\nDA:6,0\nDA:7,0\nDA:8,1\nDA:9,1\nDA:10,0\nLF:8\nLH:5\nend_of_record\n" +
		"SF:/home/runner/generated/bundle.js\nDA:1,1\nLF:1\nLH:1\nend_of_record\n"
	writeFile(t, filepath.Join(ws, "coverage/lcov.info"), report)
	event := realPullRequestEvent(t, base, head)
	eventPath := filepath.Join(t.TempDir(), "event.json")
	writeFile(t, eventPath, event)

	runnerTemp := t.TempDir()
	summary := filepath.Join(runnerTemp, "step_summary.md")
	runnerEnv := []string{
		"GITHUB_ACTIONS=true", "CI=true", "RUNNER_OS=Linux", "RUNNER_ARCH=X64", "RUNNER_TEMP=" + runnerTemp,
		"GITHUB_WORKSPACE=" + ws, "GITHUB_REPOSITORY=" + repo, "GITHUB_EVENT_NAME=pull_request", "GITHUB_EVENT_PATH=" + eventPath,
		"GITHUB_SHA=" + strings.Repeat("e", 40), "GITHUB_REF=refs/pull/42/merge", "GITHUB_HEAD_REF=feature", "GITHUB_BASE_REF=main",
		"GITHUB_JOB=test", "GITHUB_RUN_ID=777", "GITHUB_STEP_SUMMARY=" + summary,
		"ACTIONS_ID_TOKEN_REQUEST_URL=" + tokens.URL + "/token?api-version=2.0", "ACTIONS_ID_TOKEN_REQUEST_TOKEN=runner-request-token",
		"HOME=" + os.Getenv("HOME"), "PATH=" + os.Getenv("PATH"), "GOPATH=" + os.Getenv("GOPATH"), "GOCACHE=" + goEnv(t, "GOCACHE"),
		"GOMODCACHE=" + goEnv(t, "GOMODCACHE"), "GOFLAGS=" + os.Getenv("GOFLAGS"), "GOTOOLCHAIN=" + os.Getenv("GOTOOLCHAIN"),
		"GOPROXY=" + os.Getenv("GOPROXY"),
	}
	inputs := map[string]string{"relay-url": r.URL(), "files": "coverage/*.info\nmissing/*.xml", "version": "source"}
	ctx := map[string]string{
		"github.action_path": actionDir, "github.action_ref": "", "github.action_repository": "patchpanda/patchpanda",
		"github.server_url": "https://github.com",
	}
	for name, in := range act.Inputs {
		v, ok := inputs[name]
		if !ok {
			v = in.Default
		}
		ctx["inputs."+name] = v
	}

	var stdout bytes.Buffer
	for i, step := range act.Runs.Steps {
		if strings.Contains(step.Run, "${{") {
			t.Fatalf("step %q interpolates an expression into its script; map it through env", step.Name)
		}
		if step.Shell != "bash" {
			t.Fatalf("step %q runs in %q, want bash", step.Name, step.Shell)
		}
		outFile := filepath.Join(runnerTemp, "output_"+step.ID)
		env := append(append([]string{}, runnerEnv...), "GITHUB_OUTPUT="+outFile)
		for k, v := range step.Env {
			env = append(env, k+"="+expression.ReplaceAllStringFunc(v, func(e string) string {
				key := expression.FindStringSubmatch(e)[1]
				val, ok := ctx[key]
				if !ok {
					t.Fatalf("step %q: unknown expression %s", step.Name, e)
				}
				return val
			}))
		}
		script := filepath.Join(runnerTemp, "step.sh")
		writeFile(t, script, step.Run)
		cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", script)
		cmd.Dir, cmd.Env = ws, env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = io.MultiWriter(&out, &stdout), &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("step %d %q: %v\n%s", i, step.Name, err, out.String())
		}
		for k, v := range readOutputs(t, outFile) {
			ctx["steps."+step.ID+".outputs."+k] = v
		}
	}

	outputs := map[string]string{}
	for name, o := range act.Outputs {
		outputs[name] = expression.ReplaceAllStringFunc(o.Value, func(e string) string { return ctx[expression.FindStringSubmatch(e)[1]] })
	}
	// Coverage of the repository's files: 5 of 8 lines of src/calc.js;
	// the bundle outside the repository does not count.
	if outputs["coverage"] != "62.50" {
		t.Errorf("output coverage = %q, want 62.50; outputs %v\n%s", outputs["coverage"], outputs, stdout.String())
	}
	// The pull request adds lines 6 to 10 of src/calc.js: 6, 7 and 10 are
	// coverable and missed, 8 and 9 covered: 2 of 5.
	if outputs["patch-coverage"] != "40.00" {
		t.Errorf("output patch-coverage = %q, want 40.00", outputs["patch-coverage"])
	}
	if !strings.HasPrefix(outputs["report-url"], "http") {
		t.Errorf("output report-url = %q", outputs["report-url"])
	}
	if len(audiences) != 1 || audiences[0] != "patchpanda" {
		t.Errorf("ID tokens asked for audiences %v, want [patchpanda]", audiences)
	}
	sum, err := os.ReadFile(summary)
	if err != nil {
		t.Fatalf("no job summary: %v", err)
	}
	for _, want := range []string{"### PatchPanda coverage", "**Patch coverage: 40.00%** (2 of 5 coverable added lines)", "| `src/calc.js` | 3 | 2/5 | 40.00 |", "1 report path(s) match no file"} {
		if !strings.Contains(string(sum), want) {
			t.Errorf("job summary lacks %q:\n%s", want, sum)
		}
	}
	log := stdout.String()
	for _, want := range []string{
		"::warning endLine=7,file=src/calc.js,line=6,title=Not covered by tests::Added lines 6–7 are not covered by tests",
		"::warning file=src/calc.js,line=10,title=Not covered by tests::Added line 10 is not covered by tests",
		"::warning title=Coverage path not in the repository::/home/runner/generated/bundle.js matches no file",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("annotations lack %q:\n%s", want, log)
		}
	}
}

func startRelay(t *testing.T, issuer string) *relay.Relay {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r, err := relay.Open(ctx, relay.Config{Addr: "127.0.0.1:0", DatabaseURL: "sqlite:" + filepath.Join(t.TempDir(), "r.db"),
		QueueBackend: "db", GitHubAPIURL: "https://api.github.com", ShutdownTimeout: 5 * time.Second,
		ActionsOIDCIssuer: issuer, ActionsOIDCAudience: "patchpanda"},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; r.Close() })
	return r
}

// pullRequestCommits makes a git repository in dir with a base commit and
// a head commit that adds lines 6 to 10 of src/calc.js.
func pullRequestCommits(t *testing.T, dir string) (base, head string) {
	t.Helper()
	git := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com",
			"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q", "-b", "main")
	lines := []string{"function add(a, b) {", "  return a + b;", "}", "", "module.exports = { add };"}
	writeFile(t, filepath.Join(dir, "src/calc.js"), strings.Join(lines, "\n")+"\n")
	writeFile(t, filepath.Join(dir, ".gitignore"), "coverage/\n")
	git("add", ".")
	git("commit", "-q", "-m", "base")
	base = git("rev-parse", "HEAD")
	lines = append(lines, "function mul(a, b) {", "  if (a === 0) return 0;", "  return a * b;", "}", "module.exports.mul = mul;")
	writeFile(t, filepath.Join(dir, "src/calc.js"), strings.Join(lines, "\n")+"\n")
	git("commit", "-q", "-am", "mul")
	return base, git("rev-parse", "HEAD")
}

// realPullRequestEvent is a pull_request event as GitHub delivers it (the
// webhook package's fixture), pointed at the test's commits.
func realPullRequestEvent(t *testing.T, base, head string) string {
	t.Helper()
	b, err := os.ReadFile("../../internal/webhook/testdata/pull_request_synchronize_draft.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	pr := ev["pull_request"].(map[string]any)
	pr["head"].(map[string]any)["sha"] = head
	pr["head"].(map[string]any)["ref"] = "feature"
	pr["base"].(map[string]any)["sha"] = base
	ev["after"] = head
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func readOutputs(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	lines := strings.Split(string(b), "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if k, v, ok := strings.Cut(l, "="); ok && !strings.Contains(k, "<<") {
			out[k] = v
			continue
		}
		// name<<DELIMITER, the value's lines, DELIMITER (go-githubactions).
		if k, delim, ok := strings.Cut(l, "<<"); ok {
			var val []string
			for i++; i < len(lines) && lines[i] != delim; i++ {
				val = append(val, lines[i])
			}
			out[k] = strings.Join(val, "\n")
		}
	}
	return out
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}
