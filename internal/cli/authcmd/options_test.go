package authcmd

import (
	"context"
	"strings"
	"testing"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/cli/factory/factorytest"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/iostreams"
)

func TestLoginParsesItsFlags(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		withToken bool
		wantErr   string
	}{
		{name: "a relay, the key asked for", args: []string{"--relay", "https://relay.example.com"}},
		{name: "a relay, the key piped in", args: []string{"--relay", "https://relay.example.com", "--with-token"}, withToken: true},
		{name: "no relay named", args: []string{"--with-token"}, wantErr: "name the relay: ppctl auth login --relay URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, err := factorytest.Parse(t, factorytest.New(t), newLogin, tt.args...)
			if !factorytest.Parsed(t, err, tt.wantErr) {
				return
			}
			if opts.WithToken != tt.withToken || opts.Program != "ppctl" || opts.Resolve == nil || opts.ConfigDir == nil {
				t.Errorf("options %+v, want with-token %v for ppctl", opts, tt.withToken)
			}
		})
	}
}

func TestStatusAndLogoutTakeNoFlags(t *testing.T) {
	if _, err := factorytest.Parse(t, factorytest.New(t), newStatus); err != nil {
		t.Error(err)
	}
	if _, err := factorytest.Parse(t, factorytest.New(t), newLogout); err != nil {
		t.Error(err)
	}
	if _, err := factorytest.Parse(t, factorytest.New(t), newLogout, "--all"); err == nil {
		t.Error("logout accepted an unknown flag")
	}
}

func TestLoginRefusesWhatIsNotAnAPIKeyBeforeCallingTheRelay(t *testing.T) {
	ios, in, _, _ := iostreams.Test()
	in.WriteString("ghp_notakey\n")
	opts := &LoginOptions{IO: ios, Program: "ppctl", WithToken: true,
		Resolve: func() (factory.Target, error) {
			t.Fatal("resolved the relay for a bad key")
			return factory.Target{}, nil
		},
		Client: func() (*httpapi.Client, error) {
			t.Fatal("called the relay for a bad key")
			return nil, nil
		},
		ConfigDir: func() (string, error) { return t.TempDir(), nil }}
	err := loginRun(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), `API keys start with "ppk_"`) {
		t.Fatalf("error %v, want the API key form refused", err)
	}
}

func TestLogoutWhenNotLoggedIn(t *testing.T) {
	ios, _, _, errOut := iostreams.Test()
	dir := t.TempDir()
	if err := logoutRun(context.Background(), &LogoutOptions{IO: ios, ConfigDir: func() (string, error) { return dir, nil }}); err != nil {
		t.Fatal(err)
	}
	if got := errOut.String(); got != "Not logged in.\n" {
		t.Errorf("stderr %q, want \"Not logged in.\\n\"", got)
	}
}
