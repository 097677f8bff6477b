package webhook_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/webhook"
)

func TestParseRepositoryEvents(t *testing.T) {
	for _, tc := range []struct {
		name    string
		payload string
		want    *webhook.RepositoryEvent
		wantErr string
	}{
		{
			name:    "a rename carries the new name and the same id",
			payload: `{"action":"renamed","changes":{"repository":{"name":{"from":"widgets"}}},"repository":{"id":7001,"name":"gadgets","full_name":"acme/gadgets","owner":{"login":"acme"}},"installation":{"id":100},"sender":{"login":"alice","id":1,"type":"User"}}`,
			want:    &webhook.RepositoryEvent{Action: "renamed", Repository: patchpanda.Repository{Owner: "acme", Name: "gadgets", ID: 7001}, InstallationID: 100, Sender: webhook.User{Login: "alice", ID: 1, Type: "User"}},
		},
		{
			name:    "a transfer carries the new owner",
			payload: `{"action":"transferred","repository":{"id":7001,"name":"gadgets","owner":{"login":"newco"}},"sender":{"login":"alice"}}`,
			want:    &webhook.RepositoryEvent{Action: "transferred", Repository: patchpanda.Repository{Owner: "newco", Name: "gadgets", ID: 7001}, Sender: webhook.User{Login: "alice"}},
		},
		{
			name:    "a repository without an id is refused",
			payload: `{"action":"deleted","repository":{"name":"gadgets","owner":{"login":"acme"}}}`,
			wantErr: "repository.id",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := webhook.Parse("repository", []byte(tc.payload))
			if tc.wantErr != "" {
				if patchpanda.ErrorCode(err) != patchpanda.EINVALID || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, ev); diff != "" {
				t.Errorf("event (-want +got):\n%s", diff)
			}
		})
	}
}
