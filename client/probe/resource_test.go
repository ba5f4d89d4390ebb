package probe_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/dcrctl/dcrctl/client/probe"
	"github.com/dcrctl/dcrctl/testserver"
	"github.com/dcrctl/dcrctl/testserver/servertest"
)

// resource is a protected resource (RFC 9728) in front of the authorization server issuer:
// it serves its metadata at the path-aware well-known URL (wellKnown), or only through a
// 401's resource_metadata parameter; claim is the resource identifier its metadata names
// ("" = its own URL + /mcp).
func resource(t *testing.T, issuer string, wellKnown bool, claim string) string {
	var hs *httptest.Server
	meta := func(w http.ResponseWriter) {
		res := claim
		if res == "" {
			res = hs.URL + "/mcp"
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"resource": res, "authorization_servers": []string{issuer}})
	}
	hs = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case wellKnown && r.URL.Path == "/.well-known/oauth-protected-resource/mcp":
			meta(w)
		case !wellKnown && r.URL.Path == "/meta":
			meta(w)
		case r.URL.Path == "/mcp":
			// RFC 9728 §5.1: the challenge names the metadata.
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", resource_metadata="`+hs.URL+`/meta"`)
			w.WriteHeader(http.StatusUnauthorized)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(hs.Close)
	return hs.URL + "/mcp"
}

// TestProbeProtectedResource: given a protected resource, the probe finds its
// authorization server through RFC 9728 metadata (at the well-known URL, or named by a
// 401), and probes that server; metadata naming another resource is a violation.
func TestProbeProtectedResource(t *testing.T) {
	srv := servertest.Start(t, nil)
	for _, tc := range []struct {
		name      string
		wellKnown bool
		claim     string
		want      probe.Result
		issuer    string
	}{
		{"well-known", true, "", probe.Yes, srv.Issuer()},
		{"401 resource_metadata", false, "", probe.Yes, srv.Issuer()},
		{"another resource", true, "https://other.example/mcp", probe.Violation, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := resource(t, srv.Issuer(), tc.wellKnown, tc.claim)
			// The full probe once (the tokens go to the server, never to the resource).
			opts := probe.Options{URL: u, NoRegister: !tc.wellKnown, InitialToken: tokenSource(srv, []string{"dcr"})}
			rep, err := probe.Run(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			c, _ := rep.Check("protected_resource")
			d, _ := rep.Check("discovery")
			wantDiscovery := probe.Yes
			if tc.issuer == "" {
				wantDiscovery = probe.Skipped
			}
			m, _ := rep.Check("registration_mode")
			if tc.wellKnown && tc.issuer != "" && (m.Value != "protected" || len(rep.Registered) != 2 || len(rep.Undeleted) != 0) {
				t.Errorf("registration_mode %+v, registered %v, undeleted %v: the probe behind a resource did not register and delete", m, rep.Registered, rep.Undeleted)
			}
			if c.Result != tc.want || rep.Issuer != tc.issuer || d.Result != wantDiscovery {
				t.Errorf("protected_resource %s (%s%s), issuer %q, discovery %s; want %s, %q, %s",
					c.Result, c.Detail, c.Skipped, rep.Issuer, d.Result, tc.want, tc.issuer, wantDiscovery)
			}
		})
	}
}

// TestProbeServeAsResource probes dcrctl serve --resource-path /mcp given the resource's URL:
// the real server's RFC 9728 metadata leads to it.
func TestProbeServeAsResource(t *testing.T) {
	srv := servertest.Start(t, func(c *testserver.Config) { c.ResourcePath = "/mcp" })
	rep, err := probe.Run(context.Background(), probe.Options{URL: srv.Issuer() + "/mcp", InitialToken: tokenSource(srv, []string{"dcr"})})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := rep.Check("protected_resource")
	iss, _ := rep.Check("iss_parameter")
	if c.Result != probe.Yes || rep.Issuer != srv.Issuer() || len(rep.Registered) != 2 || len(rep.Undeleted) != 0 || iss.Result != probe.Yes {
		t.Errorf("protected_resource %s (%s), issuer %q, iss_parameter %s, registered %v, undeleted %v", c.Result, c.Detail, rep.Issuer,
			iss.Result, rep.Registered, rep.Undeleted)
	}
}
