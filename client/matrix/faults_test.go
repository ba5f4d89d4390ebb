package matrix_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/flows"
	"github.com/dcrctl/dcrctl/flows/flowstest"
	"github.com/dcrctl/dcrctl/testserver"
)

// The client side of each control-API fault: the SDK reports what happened in terms a
// caller can act on, and the credentials it holds stay usable.

func TestPrunedClient(t *testing.T) {
	p := startPeer(t, "strict", nil)
	ctx := context.Background()
	reg, err := p.c.Register(ctx, p.md.RegistrationEndpoint, p.initialToken(), machineClient())
	if err != nil {
		t.Fatal(err)
	}
	if err := p.srv.Server.DeleteClient(ctx, reg.ClientID); err != nil {
		t.Fatal(err)
	}
	_, err = p.c.Read(ctx, reg)
	if !errors.Is(err, client.ErrInvalidToken) || !strings.Contains(err.Error(), "no longer exists") {
		t.Errorf("read of a pruned client: %v", err)
	}
	if p.secretWorks(reg) {
		t.Error("the pruned client's secret still works")
	}
	// Cleaning up a pruned registration is not an error for a caller that says so.
	if err := p.c.Delete(ctx, reg, client.TreatUnauthorizedAsDeleted()); err != nil {
		t.Errorf("delete of a pruned client with TreatUnauthorizedAsDeleted: %v", err)
	}
}

func TestRateLimited(t *testing.T) {
	p := startPeer(t, "strict", nil)
	ctx := context.Background()
	tok := p.initialToken()
	if err := p.srv.Server.InjectFault(testserver.EndpointRegistration, testserver.Fault{Count: 1, Status: 429, RetryAfter: 2 * time.Second}); err != nil {
		t.Fatal(err)
	}
	_, err := p.c.Register(ctx, p.md.RegistrationEndpoint, tok, machineClient())
	var ce *client.Error
	if !errors.As(err, &ce) || ce.StatusCode != 429 || !strings.Contains(err.Error(), "rate limiting") {
		t.Fatalf("registration under 429: %v", err)
	}
	// The refused request used nothing up: the same single-use token registers now.
	if _, err := p.c.Register(ctx, p.md.RegistrationEndpoint, tok, machineClient()); err != nil {
		t.Errorf("retry after the 429: %v", err)
	}
}

// TestUnavailableDuringUpdate: a 503 on an update loses nothing. Under curity's rotation the
// registration the SDK still holds is the current one, and the next update goes through.
func TestUnavailableDuringUpdate(t *testing.T) {
	p := startPeer(t, "curity", nil)
	ctx := context.Background()
	reg, err := p.c.Register(ctx, p.md.RegistrationEndpoint, p.initialToken(), machineClient())
	if err != nil {
		t.Fatal(err)
	}
	if err := p.srv.Server.InjectFault(testserver.EndpointClientConfiguration, testserver.Fault{Count: 1, Status: 503, RetryAfter: time.Second}); err != nil {
		t.Fatal(err)
	}
	m := reg.Metadata
	m.ClientName = "after the outage"
	_, err = p.c.Update(ctx, reg, m)
	var ce *client.Error
	if !errors.As(err, &ce) || ce.StatusCode != 503 || !strings.Contains(err.Error(), "try again later") {
		t.Fatalf("update under 503: %v", err)
	}
	cur, err := p.c.Read(ctx, reg)
	if err != nil {
		t.Fatalf("the held registration after the failed update: %v", err)
	}
	if cur.ClientName != "matrix" || !p.secretWorks(cur) {
		t.Errorf("after the failed update: name %q, secret works %v", cur.ClientName, p.secretWorks(cur))
	}
	next, err := p.c.Update(ctx, cur, m)
	if err != nil || next.ClientName != "after the outage" || !p.secretWorks(next) {
		t.Errorf("update after the outage: %v", err)
	}
}

