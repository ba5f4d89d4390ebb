package keystore

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// needComponent fails the test when a real component the test needs is missing and CI=true
// (or the test was asked for explicitly with DCRCTL_TEST_KEYRING=1), and skips it otherwise.
func needComponent(t testing.TB, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" || os.Getenv("DCRCTL_TEST_KEYRING") == "1" {
		t.Fatalf("%s is required here (CI=true or DCRCTL_TEST_KEYRING=1) but missing: %v", what, err)
	}
	t.Skipf("%s not available (set CI=true or DCRCTL_TEST_KEYRING=1 to require it): %v", what, err)
}

// ctxT returns a context bounded by a minute, canceled at the end of the test.
func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// credDiff names the fields in which got differs from want, showing values only for
// non-secret fields, so that a failing test never prints a secret.
func credDiff(got, want Credential) string {
	var diffs []string
	gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := range gv.NumField() {
		f := gv.Type().Field(i)
		if reflect.DeepEqual(gv.Field(i).Interface(), wv.Field(i).Interface()) {
			continue
		}
		switch f.Name {
		case "ClientSecret", "RegistrationAccessToken", "RefreshToken", "AccessToken":
			diffs = append(diffs, fmt.Sprintf("%s differs (secret: %d bytes, want %d bytes)", f.Name, gv.Field(i).Len(), wv.Field(i).Len()))
		case "Registration":
			diffs = append(diffs, fmt.Sprintf("Registration = %s, want %s", got.Registration, want.Registration))
		default:
			diffs = append(diffs, fmt.Sprintf("%s = %#v, want %#v", f.Name, gv.Field(i).Interface(), wv.Field(i).Interface()))
		}
	}
	return strings.Join(diffs, "; ")
}

func credsDiff(got, want []Credential) string {
	if len(got) != len(want) {
		names := func(cs []Credential) (n []string) {
			for _, c := range cs {
				n = append(n, c.Name)
			}
			return n
		}
		return fmt.Sprintf("got %d credentials %q, want %d %q", len(got), names(got), len(want), names(want))
	}
	var diffs []string
	for i := range got {
		if d := credDiff(got[i], want[i]); d != "" {
			diffs = append(diffs, fmt.Sprintf("[%d] %s", i, d))
		}
	}
	return strings.Join(diffs, "\n")
}

// sample returns a complete credential; the secrets are derived from name and gen so that a
// rotation changes them.
func sample(name string, gen int) Credential {
	return Credential{
		Name:                    name,
		Issuer:                  "https://as.example.test",
		ClientID:                "client-" + name,
		RegistrationClientURI:   "https://as.example.test/register/client-" + name,
		Template:                "mobile-app",
		GrantTypes:              []string{"authorization_code", "refresh_token"},
		RedirectURIs:            []string{"http://127.0.0.1/callback"},
		IssuedAt:                time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC),
		SecretExpiresAt:         time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
		ClientSecret:            fmt.Sprintf("cs-%s-%d-Ü€𝄞", name, gen),
		RegistrationAccessToken: fmt.Sprintf("rat-%s-%d", name, gen),
		RefreshToken:            fmt.Sprintf("rt-%s-%d", name, gen),
		AccessToken:             fmt.Sprintf("at-%s-%d", name, gen),
		TokenExpiry:             time.Date(2025, 3, 1, 13, 0, 0, 0, time.UTC),
		TokenScope:              "openid",
		TokenEndpoint:           "https://as.example.test/token",
		AuthorizationEndpoint:   "https://as.example.test/authorize",
		Resource:                "https://mcp.example.test/mcp",
		Registration:            []byte(`{"client_id":"client-` + name + `","client_name":"App","x-vendor":{"a":[1,2]}}`),
		LastRequest:             []byte(`{"metadata":{"client_name":"App"},"changes":[{"member":"scope","kind":"ignored"}]}`),
	}
}

// in returns c as a store of the given kind returns it: with Keystore set.
func in(kind string, c Credential) Credential {
	c.Keystore = kind
	return c
}

// kindOf returns the kind of a store under test.
func kindOf(s Store) string {
	switch s := s.(type) {
	case *Memory:
		return KindMemory
	case *indexedStore:
		return s.kind
	}
	return "?"
}
