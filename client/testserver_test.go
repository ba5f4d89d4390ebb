package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/flows"
	"github.com/dcrctl/dcrctl/testserver"
	"github.com/dcrctl/dcrctl/testserver/servertest"
)

// TestAgainstTestserver runs the SDK against dcrctl's own server, written independently
// from the RFCs, under every rotation policy: whatever the server rotates, the Registration
// returned by each call must carry credentials that work for the next call, and the ones it
// replaced must stop working.
func TestAgainstTestserver(t *testing.T) {
	tests := []struct {
		name          string
		token, secret testserver.Rotation
	}{
		{"never", testserver.RotateNever, testserver.RotateNever},
		{"token on update", testserver.RotateOnUpdate, testserver.RotateNever},
		{"token and secret on update", testserver.RotateOnUpdate, testserver.RotateOnUpdate},
		{"curity: both on read and update", testserver.RotateOnReadAndUpdate, testserver.RotateOnReadAndUpdate},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := servertest.Start(t, func(c *testserver.Config) {
				c.RotateRegistrationToken, c.RotateClientSecret = tc.token, tc.secret
			}).Config
			ctx := context.Background()
			var c client.Client

			md, err := c.Discover(ctx, cfg.Issuer)
			if err != nil {
				t.Fatal(err)
			}
			cc := flows.ClientCredentials{TokenURL: md.TokenEndpoint, ClientID: cfg.Clients[0].ClientID,
				ClientSecret: cfg.Clients[0].ClientSecret, Scopes: []string{"dcr"}}
			tok, err := cc.Token(ctx)
			if err != nil {
				t.Fatal(err)
			}
			meta := client.Metadata{
				ClientName: "cross-check", GrantTypes: []string{"client_credentials"}, ResponseTypes: []string{},
				Scope: "openid", Extra: map[string]json.RawMessage{"x_cross": json.RawMessage(`{"n":1}`)},
			}
			reg, err := c.Register(ctx, md.RegistrationEndpoint, tok.AccessToken, meta)
			if err != nil {
				t.Fatal(err)
			}
			if string(reg.Extra["x_cross"]) != `{"n":1}` {
				t.Errorf("vendor member not echoed: %s", reg.Extra["x_cross"])
			}
			// The secret is a real credential: it works at the token endpoint.
			works := func(r *client.Registration) bool {
				_, err := flows.ClientCredentials{TokenURL: md.TokenEndpoint, ClientID: r.ClientID, ClientSecret: r.ClientSecret, Scopes: []string{"openid"}}.Token(ctx)
				return err == nil
			}
			if !works(reg) {
				t.Fatal("the registered secret does not work")
			}

			steps := []struct {
				name   string
				rotate bool // whether this step may rotate under the policy
				call   func(*client.Registration) (*client.Registration, error)
			}{
				{"read", tc.token == testserver.RotateOnReadAndUpdate, func(r *client.Registration) (*client.Registration, error) { return c.Read(ctx, r) }},
				{"update", tc.token != testserver.RotateNever, func(r *client.Registration) (*client.Registration, error) {
					m := r.Metadata
					m.ClientName += "+"
					return c.Update(ctx, r, m)
				}},
				{"read again", tc.token == testserver.RotateOnReadAndUpdate, func(r *client.Registration) (*client.Registration, error) { return c.Read(ctx, r) }},
			}
			for _, st := range steps {
				next, err := st.call(reg)
				if err != nil {
					t.Fatalf("%s: %v", st.name, err)
				}
				if rotated := next.RegistrationAccessToken != reg.RegistrationAccessToken; rotated != st.rotate {
					t.Errorf("%s: token rotated = %v, want %v", st.name, rotated, st.rotate)
				}
				if next.ClientSecret != reg.ClientSecret && !works(next) {
					t.Errorf("%s: the rotated secret does not work", st.name)
				}
				if next.ClientSecret != reg.ClientSecret && works(reg) {
					t.Errorf("%s: the replaced secret still works", st.name)
				}
				if st.rotate {
					if _, err := c.Read(ctx, reg); !errors.Is(err, &client.Error{StatusCode: 401}) {
						t.Errorf("%s: the replaced token still works (%v)", st.name, err)
					}
					// That refused read may have revoked nothing else: carry on with next.
				}
				reg = next
			}
			if reg.ClientName != "cross-check+" {
				t.Errorf("client_name after update = %q", reg.ClientName)
			}
			again, err := c.Read(ctx, reg)
			if err != nil {
				t.Fatal(err)
			}
			if tc.token != testserver.RotateOnReadAndUpdate && !reflect.DeepEqual(again, reg) {
				t.Errorf("read without rotation differs:\n got %v\nwant %v", again, reg)
			}
			if err := c.Delete(ctx, again); err != nil {
				t.Fatal(err)
			}
			if works(again) {
				t.Error("the deleted client's secret still works")
			}
			if err := c.Delete(ctx, again, client.TreatUnauthorizedAsDeleted()); err != nil {
				t.Errorf("repeated delete with TreatUnauthorizedAsDeleted: %v", err)
			}
		})
	}
}

// TestUpdateSendsIfMatch: two writers read the same registration; the first update lands,
// the second is refused with 412 (ErrPreconditionFailed) instead of silently overwriting it,
// and succeeds after a fresh read. Without If-Match the second write would win (rotation
// never, as in the issue).
func TestUpdateSendsIfMatch(t *testing.T) {
	cfg := servertest.Start(t, nil).Config
	ctx := context.Background()
	var c client.Client
	md, err := c.Discover(ctx, cfg.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := flows.ClientCredentials{TokenURL: md.TokenEndpoint, ClientID: cfg.Clients[0].ClientID,
		ClientSecret: cfg.Clients[0].ClientSecret, Scopes: []string{"dcr"}}.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := c.Register(ctx, md.RegistrationEndpoint, tok.AccessToken, client.Metadata{ClientName: "etag",
		GrantTypes: []string{"client_credentials"}, ResponseTypes: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if reg.ETag == "" {
		t.Fatal("no ETag on the registration response")
	}
	a, err := c.Read(ctx, reg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Read(ctx, reg)
	if err != nil {
		t.Fatal(err)
	}
	if a.ETag == "" || a.ETag != b.ETag {
		t.Fatalf("ETags of two reads: %q, %q", a.ETag, b.ETag)
	}
	ma := a.Metadata
	ma.ClientName = "first"
	if _, err := c.Update(ctx, a, ma); err != nil {
		t.Fatal(err)
	}
	mb := b.Metadata
	mb.ClientName = "second"
	_, err = c.Update(ctx, b, mb)
	var ce *client.Error
	if !errors.Is(err, client.ErrPreconditionFailed) || !errors.As(err, &ce) || ce.StatusCode != 412 ||
		!strings.Contains(err.Error(), "read it again, re-apply the change and retry") {
		t.Fatalf("second update: %v, want 412 ErrPreconditionFailed", err)
	}
	now, err := c.Read(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if now.ClientName != "first" {
		t.Errorf("after the refused update client_name = %q, want first", now.ClientName)
	}
	mb = now.Metadata
	mb.ClientName = "second"
	if got, err := c.Update(ctx, now, mb); err != nil || got.ClientName != "second" {
		t.Errorf("update after a fresh read: %v, %v", got, err)
	}
}
