package cmd

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dcrctl/dcrctl/flows/flowstest"
	"github.com/dcrctl/dcrctl/testserver"
)

// syncBuffer is a buffer safe for the server goroutine and the test.
type syncBuffer = flowstest.Buffer

// running is a dcrctl serve started by a test.
type running struct {
	out, errOut *syncBuffer
	cancel      context.CancelFunc
	done        chan int
}

func startServe(t *testing.T, env map[string]string, args ...string) *running {
	t.Helper()
	out, errOut := &syncBuffer{}, &syncBuffer{}
	ios := &IOStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut, Getenv: func(k string) string { return env[k] }}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{out: out, errOut: errOut, cancel: cancel, done: make(chan int, 1)}
	go func() { r.done <- Run(ctx, ios, BuildInfo{}, append([]string{"serve"}, args...)) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop sends the equivalent of SIGINT (the root context is cancelled) and returns the exit code.
func (r *running) stop(t *testing.T) int {
	r.cancel()
	select {
	case code := <-r.done:
		r.done <- code
		return code
	case <-time.After(15 * time.Second):
		t.Fatal("dcrctl serve did not shut down within 15 s")
		return -1
	}
}

// readyLine waits (bounded) for the first line on stdout.
func (r *running) readyLine(t *testing.T) map[string]any {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case code := <-r.done:
			r.done <- code
			t.Fatalf("dcrctl serve exited with %d before it was ready; stderr: %s", code, r.errOut.String())
		default:
		}
		if s := r.out.String(); strings.Contains(s, "\n") {
			line, _, _ := strings.Cut(s, "\n")
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("the ready line is not JSON: %v", err)
			}
			return m
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no ready line within 20 s")
	return nil
}

func TestServeJSONReadyLine(t *testing.T) {
	r := startServe(t, nil, "-o", "json", "--memory", "--addr", "127.0.0.1:0", "--log-format", "json")
	info := r.readyLine(t)
	iss := info["issuer"].(string)
	u, err := url.Parse(iss)
	if err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.Port() == "0" {
		t.Fatalf("issuer %q", iss)
	}
	eps := info["endpoints"].(map[string]any)
	got := map[string]any{
		"registration": info["registration"], "client_id": info["client_id"], "scope": info["scope"],
		"secret_len": len(info["client_secret"].(string)), "templates": info["templates"], "demo_user": info["demo_user"],
		"native_client_id": info["native_client_id"], "db": info["db"],
		"token_endpoint": eps["token_endpoint"], "registration_endpoint": eps["registration_endpoint"],
	}
	want := map[string]any{
		"registration": "client", "client_id": "bootstrap", "scope": "dcr", "secret_len": 43,
		"templates": []any{"native-app"}, "demo_user": map[string]any{"username": "demo", "password": "demo"},
		"native_client_id": "dcrctl", "db": ":memory:",
		"token_endpoint": iss + "/token", "registration_endpoint": iss + "/register",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ready line:\n got %v\nwant %v", got, want)
	}
	if lines := strings.Count(r.out.String(), "\n"); lines != 1 {
		t.Errorf("stdout has %d lines, want exactly 1", lines)
	}
	// The printed credentials work: a client credentials token, then a registration.
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"dcr"}}
	req, _ := http.NewRequest(http.MethodPost, iss+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("bootstrap", info["client_secret"].(string))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok map[string]any
	json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("token: %d", res.StatusCode)
	}
	reg, _ := http.NewRequest(http.MethodPost, iss+"/register?secret_in_query=QUERYSECRET", strings.NewReader(`{"software_id":"native-app"}`))
	reg.Header.Set("Content-Type", "application/json")
	reg.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
	res, err = http.DefaultClient.Do(reg)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 201 {
		t.Fatalf("register: %d", res.StatusCode)
	}
	if code := r.stop(t); code != 0 {
		t.Errorf("exit code after SIGINT-equivalent: %d", code)
	}
	// The request log: structured, no secrets, no query strings.
	logs := r.errOut.String()
	for _, secret := range []string{info["client_secret"].(string), tok["access_token"].(string), "QUERYSECRET"} {
		if strings.Contains(logs, secret) {
			t.Error("the request log contains a secret")
		}
	}
	if !strings.Contains(logs, `"path":"/register"`) || !strings.Contains(logs, `"status":201`) {
		t.Errorf("the request log lacks the registration request")
	}
}

