package cmd

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dcrctl/dcrctl/flows/flowstest"
	"github.com/dcrctl/dcrctl/testserver"
	"github.com/dcrctl/dcrctl/testserver/servertest"
)

// resourceWrap lets a test change what dcrctl serve's protected resource (/mcp) and its
// metadata answer, in front of the real server.
type resourceWrap struct {
	mu       sync.Mutex
	resource http.HandlerFunc // nil: the real /mcp
	servers  []string         // nil: the real metadata's authorization_servers
}

func (rw *resourceWrap) set(resource http.HandlerFunc, servers []string) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	rw.resource, rw.servers = resource, servers
}

func (rw *resourceWrap) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw.mu.Lock()
		resource, servers := rw.resource, rw.servers
		rw.mu.Unlock()
		switch {
		case r.URL.Path == "/mcp" && resource != nil:
			resource(w, r)
		case r.URL.Path == "/.well-known/oauth-protected-resource/mcp" && servers != nil:
			iss := "http://" + r.Host
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{"resource": iss + "/mcp", "authorization_servers": servers})
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func startResourceServer(t *testing.T) (*servertest.Server, *resourceWrap) {
	rw := &resourceWrap{}
	ts := servertest.StartWith(t, rw.wrap, func(c *testserver.Config) { c.ResourcePath = "/mcp" })
	return ts, rw
}

// TestTokenCheck: token --resource --check passes only when the resource answers 2xx; a
// refusal names the resource's reason and exits 4, a failing or missing resource exits 3.
func TestTokenCheck(t *testing.T) {
	ts, rw := startResourceServer(t)
	res := ts.Issuer() + "/mcp"
	env := map[string]string{"DCRCTL_CONFIG_DIR": t.TempDir(), "DCRCTL_CLIENT_SECRET": ts.Config.Clients[0].ClientSecret}
	status := func(code int, challenge string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if challenge != "" {
				w.Header().Set("WWW-Authenticate", challenge)
			}
			w.WriteHeader(code)
		}
	}
	for _, tc := range []struct {
		name     string
		resource http.HandlerFunc
		code     int
		want     string
	}{
		{"real_resource", nil, ExitOK, "the resource " + res + " accepted the token (200 OK)\n"},
		{"refused", status(401, `Bearer error="invalid_token", error_description="not for me"`), ExitAuth,
			`--check: the resource ` + res + ` did not accept the token: client: call resource ` + res + `: the server answered 401 Unauthorized with error invalid_token ("not for me"): the resource does not accept this access token`},
		{"insufficient_scope", status(403, `Bearer error="insufficient_scope", scope="tools"`), ExitAuth, "answered 403 Forbidden with error insufficient_scope: the access token lacks a scope the resource needs"},
		{"failing", status(500, ""), ExitServer, "answered 500 Internal Server Error: the resource failed"},
		{"gone", status(404, ""), ExitServer, "answered 404 Not Found: there is nothing at this URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rw.set(tc.resource, nil)
			r := runCLI(t, t.Context(), "", env, "token", "--resource", res, "--client-credentials", "--client-id", testserver.DefaultBootstrapClient, "--check")
			if r.Code != tc.code || !strings.Contains(r.Stderr, tc.want) {
				t.Fatalf("exit %d (want %d), stderr %q; want it to contain %q", r.Code, tc.code, r.Stderr, tc.want)
			}
			if (r.Code == ExitOK) != tokenRE.MatchString(r.Stdout) {
				t.Errorf("stdout %q", r.Stdout)
			}
		})
	}
}

// TestResourceSeveralServers: a resource naming several authorization servers needs --issuer
// to choose (the error lists them); with it, the chosen one is the issuer; --issuer naming
// one it does not list is refused.
func TestResourceSeveralServers(t *testing.T) {
	ts, rw := startResourceServer(t)
	other := servertest.Start(t, nil)
	res := ts.Issuer() + "/mcp"
	rw.set(nil, []string{other.Issuer(), ts.Issuer()})
	env := map[string]string{"DCRCTL_CONFIG_DIR": t.TempDir()}

	r := runCLI(t, t.Context(), "", env, "discover", "--resource", res, "--no-probe")
	if want := "names several authorization servers (" + other.Issuer() + ", " + ts.Issuer() + ")"; r.Code != ExitUsage || !strings.Contains(r.Stderr, want) || !strings.Contains(r.Stderr, "--issuer") {
		t.Errorf("without --issuer: exit %d, stderr %q; want exit 2 naming %s and --issuer", r.Code, r.Stderr, want)
	}
	for _, chosen := range []string{ts.Issuer(), other.Issuer()} {
		r = runCLI(t, t.Context(), "", env, "discover", "--resource", res, "--issuer", chosen, "--no-probe", "-o", "json")
		var d struct{ Issuer string }
		json.Unmarshal([]byte(r.Stdout), &d)
		if r.Code != ExitOK || d.Issuer != chosen || !strings.HasPrefix(r.Stderr, "resource "+res+": authorization server "+chosen+" ") {
			t.Errorf("--issuer %s: exit %d, issuer %q, stderr %q", chosen, r.Code, d.Issuer, r.Stderr)
		}
	}
	r = runCLI(t, t.Context(), "", env, "discover", "--resource", res, "--issuer", "http://127.0.0.1:1", "--no-probe")
	if r.Code != ExitUsage || !strings.Contains(r.Stderr, "does not name http://127.0.0.1:1 among its authorization servers") {
		t.Errorf("--issuer not listed: exit %d, stderr %q", r.Code, r.Stderr)
	}
}

