package matrix_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/flows"
	"github.com/dcrctl/dcrctl/testserver"
	"github.com/dcrctl/dcrctl/testserver/servertest"
)

// peer is a running profile and the SDK's view of it.
type peer struct {
	t   *testing.T
	srv *servertest.Server
	b   testserver.Behaviour
	c   client.Client
	md  *client.ServerMetadata
}

func startPeer(t *testing.T, profile string, mut func(*testserver.Config)) *peer {
	t.Helper()
	srv := servertest.Start(t, func(c *testserver.Config) {
		c.BehaveLike = profile
		if mut != nil {
			mut(c)
		}
	})
	p := &peer{t: t, srv: srv, b: srv.Server.Behaviour()}
	p.md = p.discover()
	return p
}

// discover finds the endpoints the way a careful client does: discovery, then the documented
// registration endpoint where discovery does not publish it.
func (p *peer) discover() *client.ServerMetadata {
	p.t.Helper()
	ctx := context.Background()
	iss := p.srv.Issuer()
	md, err := p.c.Discover(ctx, iss)
	if p.b.IssuerTrailingSlash {
		// RFC 8414 §3.3: the issuer in the document must be the one asked for. A server
		// that adds "/" is asked again with its own spelling.
		if !errors.Is(err, client.ErrIssuerMismatch) {
			p.t.Fatalf("discovery of an issuer with a trailing slash: got %v, want an issuer mismatch", err)
		}
		md, err = p.c.Discover(ctx, iss+"/")
	}
	if err != nil {
		p.t.Fatalf("discover: %v", err)
	}
	if !p.b.DiscoveryRegistrationEndpoint {
		if md.RegistrationEndpoint != "" {
			p.t.Fatalf("discovery has registration_endpoint %q; the profile hides it", md.RegistrationEndpoint)
		}
		// Hydra documents /oauth2/register; the caller passes it as an override.
		md, err = p.c.Resolve(ctx, md.Issuer, client.Endpoints{Registration: iss + p.b.RegistrationPath})
		if err != nil {
			p.t.Fatalf("resolve with the registration endpoint override: %v", err)
		}
	}
	return md
}

// initialToken is a client-credentials token with scope dcr, or "" in open mode.
func (p *peer) initialToken() string {
	p.t.Helper()
	if p.b.Registration == testserver.ModeOpen {
		return ""
	}
	boot := p.srv.Config.Clients[0]
	tok, err := flows.ClientCredentials{TokenURL: p.md.TokenEndpoint, ClientID: boot.ClientID, ClientSecret: boot.ClientSecret, Scopes: []string{"dcr"}}.Token(context.Background())
	if err != nil {
		p.t.Fatal(err)
	}
	return tok.AccessToken
}

// secretWorks reports whether reg's secret gets a token, with reg's own auth method.
func (p *peer) secretWorks(reg *client.Registration) bool {
	_, err := flows.ClientCredentials{TokenURL: p.md.TokenEndpoint, ClientID: reg.ClientID, ClientSecret: reg.ClientSecret,
		AuthMethod: reg.TokenEndpointAuthMethod, Scopes: []string{"openid"}}.Token(context.Background())
	return err == nil
}

func machineClient() client.Metadata {
	return client.Metadata{ClientName: "matrix", GrantTypes: []string{"client_credentials"}, ResponseTypes: []string{}, Scope: "openid",
		Extra: map[string]json.RawMessage{"x_matrix": json.RawMessage(`"v"`)}}
}

// TestProfileMatrix: register, read, update and delete with the SDK against every profile,
// keeping whatever credentials each call returns (rotation persistence). A behaviour the SDK
// cannot work with must end in an error that names it.
func TestProfileMatrix(t *testing.T) {
	for _, prof := range testserver.Profiles() {
		t.Run(prof.Name, func(t *testing.T) {
			p := startPeer(t, prof.Name, nil)
			ctx := context.Background()
			reg, err := p.c.Register(ctx, p.md.RegistrationEndpoint, p.initialToken(), machineClient())
			switch {
			case p.b.VendorMembers == testserver.MemberReject:
				// Keycloak refuses vendor members: the error names the member and the rule.
				if !errors.Is(err, client.ErrInvalidClientMetadata) || !strings.Contains(err.Error(), "x_matrix") {
					t.Fatalf("registration with a vendor member: got %v, want invalid_client_metadata naming x_matrix", err)
				}
				md := machineClient()
				md.Extra = nil
				reg, err = p.c.Register(ctx, p.md.RegistrationEndpoint, p.initialToken(), md)
			case p.b.VendorMembers == testserver.MemberStrip && err == nil:
				if _, ok := reg.Extra["x_matrix"]; ok {
					t.Error("a stripped vendor member came back")
				}
			}
			if err != nil {
				t.Fatalf("register: %v", err)
			}
			if !p.secretWorks(reg) {
				t.Fatalf("the registered secret does not work (auth method %q)", reg.TokenEndpointAuthMethod)
			}
			if !p.b.Management {
				// No RFC 7592: the SDK says so instead of guessing a URI.
				_, err := p.c.Read(ctx, reg)
				if err == nil || !strings.Contains(err.Error(), "RFC 7592") {
					t.Fatalf("read without RFC 7592: got %v, want an error naming RFC 7592", err)
				}
				return
			}
			steps := []struct {
				name string
				call func(*client.Registration) (*client.Registration, error)
			}{
				{"read", func(r *client.Registration) (*client.Registration, error) { return p.c.Read(ctx, r) }},
				{"update", func(r *client.Registration) (*client.Registration, error) {
					m := r.Metadata
					m.ClientName = "matrix renamed"
					return p.c.Update(ctx, r, m)
				}},
				{"read again", func(r *client.Registration) (*client.Registration, error) { return p.c.Read(ctx, r) }},
			}
			for _, st := range steps {
				next, err := st.call(reg)
				if err != nil {
					t.Fatalf("%s: %v", st.name, err)
				}
				if !p.secretWorks(next) {
					t.Fatalf("%s: the secret the SDK kept does not work", st.name)
				}
				if next.RegistrationAccessToken != reg.RegistrationAccessToken {
					if _, err := p.c.Read(ctx, reg); !errors.Is(err, client.ErrInvalidToken) {
						t.Errorf("%s: the replaced registration access token still works (%v)", st.name, err)
					}
				}
				reg = next
			}
			if reg.ClientName != "matrix renamed" {
				t.Errorf("client_name after update: %q", reg.ClientName)
			}
			if err := p.c.Delete(ctx, reg); err != nil {
				t.Fatalf("delete: %v", err)
			}
			if _, err := p.c.Read(ctx, reg); !errors.Is(err, client.ErrInvalidToken) {
				t.Errorf("read after delete: %v", err)
			}
		})
	}
}