func TestServeRestartKeepsBootstrapSecret(t *testing.T) {
	db := filepath.Join(t.TempDir(), "serve.db")
	var secrets []string
	for range 2 {
		r := startServe(t, nil, "-o", "json", "--db", db, "--addr", "127.0.0.1:0", "--log-format", "none")
		info := r.readyLine(t)
		secrets = append(secrets, info["client_secret"].(string))
		if info["db"] != db {
			t.Errorf("db = %v", info["db"])
		}
		if code := r.stop(t); code != 0 {
			t.Fatalf("exit %d", code)
		}
	}
	if secrets[0] == "" || secrets[0] != secrets[1] {
		t.Error("the bootstrap secret changed across a restart on the same database")
	}
}

func TestServeDefaultDatabaseUnderDataDir(t *testing.T) {
	dir := t.TempDir()
	r := startServe(t, map[string]string{"XDG_DATA_HOME": dir, "HOME": dir}, "-o", "json", "--addr", "127.0.0.1:0", "--log-format", "none")
	info := r.readyLine(t)
	want := filepath.Join(dir, "dcrctl", "serve.db")
	if info["db"] != want {
		t.Errorf("db = %v, want %s", info["db"], want)
	}
	if _, err := os.Stat(want); err != nil {
		t.Error(err)
	}
}

func TestServeSelfSignedTLS(t *testing.T) {
	dir := t.TempDir()
	r := startServe(t, nil, "-o", "json", "--db", filepath.Join(dir, "s.db"), "--addr", "127.0.0.1:0", "--tls-self-signed", "--log-format", "none")
	info := r.readyLine(t)
	iss := info["issuer"].(string)
	if !strings.HasPrefix(iss, "https://127.0.0.1:") {
		t.Fatalf("issuer %q", iss)
	}
	pemBytes, err := os.ReadFile(info["tls_ca_file"].(string))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemBytes)
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	res, err := hc.Get(iss + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var md map[string]any
	json.NewDecoder(res.Body).Decode(&md)
	res.Body.Close()
	if md["issuer"] != iss {
		t.Errorf("discovery issuer %v", md["issuer"])
	}
}

func TestServeHumanOutput(t *testing.T) {
	r := startServe(t, nil, "--memory", "--addr", "127.0.0.1:0", "--registration", "open", "--log-format", "none")
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(r.out.String(), "Ctrl-C") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	out := r.out.String()
	for _, want := range []string{"issuer        http://127.0.0.1:", "(mode open)", "bootstrap", "client_secret: ", "Templates: native-app", "User: demo / demo"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestServeFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"bad_mode", []string{"--registration", "sometimes"}, "--registration"},
		{"memory_and_db", []string{"--memory", "--db", "x.db"}, "exclude"},
		{"password_in_db_url", []string{"--db", "postgres://u:hunter2@127.0.0.1/db"}, "PGPASSWORD"},
		{"password_param_in_db_url", []string{"--db", "postgres://u@127.0.0.1/db?password=hunter2"}, "process list"},
		{"plain_http_non_loopback", []string{"--memory", "--addr", "0.0.0.0:0"}, "refusing plain http"},
		{"cert_without_key", []string{"--memory", "--tls-cert", "c.pem"}, "go together"},
		{"bad_log_format", []string{"--memory", "--log-format", "xml"}, "--log-format"},
		{"bad_addr", []string{"--memory", "--addr", "nonsense"}, "--addr"},
		{"missing_config", []string{"--config", "/nonexistent/serve.yaml"}, "load config"},
		{"unspecified_needs_issuer", []string{"--memory", "--addr", "0.0.0.0:0", "--insecure-http"}, "--issuer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ios, _, out, errOut := TestStreams()
			code := Run(context.Background(), ios, BuildInfo{}, append([]string{"serve"}, tc.args...))
			if code != ExitUsage || !strings.Contains(errOut.String(), tc.want) || out.Len() != 0 || strings.Contains(errOut.String(), "hunter2") {
				t.Errorf("exit %d, stderr %q, stdout %d bytes; want exit %d naming %q", code, errOut.String(), out.Len(), ExitUsage, tc.want)
			}
		})
	}
}