// TestResourceServerChanged: a credential registered through --resource is not used once the
// resource's metadata names another authorization server: login says so and how to register
// anew, before any login starts.
func TestResourceServerChanged(t *testing.T) {
	ts, rw := startResourceServer(t)
	res := ts.Issuer() + "/mcp"
	dir := t.TempDir()
	env := map[string]string{"DCRCTL_KEYSTORE": "file", "DCRCTL_CONFIG_DIR": filepath.Join(dir, "config"),
		"DCRCTL_CLIENT_SECRET": ts.Config.Clients[0].ClientSecret}
	r := runCLI(t, t.Context(), "", env, "register", "--resource", res, "--template", testserver.DefaultTemplate, "--name", "mcp",
		"--client-credentials", "--client-id", testserver.DefaultBootstrapClient)
	if r.Code != ExitOK {
		t.Fatalf("register --resource: exit %d, stderr %q", r.Code, r.Stderr)
	}
	// The credential shows its resource: show (json, env, table) and list.
	for _, args := range [][]string{{"show", "mcp", "-o", "json"}, {"list", "-o", "json"}} {
		r := runCLI(t, t.Context(), "", env, args...)
		var got any
		json.Unmarshal([]byte(r.Stdout), &got)
		if l, ok := got.([]any); ok && len(l) == 1 {
			got = l[0]
		}
		m, _ := got.(map[string]any)
		if r.Code != ExitOK || m["resource"] != res || m["issuer"] != ts.Issuer() {
			t.Errorf("%v: exit %d, resource %v, issuer %v", args, r.Code, m["resource"], m["issuer"])
		}
	}
	if r := runCLI(t, t.Context(), "", env, "show", "mcp", "-o", "env"); !strings.Contains(r.Stdout, "\nDCR_RESOURCE='"+res+"'\n") {
		t.Errorf("show -o env: %q", r.Stdout)
	}
	if r := runCLI(t, t.Context(), "", env, "show", "mcp"); !strings.Contains(r.Stdout, "\nresource  ") || !strings.Contains(r.Stdout, res) {
		t.Errorf("show: %q", r.Stdout)
	}
	rw.set(nil, []string{"https://as.elsewhere.example"})
	br := flowstest.New(testserver.DefaultUser, testserver.DefaultUserPassword)
	l := runUser(t, map[string]string{"DCRCTL_KEYSTORE": "file", "DCRCTL_CONFIG_DIR": filepath.Join(dir, "config")}, br, filepath.Join(dir, "opened"),
		"login", "mcp", "--no-browser")
	want := "the authorization server of resource " + res + " changed: it now names [https://as.elsewhere.example], but \"mcp\" was registered at " + ts.Issuer() +
		"; register anew: dcrctl register --resource " + res + " --name NEW-NAME"
	if l.Code == ExitOK || !strings.Contains(l.Stderr, want) || l.Stdout != "" || br.LoginPages() != 0 {
		t.Errorf("login after the change: exit %d, %d login pages, stdout %q, stderr %q; want it to say %q", l.Code, br.LoginPages(), l.Stdout, l.Stderr, want)
	}
}

// TestResourceUnreachable: when --resource cannot be reached, the advice names --resource,
// not --issuer.
func TestResourceUnreachable(t *testing.T) {
	r := runCLI(t, t.Context(), "", map[string]string{"DCRCTL_CONFIG_DIR": t.TempDir()}, "discover", "--resource", "http://127.0.0.1:1/mcp")
	want := "; nothing is listening there: check the URL in --resource and that the server is running\n"
	if r.Code != ExitError || !strings.HasSuffix(r.Stderr, want) || !strings.Contains(r.Stderr, "client: discover resource: ") {
		t.Errorf("exit %d, stderr %q; want exit 1 ending %q", r.Code, r.Stderr, want)
	}
}
