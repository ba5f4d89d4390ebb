package cmd

import (
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcrctl/dcrctl/flows/flowstest"
	"github.com/dcrctl/dcrctl/testserver"
	"github.com/dcrctl/dcrctl/testserver/servertest"
)

// issRewriter wraps the real server: its authorization responses (the redirects of
// /authorize) get iss replaced by iss, or removed when iss is "" — the authorization response
// of a mix-up attack (RFC 9207 §2.4), or of a server that advertises
// authorization_response_iss_parameter_supported and does not keep its word.
func issRewriter(iss string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/authorize" {
				next.ServeHTTP(w, r)
				return
			}
			next.ServeHTTP(&locationRewriter{ResponseWriter: w, iss: iss}, r)
		})
	}
}

type locationRewriter struct {
	http.ResponseWriter
	iss string
}

func (l *locationRewriter) WriteHeader(status int) {
	if loc, err := url.Parse(l.Header().Get("Location")); err == nil && loc.Query().Has("iss") {
		q := loc.Query()
		if l.iss == "" {
			q.Del("iss")
		} else {
			q.Set("iss", l.iss)
		}
		loc.RawQuery = q.Encode()
		l.Header().Set("Location", loc.String())
	}
	l.ResponseWriter.WriteHeader(status)
}

// TestLoginChecksIss: dcrctl token --login against dcrctl serve, whose authorization
// responses are rewritten on their way out: a foreign iss (success or error response) and a
// missing one (the server advertises authorization_response_iss_parameter_supported) stop the
// login with the RFC 9207 mix-up error and exit 4, without exchanging a code; the same login
// with the server's own iss succeeds.
func TestLoginChecksIss(t *testing.T) {
	const attacker = "https://as.attacker.example"
	for _, tc := range []struct {
		name, iss, scope string
		code             int
		want             string
	}{
		{"own_iss", "-", "dcr", ExitOK, ""},
		{"foreign_iss", attacker, "dcr", ExitAuth, "the redirect came from another issuer than the one this login started at (RFC 9207 mix-up defence)"},
		{"foreign_iss_on_an_error", attacker, "no-such-scope", ExitAuth, "the redirect came from another issuer than the one this login started at (RFC 9207 mix-up defence)"},
		{"missing_iss", "", "dcr", ExitAuth, "the server says its authorization responses carry iss (authorization_response_iss_parameter_supported), but the browser's redirect has none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wrap := issRewriter(tc.iss)
			if tc.iss == "-" {
				wrap = func(h http.Handler) http.Handler { return h }
			}
			ts := servertest.StartWith(t, wrap, nil)
			br := flowstest.New(testserver.DefaultUser, testserver.DefaultUserPassword)
			dir := t.TempDir()
			env := map[string]string{"DCRCTL_CONFIG_DIR": filepath.Join(dir, "config")}
			r := runUser(t, env, br, filepath.Join(dir, "opened"), "token", "--issuer", ts.Issuer(), "--login", "--no-browser",
				"--client-id", testserver.DefaultNativeClient, "--scope", tc.scope)
			if r.Code != tc.code || !strings.Contains(r.Stderr, tc.want) {
				t.Fatalf("exit %d (want %d), stderr %q; want it to say %q", r.Code, tc.code, r.Stderr, tc.want)
			}
			if tc.code != ExitOK && (r.Stdout != "" || strings.Contains(r.Stderr, "invalid_scope")) {
				t.Errorf("a refused authorization response still gave stdout %q or the server's error: %q", r.Stdout, r.Stderr)
			}
			if tc.code == ExitOK && !tokenRE.MatchString(r.Stdout) {
				t.Errorf("stdout %q is not one access token", r.Stdout)
			}
		})
	}
}
