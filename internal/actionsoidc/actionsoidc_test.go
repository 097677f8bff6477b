package actionsoidc_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/patchpanda/patchpanda/internal/actionsoidc"
	"github.com/patchpanda/patchpanda/internal/actionsoidc/actionsoidctest"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

func TestVerify(t *testing.T) {
	iss := actionsoidctest.New(t)
	v, err := actionsoidc.New(actionsoidc.Options{Issuer: iss.URL(), Audience: "patchpanda", HTTPClient: iss.Client()})
	if err != nil {
		t.Fatal(err)
	}
	ids := actionsoidctest.IDs(7, 9)
	tests := []struct {
		name     string
		token    string
		wantCode string
		wantMsg  string
	}{
		{"a good token gives the repository and its ids", iss.Token(t, "acme/widgets", "patchpanda", time.Hour, ids), "", ""},
		{"a token without a repository id is refused", iss.Token(t, "acme/widgets", "patchpanda", time.Hour, map[string]any{"repository_owner_id": "9"}), patchpanda.EUNAUTHORIZED, "repository_id"},
		{"a token without an owner id is refused", iss.Token(t, "acme/widgets", "patchpanda", time.Hour, map[string]any{"repository_id": "7"}), patchpanda.EUNAUTHORIZED, "repository_owner_id"},
		{"a token with a repository id that is not a number is refused", iss.Token(t, "acme/widgets", "patchpanda", time.Hour, map[string]any{"repository_id": "7abc", "repository_owner_id": "9"}), patchpanda.EUNAUTHORIZED, "repository_id"},
		{"a token with a repository name breaking GitHub's rules is refused", iss.Token(t, "acme/..", "patchpanda", time.Hour, ids), patchpanda.EUNAUTHORIZED, "repository"},
		{"an expired token is refused", iss.Token(t, "acme/widgets", "patchpanda", -time.Hour, nil), patchpanda.EUNAUTHORIZED, "expired"},
		{"a token for another audience is refused", iss.Token(t, "acme/widgets", "sigstore", time.Hour, nil), patchpanda.EUNAUTHORIZED, "audience"},
		{"a token from another issuer is refused", iss.Token(t, "acme/widgets", "patchpanda", time.Hour, map[string]any{"iss": "https://evil.example"}), patchpanda.EUNAUTHORIZED, "different provider"},
		{"a token signed by an unknown key is refused", iss.ForeignToken(t, "acme/widgets", "patchpanda"), patchpanda.EUNAUTHORIZED, "signature"},
		{"a token without a repository is refused", iss.Token(t, "", "patchpanda", time.Hour, nil), patchpanda.EUNAUTHORIZED, "repository"},
		{"garbage is refused", "a.b.c", patchpanda.EUNAUTHORIZED, "not valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := v.Authenticate(context.Background(), tt.token)
			if tt.wantCode == "" {
				if err != nil {
					t.Fatal(err)
				}
				want := &patchpanda.Principal{Kind: "actions", Name: "acme/widgets", Scopes: []patchpanda.Scope{patchpanda.ScopeCoverageWrite}, RepositoryID: 7, OwnerID: 9}
				if diff := cmp.Diff(want, p); diff != "" {
					t.Errorf("principal (-want +got):\n%s", diff)
				}
				return
			}
			if got := patchpanda.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("code = %q (%v), want %q", got, err, tt.wantCode)
			}
			if !strings.Contains(patchpanda.ErrorMessage(err), tt.wantMsg) {
				t.Errorf("message %q does not mention %q", patchpanda.ErrorMessage(err), tt.wantMsg)
			}
		})
	}
	if n := iss.JWKSFetches.Load(); n > 3 {
		t.Errorf("the key set was fetched %d times; it should be cached", n)
	}
}

func TestUnreachableIssuerIsUnavailable(t *testing.T) {
	v, err := actionsoidc.New(actionsoidc.Options{Issuer: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(context.Background(), "a.b.c")
	if got := patchpanda.ErrorCode(err); got != patchpanda.EUNAVAILABLE {
		t.Fatalf("code = %q (%v), want unavailable", got, err)
	}
}

type fixed struct{ kind patchpanda.PrincipalKind }

func (f fixed) Authenticate(ctx context.Context, token string) (*patchpanda.Principal, error) {
	return &patchpanda.Principal{Kind: f.kind}, nil
}

func TestChainRoutesByShape(t *testing.T) {
	c := actionsoidc.Chain{Keys: fixed{"key"}, Actions: fixed{"actions"}, Other: fixed{"github_user"}}
	for token, want := range map[string]patchpanda.PrincipalKind{"ppk_abc": "key", "eyJ.eyJ.sig": "actions", "gho_abc": "github_user"} {
		p, err := c.Authenticate(context.Background(), token)
		if err != nil || p.Kind != want {
			t.Errorf("Authenticate(%q) = %v, %v; want kind %q", token, p, err, want)
		}
	}
	c = actionsoidc.Chain{Keys: fixed{"key"}}
	if p, _ := c.Authenticate(context.Background(), "eyJ.eyJ.sig"); p == nil || p.Kind != "key" {
		t.Errorf("without Actions a JWT goes to the key authenticator (which explains keys), got %v", p)
	}
}

func TestForgedTokensDoNotEachFetchTheKeySet(t *testing.T) {
	iss := actionsoidctest.New(t)
	v, err := actionsoidc.New(actionsoidc.Options{Issuer: iss.URL(), HTTPClient: iss.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Authenticate(context.Background(), iss.Token(t, "acme/widgets", "patchpanda", time.Hour, actionsoidctest.IDs(42, 7))); err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		_, err := v.Authenticate(context.Background(), iss.ForeignToken(t, "acme/widgets", "patchpanda"))
		if patchpanda.ErrorCode(err) != patchpanda.EUNAUTHORIZED {
			t.Fatalf("forged token %d: %v, want unauthorized", i, err)
		}
	}
	if n := iss.JWKSFetches.Load(); n > 2 {
		t.Errorf("30 forged tokens made %d key set fetches in all; want at most 2 (one to start, one refetch a minute)", n)
	}
	// A good token still passes with the keys cached.
	if _, err := v.Authenticate(context.Background(), iss.Token(t, "acme/widgets", "patchpanda", time.Hour, actionsoidctest.IDs(42, 7))); err != nil {
		t.Fatal(err)
	}
}

func TestAHangingDiscoveryHoldsNoLockOverOtherCallers(t *testing.T) {
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer hang.Close()
	defer close(release)
	v, err := actionsoidc.New(actionsoidc.Options{Issuer: hang.URL, HTTPClient: hang.Client()})
	if err != nil {
		t.Fatal(err)
	}
	go v.Authenticate(context.Background(), "a.b.c") // stays in discovery until release
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// With the lock held across discovery this call would wait for it; now
	// it gives up with its own context.
	if _, err := v.Authenticate(ctx, "d.e.f"); !errors.Is(err, context.Canceled) {
		t.Errorf("second caller: %v, want context.Canceled", err)
	}
}
