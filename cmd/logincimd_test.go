package cmd

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcrctl/dcrctl/flows/flowstest"
	"github.com/dcrctl/dcrctl/testserver"
)

// cimdDocs is a loopback TLS server for Client ID Metadata Documents written by dcrctl cimd
// init, and the PEM file of its certificate (for --ca-file).
type cimdDocs struct {
	hs  *httptest.Server
	ca  string
	dir string // the files served
}

func startCIMDDocs(t *testing.T) *cimdDocs {
	t.Helper()
	dir := t.TempDir()
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.Handle("/", http.FileServer(http.Dir(dir)))
	mux.HandleFunc("/slow.json", func(w http.ResponseWriter, r *http.Request) {
		select { // never answers in time
		case <-r.Context().Done():
		case <-release:
		}
	})
	hs := httptest.NewTLSServer(mux)
	t.Cleanup(func() { close(release); hs.Close() })
	d := &cimdDocs{hs: hs, ca: filepath.Join(t.TempDir(), "docs-ca.pem"), dir: dir}
	if err := os.WriteFile(d.ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: hs.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return d
}

// write runs dcrctl cimd init for a document served at path.
func (d *cimdDocs) write(t *testing.T, path string, args ...string) string {
	t.Helper()
	id := d.hs.URL + path
	file := filepath.Join(d.dir, filepath.FromSlash(strings.TrimPrefix(path, "/")))
	r := runCLI(t, context.Background(), "", nil, append([]string{"cimd", "init", "--client-id", id, "--write", file}, args...)...)
	if r.Code != ExitOK {
		t.Fatalf("cimd init: exit %d: %s", r.Code, r.Stderr)
	}
	return id
}

// TestCIMDLoginEndToEnd: dcrctl cimd init writes a document, a loopback TLS server serves it,
// dcrctl serve --cimd --cimd-allow-loopback fetches it, and dcrctl login --client-id logs in
// as that client in a (scripted) browser: a token, no registration, nothing stored.
func TestCIMDLoginEndToEnd(t *testing.T) {
	docs := startCIMDDocs(t)
	id := docs.write(t, "/app.json", "--client-name", "CIMD App", "--redirect-uri", "http://127.0.0.1/callback")
	srv := startServe(t, nil, "-o", "json", "--memory", "--addr", "127.0.0.1:0", "--log-format", "none",
		"--cimd", "--cimd-allow-loopback", "--ca-file", docs.ca)
	issuer := srv.readyLine(t)["issuer"].(string)

	home := t.TempDir()
	env := map[string]string{"HOME": home, "DCRCTL_CONFIG_DIR": filepath.Join(home, "config"), "DCRCTL_KEYSTORE": "file"}
	br := flowstest.New(testserver.DefaultUser, testserver.DefaultUserPassword)
	r := runUser(t, env, br, filepath.Join(home, "none"), "login", "--issuer", issuer, "--client-id", id, "--no-browser",
		"--ca-file", docs.ca, "-o", "json")
	if r.Code != ExitOK {
		t.Fatalf("login: exit %d, stderr %s", r.Code, r.Stderr)
	}
	var tok map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &tok); err != nil || tok["token_type"] != "Bearer" || tok["access_token"] == "" || tok["scope"] != "openid" {
		t.Errorf("token: %v %s", err, r.Stdout)
	}
	v := br.Last()
	if !strings.Contains(v.URL, "client_id="+urlQuery(id)) || !strings.Contains(v.URL, "code_challenge_method=S256") || v.LoginPages != 1 {
		t.Errorf("browser visit: %s (%d login pages)", v.URL, v.LoginPages)
	}
	// Nothing was stored: no file under HOME.
	filepath.WalkDir(home, func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			t.Errorf("login --client-id wrote %s", p)
		}
		return nil
	})
	// The same login against a server without --cimd is refused before the browser.
	plain := startServe(t, nil, "-o", "json", "--memory", "--addr", "127.0.0.1:0", "--log-format", "none")
	plainIss := plain.readyLine(t)["issuer"].(string)
	r = runCLI(t, context.Background(), "", env, "login", "--issuer", plainIss, "--client-id", id, "--no-browser", "--ca-file", docs.ca)
	if r.Code != ExitError || !strings.Contains(r.Stderr, "does not advertise client_id_metadata_document_supported") {
		t.Errorf("server without --cimd: exit %d, %s", r.Code, r.Stderr)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestCIMDLoginServerRefuses: a document the server must not fetch (on loopback, without
// --cimd-allow-loopback) is refused by the server, cleanly: the browser gets the 400 page
// naming invalid_client and the cause, and the CLI ends at its login time limit.
func TestCIMDLoginServerRefuses(t *testing.T) {
	docs := startCIMDDocs(t)
	id := docs.write(t, "/app.json", "--redirect-uri", "http://127.0.0.1/callback")
	srv := startServe(t, nil, "-o", "json", "--memory", "--addr", "127.0.0.1:0", "--log-format", "none", "--cimd", "--ca-file", docs.ca)
	issuer := srv.readyLine(t)["issuer"].(string)
	br := flowstest.New(testserver.DefaultUser, testserver.DefaultUserPassword)
	dir := t.TempDir()
	r := runUser(t, nil, br, filepath.Join(dir, "none"), "login", "--issuer", issuer, "--client-id", id, "--no-browser",
		"--ca-file", docs.ca, "--login-timeout", "1s")
	v := br.Last()
	if r.Code != ExitTimeout || v.Status != 400 || !strings.Contains(v.Body, "invalid_client") ||
		!strings.Contains(v.Body, "its host is at 127.0.0.1, a private, loopback, link-local or other special-use address") {
		t.Errorf("exit %d (stderr %s); the browser got %d:\n%.500s", r.Code, r.Stderr, v.Status, v.Body)
	}
}

func urlQuery(s string) string {
	return strings.NewReplacer(":", "%3A", "/", "%2F").Replace(s)
}

// TestCIMDLoginRefusals: login --client-id checks its arguments and the document before any
// browser is involved.
func TestCIMDLoginRefusals(t *testing.T) {
	docs := startCIMDDocs(t)
	web := docs.write(t, "/web.json", "--redirect-uri", "https://app.example/callback")
	app := docs.write(t, "/app.json", "--redirect-uri", "http://127.0.0.1/callback")
	b, _ := os.ReadFile(filepath.Join(docs.dir, "app.json"))
	must(t, os.WriteFile(filepath.Join(docs.dir, "copy.json"), b, 0o600))
	must(t, os.WriteFile(filepath.Join(docs.dir, "big.json"), []byte(`{"x": "`+strings.Repeat("a", 70<<10)+`"}`), 0o600))
	must(t, os.Mkdir(filepath.Join(docs.dir, "moved.json"), 0o700)) // the file server redirects to moved.json/
	s := startCLIServer(t, func(c *testserver.Config) { c.CIMD = testserver.CIMD{Enabled: true, AllowLoopback: true} })
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"http URL", []string{"--client-id", "http://app.example/c.json"}, ExitUsage, `--client-id "http://app.example/c.json" is not an https URL`},
		{"a name too", []string{"app", "--client-id", web}, ExitUsage, "give no NAME (or no --client-id)"},
		{"no loopback redirect", []string{"--client-id", web}, ExitError, "none of the client's redirect URIs (https://app.example/callback) is a loopback URI"},
		{"missing document", []string{"--client-id", docs.hs.URL + "/gone.json"}, ExitInvalid, "the server answered 404 Not Found, not 200 OK (draft §5)"},
		{"wrong client_id", []string{"--client-id", docs.hs.URL + "/copy.json"}, ExitInvalid, `client_id: is "` + app + `", not the document's URL "` + docs.hs.URL + `/copy.json"`},
		{"too big", []string{"--client-id", docs.hs.URL + "/big.json"}, ExitInvalid, "the document is larger than 64 KiB"},
		{"redirect", []string{"--client-id", docs.hs.URL + "/moved.json"}, ExitInvalid, `the server answered 301 Moved Permanently, redirecting to "moved.json/": redirects are not followed`},
		{"timeout", []string{"--client-id", docs.hs.URL + "/slow.json", "--timeout", "500ms"}, ExitTimeout, "/slow.json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"login", "--issuer", s.cfg.Issuer, "--ca-file", docs.ca, "--no-browser"}, tc.args...)
			r := runCLI(t, context.Background(), "", nil, args...)
			if r.Code != tc.code || !strings.Contains(r.Stderr, tc.want) || strings.Contains(r.Stderr, "/authorize?") {
				t.Errorf("exit %d, stderr %s; want %d and %q", r.Code, r.Stderr, tc.code, tc.want)
			}
		})
	}
}