func TestServeConfigFile(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "serve.yaml")
	os.WriteFile(cfg, []byte(`registration: user
clients:
  - client_id: ci
    client_secret: fixed-secret-for-test
    scope: dcr
  - client_id: app
    token_endpoint_auth_method: none
    grant_types: [authorization_code]
    redirect_uris: [http://127.0.0.1/callback]
    scope: openid dcr
templates:
  - id: t1
    metadata: {grant_types: [client_credentials]}
users:
  - {username: alice, password: pw}
`), 0o600)
	r := startServe(t, nil, "-o", "json", "--config", cfg, "--memory", "--addr", "127.0.0.1:0", "--log-format", "none")
	info := r.readyLine(t)
	got := []any{info["registration"], info["client_id"], info["client_secret"] == "fixed-secret-for-test", info["templates"], info["demo_user"].(map[string]any)["username"]}
	want := []any{"user", "ci", true, []any{"t1"}, "alice"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestServeConfigMergesOverDefaults: a file that sets only the mode and a lifetime keeps the
// zero configuration's clients, template and user; the bootstrap secret is generated and
// printed as without a file.
func TestServeConfigMergesOverDefaults(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "serve.yaml")
	os.WriteFile(cfg, []byte("registration: user\nlifetimes: {session: 2h}\n"), 0o600)
	r := startServe(t, nil, "-o", "json", "--config", cfg, "--memory", "--addr", "127.0.0.1:0", "--log-format", "none")
	info := r.readyLine(t)
	var ids []any
	for _, c := range info["clients"].([]any) {
		ids = append(ids, c.(map[string]any)["client_id"])
	}
	secret, _ := info["client_secret"].(string)
	got := []any{info["registration"], ids, info["templates"], info["demo_user"], info["client_id"], len(secret) >= 20}
	want := []any{"user", []any{testserver.DefaultBootstrapClient, testserver.DefaultNativeClient}, []any{testserver.DefaultTemplate},
		map[string]any{"username": testserver.DefaultUser, "password": testserver.DefaultUserPassword}, testserver.DefaultBootstrapClient, true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestServePortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ios, _, out, errOut := TestStreams()
	code := Run(context.Background(), ios, BuildInfo{}, []string{"serve", "--memory", "--addr", ln.Addr().String()})
	if code != ExitError || !strings.Contains(errOut.String(), "listen on") || out.Len() != 0 {
		t.Errorf("exit %d, stderr %q", code, errOut.String())
	}
}

// TestServeResourcePath: --resource-path makes serve a protected resource too: the ready line
// names it, and it answers 401 naming its RFC 9728 metadata; a path an endpoint has is refused.
func TestServeResourcePath(t *testing.T) {
	r := startServe(t, nil, "-o", "json", "--memory", "--addr", "127.0.0.1:0", "--resource-path", "/mcp")
	info := r.readyLine(t)
	iss, _ := info["issuer"].(string)
	ep, _ := info["endpoints"].(map[string]any)
	if ep["protected_resource"] != iss+"/mcp" {
		t.Fatalf("endpoints.protected_resource = %v, want %s/mcp", ep["protected_resource"], iss)
	}
	res, err := http.Get(iss + "/mcp")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	want := `resource_metadata="` + iss + `/.well-known/oauth-protected-resource/mcp"` // the issuer has no path here
	if res.StatusCode != 401 || !strings.Contains(res.Header.Get("WWW-Authenticate"), want) {
		t.Errorf("GET %s/mcp: %d %q; want 401 with %s", iss, res.StatusCode, res.Header.Get("WWW-Authenticate"), want)
	}
	ios, _, _, errOut := TestStreams()
	if code := Run(context.Background(), ios, BuildInfo{}, []string{"serve", "--memory", "--addr", "127.0.0.1:0", "--resource-path", "/token"}); code == ExitOK ||
		!strings.Contains(errOut.String(), `resource_path "/token" overlaps the endpoint /token`) {
		t.Errorf("--resource-path /token: exit %d, %q", code, errOut.String())
	}
}
