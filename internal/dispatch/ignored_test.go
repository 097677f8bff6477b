package dispatch_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/patchpanda/patchpanda/internal/dispatch"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/webhook"
)

// Handle skips the parse of a delivery nothing acts on. Each payload here
// has a field of the wrong type, so a parse would fail: an error means the
// delivery was parsed, none that it was ignored unparsed.
func TestDeliveriesNothingActsOnAreNotParsed(t *testing.T) {
	tests := []struct {
		name          string
		event, action string
		payload       string
		parsed        bool
	}{
		{"a comment without the command keyword", "issue_comment", "created", `{"comment":{"id":"x","body":"Looks good to me"}}`, false},
		{"a comment with the keyword in any case", "issue_comment", "created", `{"comment":{"id":"x","body":"/PatchPanda generate"}}`, true},
		{"a comment whose solidus is escaped", "issue_comment", "created", `{"comment":{"id":"x","body":"\/patchpanda"}}`, true},
		{"a comment with a unicode escape", "issue_comment", "created", `{"comment":{"id":"x","body":"\u002fpatchpanda"}}`, true},
		{"a comment recorded without its action", "issue_comment", "", `{"comment":{"id":"x","body":"/patchpanda"}}`, true},
		{"an edited comment, even with the keyword", "issue_comment", "edited", `{"comment":{"id":"x","body":"/patchpanda"}}`, false},
		{"a comment that is not JSON", "issue_comment", "", `not json`, true},
		{"a closed pull request", "pull_request", "closed", `{"number":"x"}`, false},
		{"a synchronized pull request", "pull_request", "synchronize", `{"number":"x"}`, true},
		{"a pull request recorded without its action", "pull_request", "", `{"number":"x"}`, true},
		{"a completed check run", "check_run", "completed", `{"check_run":{"id":"x"}}`, false},
		{"a re-requested check run", "check_run", "rerequested", `{"check_run":{"id":"x"}}`, true},
		{"an event the relay has no use for", "push", "", `{"action":5}`, false},
		{"an installation event, whatever its action", "installation", "something_new", `{"installation":{"id":"x"}}`, true},
		{"a repository event", "repository", "renamed", `{"repository":{"id":"x"}}`, true},
	}
	d := dispatch.New(slog.New(slog.DiscardHandler), nil, nil, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			commit, err := d.Handle(context.Background(), patchpanda.Delivery{ID: 1, Event: tt.event, Action: tt.action, Payload: []byte(tt.payload)})
			if parsed := err != nil; parsed != tt.parsed {
				t.Errorf("Handle = %v; parsed = %v, want %v", err, parsed, tt.parsed)
			}
			if commit != nil {
				t.Error("Handle returned a commit")
			}
		})
	}
}

// Handle uses the event the receiving relay parsed rather than parsing
// the payload again, unless that event is not the delivery's.
func TestAParsedEventIsNotParsedAgain(t *testing.T) {
	// The payload would not parse: an error means it was parsed.
	bad := []byte(`{"installation":{"id":"x"}}`)
	tests := []struct {
		name   string
		parsed any
		want   bool // parsed from the payload
	}{
		{"the delivery's event", &webhook.InstallationRepositoriesEvent{Action: "added", InstallationID: 7}, false},
		{"no event", nil, true},
		{"another event", &webhook.InstallationEvent{Action: "created", InstallationID: 7}, true},
		{"not an event", "installation_repositories", true},
	}
	d := dispatch.New(slog.New(slog.DiscardHandler), nil, nil, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			del := patchpanda.Delivery{ID: 1, Event: "installation_repositories", Action: "added", Payload: bad, Parsed: tt.parsed}
			commit, err := d.Handle(context.Background(), del)
			if parsed := err != nil; parsed != tt.want {
				t.Errorf("Handle = %v; parsed = %v, want %v", err, parsed, tt.want)
			}
			if !tt.want && commit == nil {
				t.Error("Handle returned no commit for the parsed event")
			}
		})
	}
}