// TestRotatedSigningKey: an ID token verifier that caches the JWKS and fetches it again for
// an unknown kid (OpenID Connect Core §10.1.1) keeps verifying across a key rotation.
func TestRotatedSigningKey(t *testing.T) {
	p := startPeer(t, "strict", nil)
	ctx := context.Background()
	br := flowstest.New(testserver.DefaultUser, testserver.DefaultUserPassword)
	login := func() string {
		tok, err := flows.BrowserLogin{Issuer: p.srv.Issuer(), ClientID: testserver.DefaultNativeClient, Scopes: []string{"openid"},
			OpenURL: br.Open, Timeout: 20 * time.Second}.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return tok.IDToken
	}
	var cached jose.JSONWebKeySet
	fetches := 0
	fetch := func() {
		fetches++
		res, err := http.Get(p.md.JWKSURI)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if err := json.NewDecoder(res.Body).Decode(&cached); err != nil {
			t.Fatal(err)
		}
	}
	verify := func(idt string) error {
		jws, err := jose.ParseSigned(idt, []jose.SignatureAlgorithm{jose.RS256})
		if err != nil {
			return err
		}
		kid := jws.Signatures[0].Header.KeyID
		if len(cached.Key(kid)) == 0 {
			fetch()
		}
		keys := cached.Key(kid)
		if len(keys) == 0 {
			return errors.New("no key " + kid)
		}
		_, err = jws.Verify(keys[0])
		return err
	}
	if err := verify(login()); err != nil {
		t.Fatal(err)
	}
	if _, err := p.srv.Server.RotateSigningKey(ctx); err != nil {
		t.Fatal(err)
	}
	if err := verify(login()); err != nil {
		t.Errorf("after the rotation: %v", err)
	}
	if fetches != 2 {
		t.Errorf("JWKS fetched %d times, want 2 (once, then for the new kid)", fetches)
	}
}

// TestLoginMatrix: a browser login with the static native client on every profile. A server
// that matches loopback redirect URIs exactly (mcp-sdk) refuses a random port, and the
// login succeeds with a client registered for the exact port it listens on.
func TestLoginMatrix(t *testing.T) {
	for _, prof := range testserver.Profiles() {
		t.Run(prof.Name, func(t *testing.T) {
			p := startPeer(t, prof.Name, nil)
			ctx := context.Background()
			br := flowstest.New(testserver.DefaultUser, testserver.DefaultUserPassword)
			scopes := []string{"openid"}
			if slices.Contains(p.b.DiscoveryHide, "jwks_uri") {
				// Not an OpenID provider (no jwks_uri to check an ID token with): no openid.
				scopes = []string{"profile"}
			}
			l := flows.BrowserLogin{Issuer: p.md.Issuer, ClientID: testserver.DefaultNativeClient, Scopes: scopes,
				OpenURL: br.Open, Timeout: 20 * time.Second}
			if !p.b.LoopbackAnyPort {
				l.Timeout = 2 * time.Second // the refusal is shown in the browser, not sent back
			}
			_, err := l.Token(ctx)
			if p.b.LoopbackAnyPort {
				if err != nil {
					t.Fatalf("login: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("a random loopback port was accepted by a server that matches exactly")
			}
			if page := br.Last().Body; !strings.Contains(page, "matches every redirect URI exactly") {
				t.Errorf("the browser was not told why: %.300s", page)
			}
			l.Timeout = 20 * time.Second
			port := freePort(t)
			redirect := "http://127.0.0.1:" + strconv.Itoa(port) + "/callback"
			reg, err := p.c.Register(ctx, p.md.RegistrationEndpoint, p.initialToken(), client.Metadata{ClientName: "exact port",
				RedirectURIs: []string{redirect}, GrantTypes: []string{"authorization_code"}, ResponseTypes: []string{"code"}, TokenEndpointAuthMethod: "none"})
			if err != nil {
				t.Fatal(err)
			}
			l.ClientID, l.CallbackPort = reg.ClientID, port
			if _, err := l.Token(ctx); err != nil {
				t.Errorf("login on the registered port: %v", err)
			}
		})
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
