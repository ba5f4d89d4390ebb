package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dcrctl/dcrctl/client/interop"
	"github.com/dcrctl/dcrctl/flows"
	"github.com/dcrctl/dcrctl/flows/flowstest"
	"github.com/dcrctl/dcrctl/testserver"
	"github.com/dcrctl/dcrctl/testserver/servertest"
)

// lockedBuffer is a stream the test may read while the command runs.
type lockedBuffer = flowstest.Buffer

// tokenTestServer runs the real testserver over httptest.
func tokenTestServer(t *testing.T, mutate func(*testserver.Config)) testserver.Config {
	t.Helper()
	return servertest.Start(t, func(cfg *testserver.Config) {
		cfg.Clients = append(cfg.Clients, testserver.ClientConfig{
			ClientID: "no-dcr", ClientSecret: "no-dcr-secret", GrantTypes: []string{"client_credentials"}, Scope: "profile",
		})
		if mutate != nil {
			mutate(cfg)
		}
	}).Config
}

// tokenRunResult is everything a command run shows.
type tokenRunResult struct {
	Code   int
	Stdout string
	Stderr string
}

// runToken runs dcrctl with args, stdin and environment env.
func runToken(t *testing.T, ctx context.Context, stdin string, env map[string]string, args ...string) tokenRunResult {
	t.Helper()
	out, errOut := &lockedBuffer{}, &lockedBuffer{}
	ios := &IOStreams{In: strings.NewReader(stdin), Out: out, ErrOut: errOut, Getenv: func(k string) string { return env[k] }}
	code := Run(ctx, ios, BuildInfo{}, args)
	return tokenRunResult{Code: code, Stdout: out.String(), Stderr: errOut.String()}
}

var tokenRE = regexp.MustCompile(`^[A-Za-z0-9_~.+/=-]{20,}\n$`)

func TestTokenClientCredentials(t *testing.T) {
	cfg := tokenTestServer(t, nil)
	boot := cfg.Clients[0]
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte(boot.ClientSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"token", "--issuer", cfg.Issuer, "--client-credentials"}
	cases := []struct {
		name       string
		args       []string
		stdin      string
		env        map[string]string
		wantCode   int
		wantStdout string // "TOKEN": a bare token line; "JSON": checked below; else exact
		wantStderr string
	}{
		{name: "secret from a file", args: []string{"--client-id", boot.ClientID, "--client-secret-file", secretFile},
			wantCode: ExitOK, wantStdout: "TOKEN"},
		{name: "secret from stdin", args: []string{"--client-id", boot.ClientID, "--client-secret-file", "-"}, stdin: boot.ClientSecret + "\n",
			wantCode: ExitOK, wantStdout: "TOKEN"},
		{name: "secret from DCRCTL_CLIENT_SECRET, -o json", args: []string{"--client-id", boot.ClientID, "-o", "json"},
			env: map[string]string{"DCRCTL_CLIENT_SECRET": boot.ClientSecret}, wantCode: ExitOK, wantStdout: "JSON"},
		{name: "--verbose: a trace on stderr, without secrets or the token", args: []string{"--client-id", boot.ClientID, "--client-secret-file", secretFile, "-v"},
			wantCode: ExitOK, wantStdout: "TOKEN"},
		{name: "-o yaml", args: []string{"--client-id", boot.ClientID, "--client-secret-file", secretFile, "-o", "yaml"},
			wantCode: ExitOK, wantStdout: "YAML"},
		{name: "issuer from DCRCTL_ISSUER, -o env", args: []string{"--client-id", boot.ClientID, "-o", "env"},
			env: map[string]string{"DCRCTL_CLIENT_SECRET": boot.ClientSecret, "DCRCTL_ISSUER": cfg.Issuer}, wantCode: ExitOK, wantStdout: "ENV"},
		{name: "wrong secret: exit 4 and the fix", args: []string{"--client-id", boot.ClientID, "--client-secret-file", "-"}, stdin: "wrong\n",
			wantCode: ExitAuth, wantStderr: "dcrctl: flows: client credentials: the server answered 401 Unauthorized with error invalid_client (DESC): the client id or secret is wrong, or the client is registered for another token endpoint authentication method (token_endpoint_auth_method); check --client-id, the secret and --auth-method\n"},
		{name: "client without scope dcr: exit 4", args: []string{"--client-id", "no-dcr"}, env: map[string]string{"DCRCTL_CLIENT_SECRET": "no-dcr-secret"},
			wantCode: ExitAuth, wantStderr: "dcrctl: flows: client credentials: the server answered 400 Bad Request with error invalid_scope (DESC): the client may not request the scope it asked for (such as dcr): ask the server's administrator to allow it, or request another scope; request another scope with --scope\n"},
		{name: "no secret at all", args: []string{"--client-id", boot.ClientID},
			wantCode: ExitUsage, wantStderr: "dcrctl: no client secret for bootstrap: the client credentials grant needs one (RFC 6749 §4.4); give --client-secret-file FILE (or -), or set DCRCTL_CLIENT_SECRET\n"},
		{name: "unknown auth method", args: []string{"--client-id", boot.ClientID, "--auth-method", "private_key_jwt"},
			wantCode: ExitUsage, wantStderr: "dcrctl: --auth-method \"private_key_jwt\": use client_secret_basic, client_secret_post or none\n"},
		{name: "empty secret file", args: []string{"--client-id", boot.ClientID, "--client-secret-file", "-"}, stdin: "\n",
			wantCode: ExitError, wantStderr: "dcrctl: the client secret is empty: check the file or what was piped to standard input\n"},
		{name: "no mode", args: []string{"--client-id", "x"}, wantCode: ExitUsage,
			wantStderr: "dcrctl: choose exactly one of --client-credentials, --login or --device\n"},
		{name: "two modes", args: []string{"--client-id", "x", "--login"}, wantCode: ExitUsage,
			wantStderr: "dcrctl: choose exactly one of --client-credentials, --login or --device\n"},
		{name: "no client id", args: nil, wantCode: ExitUsage, wantStderr: "dcrctl: no client id: give --client-id ID\n"},
		{name: "a secret on argv is refused", args: []string{"--client-id", "x", "--client-secret", "s3cret"}, wantCode: ExitUsage,
			wantStderr: "dcrctl: --client-secret is not accepted: a secret on the command line shows in ps and in shell history; use --client-secret-file FILE, --client-secret-file - (stdin) or DCRCTL_CLIENT_SECRET\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append(slices.Clone(base), tc.args...)
			if tc.name == "no mode" {
				args = []string{"token", "--issuer", cfg.Issuer, "--client-id", "x"}
			}
			got := runToken(t, context.Background(), tc.stdin, tc.env, args...)
			if got.Code != tc.wantCode {
				t.Errorf("exit code %d, want %d; stderr %q", got.Code, tc.wantCode, got.Stderr)
			}
			switch tc.wantStdout {
			case "TOKEN":
				if !tokenRE.MatchString(got.Stdout) {
					t.Errorf("stdout %q: want one access token line", got.Stdout)
				}
			case "YAML":
				if !regexp.MustCompile(`^access_token: [A-Za-z0-9_-]{20,}\ntoken_type: Bearer\nexpires_in: 3600\nscope: dcr\n$`).MatchString(got.Stdout) {
					t.Errorf("stdout %q: want the YAML object", got.Stdout)
				}
			case "ENV":
				if !regexp.MustCompile(`^DCR_ACCESS_TOKEN='[A-Za-z0-9_-]{20,}'\nDCR_TOKEN_TYPE='Bearer'\nDCR_SCOPE='dcr'\n$`).MatchString(got.Stdout) {
					t.Errorf("stdout %q: want DCR_ACCESS_TOKEN='…', DCR_TOKEN_TYPE, DCR_SCOPE", got.Stdout)
				}
			case "JSON":
				var m map[string]any
				if err := json.Unmarshal([]byte(got.Stdout), &m); err != nil {
					t.Fatalf("stdout is not JSON: %v", err)
				}
				at, _ := m["access_token"].(string)
				m["access_token"] = len(at) > 20
				want := map[string]any{"access_token": true, "token_type": "Bearer", "expires_in": float64(3600), "scope": "dcr"}
				if fmt.Sprint(m) != fmt.Sprint(want) {
					t.Errorf("json\n got: %v\nwant: %v", m, want)
				}
			default:
				if got.Stdout != tc.wantStdout {
					t.Errorf("stdout %q, want %q", got.Stdout, tc.wantStdout)
				}
			}
			if tc.wantStderr != "" {
				stderr := regexp.MustCompile(`error (\w+) \("(?:[^"\\]|\\.)*"\): `).ReplaceAllString(got.Stderr, "error $1 (DESC): ")
				if stderr != tc.wantStderr {
					t.Errorf("stderr\n got: %q\nwant: %q", stderr, tc.wantStderr)
				}
			}
			if strings.Contains(got.Stderr, boot.ClientSecret) {
				t.Errorf("stderr shows the client secret")
			}
			if tok := strings.TrimSpace(got.Stdout); tc.wantStdout == "TOKEN" && strings.Contains(got.Stderr, tok) {
				t.Errorf("stderr shows the access token")
			}
			if slices.Contains(tc.args, "-v") && !strings.Contains(got.Stderr, "POST") {
				t.Errorf("-v: no trace on stderr: %q", got.Stderr)
			}
		})
	}
}

// TestTokenHelperBrowser is not a test: it is the browser program that DCRCTL_BROWSER names
// in the --login tests (the test binary runs itself). Its arguments after "--" are
// RELAY-URL AUTHORIZATION-URL; it hands the URL to the test's scripted browser and exits.
func TestTokenHelperBrowser(t *testing.T) {
	i := slices.Index(os.Args, "--")
	if i < 0 || len(os.Args) != i+3 || os.Getenv("DCRCTL_TOKEN_HELPER") != "1" {
		return // an ordinary test run: nothing to do
	}
	resp, err := http.PostForm(os.Args[i+1], url.Values{"url": {os.Args[i+2]}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	resp.Body.Close()
	os.Exit(0)
}

// browserRelay receives URLs from TestTokenHelperBrowser and opens them in open.
type browserRelay struct {
	URL string // the relay endpoint, for DCRCTL_BROWSER
	wg  sync.WaitGroup
}

func startRelay(t *testing.T, open func(string) error) *browserRelay {
	t.Helper()
	t.Setenv("DCRCTL_TOKEN_HELPER", "1")
	r := &browserRelay{}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		u := req.PostFormValue("url")
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			if err := open(u); err != nil {
				t.Errorf("scripted browser: %v", err)
			}
		}()
	}))
	t.Cleanup(hs.Close)
	r.URL = hs.URL
	return r
}

// browserCommand is the DCRCTL_BROWSER value that runs TestTokenHelperBrowser.
func (r *browserRelay) browserCommand(t *testing.T) string {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return shellQuote(exe) + " -test.run=^TestTokenHelperBrowser$ -- " + shellQuote(r.URL)
}

// TestTokenLogin runs `dcrctl token --login` twice against the testserver, with
// DCRCTL_BROWSER naming a program that hands the URL to a scripted browser: the first login
// fills in the login form, the second is silent.
func TestTokenLogin(t *testing.T) {
	cfg := tokenTestServer(t, nil)
	br := flowstest.New(testserver.DefaultUser, testserver.DefaultUserPassword)
	relay := startRelay(t, br.Open)
	env := map[string]string{"DCRCTL_BROWSER": relay.browserCommand(t)}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i, wantLogins := range []int{1, 0} {
		before := br.LoginPages()
		got := runToken(t, ctx, "", env, "token", "--issuer", cfg.Issuer, "--login", "--client-id", testserver.DefaultNativeClient, "-o", "json")
		relay.wg.Wait()
		if got.Code != ExitOK {
			t.Fatalf("login %d: exit %d, stderr %q", i+1, got.Code, got.Stderr)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(got.Stdout), &m); err != nil {
			t.Fatalf("stdout is not JSON: %v: %q", err, got.Stdout)
		}
		for _, k := range []string{"access_token", "refresh_token"} {
			s, _ := m[k].(string)
			m[k] = len(s) > 20
		}
		want := map[string]any{"access_token": true, "refresh_token": true, "token_type": "Bearer", "expires_in": float64(3600), "scope": "dcr"}
		if fmt.Sprint(m) != fmt.Sprint(want) {
			t.Errorf("login %d: json\n got: %v\nwant: %v", i+1, m, want)
		}
		if n := br.LoginPages() - before; n != wantLogins {
			t.Errorf("login %d: %d login pages, want %d", i+1, n, wantLogins)
		}
		if !strings.Contains(got.Stderr, "Open this URL in your browser to log in:\n\n  "+cfg.Issuer+"/authorize?") {
			t.Errorf("login %d: the URL is not on stderr: %q", i+1, got.Stderr)
		}
	}
}

// TestTokenLoginNoBrowser: --no-browser never starts DCRCTL_BROWSER; the user opens the URL
// printed on stderr. So it does when not interactive and not asked to open one, with a note,
// and over SSH with --browser but without a program named, with another note.
func TestTokenLoginNoBrowser(t *testing.T) {
	cfg := tokenTestServer(t, nil)
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		pre  string
		note string
	}{
		{name: "--no-browser", args: []string{"--no-browser"}, env: map[string]string{"DCRCTL_BROWSER": "/nonexistent/must-not-run"}},
		{name: "not interactive", env: map[string]string{"DISPLAY": ":0"},
			pre: "not interactive: open the URL below yourself, or run with --browser (or set DCRCTL_BROWSER)\n"},
		{name: "over SSH", args: []string{"--browser"}, env: map[string]string{"SSH_CONNECTION": "10.0.0.1 2222 10.0.0.2 22", "DISPLAY": ":0"},
			note: "Could not open a browser (flows: open browser: no browser can be opened here (SSH session or no display): open the URL yourself, or set DCRCTL_BROWSER or BROWSER to a browser command); open the URL above yourself.\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			br := flowstest.New(testserver.DefaultUser, testserver.DefaultUserPassword)
			out, errOut := &lockedBuffer{}, &lockedBuffer{}
			ios := &IOStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut, Getenv: func(k string) string { return tc.env[k] }}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			done := make(chan struct{})
			go func() { // the user copies the URL from the terminal
				defer close(done)
				for ctx.Err() == nil {
					if m := regexp.MustCompile(`\n  (http://\S+)\n`).FindStringSubmatch(errOut.String()); m != nil {
						_ = br.Open(m[1])
						return
					}
					time.Sleep(10 * time.Millisecond)
				}
			}()
			code := Run(ctx, ios, BuildInfo{}, append([]string{"token", "--issuer", cfg.Issuer, "--login", "--client-id", testserver.DefaultNativeClient}, tc.args...))
			<-done
			if code != ExitOK || !tokenRE.MatchString(out.String()) {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, out.String(), errOut.String())
			}
			stderr := regexp.MustCompile(`\n  http://\S+\n`).ReplaceAllString(errOut.String(), "\n  URL\n")
			if want := tc.pre + "Open this URL in your browser to log in:\n\n  URL\n\n" + tc.note; stderr != want {
				t.Errorf("stderr\n got: %q\nwant: %q", stderr, want)
			}
		})
	}
}

// TestTokenLoginTimeout: a login nobody finishes ends with exit code 6.
func TestTokenLoginTimeout(t *testing.T) {
	cfg := tokenTestServer(t, nil)
	got := runToken(t, context.Background(), "", nil, "token", "--issuer", cfg.Issuer, "--login", "--no-browser",
		"--client-id", testserver.DefaultNativeClient, "--login-timeout", "200ms")
	if got.Code != ExitTimeout || got.Stdout != "" || !strings.HasSuffix(got.Stderr, "dcrctl: flows: login: not completed within 200ms: finish the login in the browser sooner, or allow more time\n") {
		t.Errorf("got %+v", got)
	}
}

// TestTokenDevice runs `dcrctl token --device` and approves the code on the device page.
func TestTokenDevice(t *testing.T) {
	cfg := tokenTestServer(t, func(c *testserver.Config) { c.Lifetimes.DevicePollInterval = time.Second })
	for _, tc := range []struct {
		button   string
		wantCode int
		wantOut  bool
		wantErr  string
	}{
		{button: "approve", wantCode: ExitOK, wantOut: true},
		{button: "deny", wantCode: ExitAuth, wantErr: "dcrctl: flows: device token: the server answered 400 Bad Request with error access_denied"},
	} {
		t.Run(tc.button, func(t *testing.T) {
			br := flowstest.New(testserver.DefaultUser, testserver.DefaultUserPassword)
			br.Button = tc.button
			out, errOut := &lockedBuffer{}, &lockedBuffer{}
			ios := &IOStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut, Getenv: func(string) string { return "" }}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			done := make(chan struct{})
			go func() {
				defer close(done)
				for ctx.Err() == nil {
					if m := regexp.MustCompile(`or open this URL, which includes the code:\n\n  (\S+)\n`).FindStringSubmatch(errOut.String()); m != nil {
						_ = br.Open(m[1])
						return
					}
					time.Sleep(10 * time.Millisecond)
				}
			}()
			code := Run(ctx, ios, BuildInfo{}, []string{"token", "--issuer", cfg.Issuer, "--device", "--client-id", testserver.DefaultNativeClient})
			<-done
			if code != tc.wantCode || tokenRE.MatchString(out.String()) != tc.wantOut || !strings.Contains(errOut.String(), tc.wantErr) {
				t.Errorf("exit %d (want %d), stdout %q, stderr %q (want %q)", code, tc.wantCode, out.String(), errOut.String(), tc.wantErr)
			}
		})
	}
}

// TestTokenLoginInterop: `dcrctl token --login` against node-oidc-provider (client/interop)
// with its public native client gets a dcr token twice, the second time silently.
func TestTokenLoginInterop(t *testing.T) {
	op := interop.StartOIDCProvider(t, interop.OIDCProviderOptions{})
	br := op.NewBrowser(op.DemoUser)
	relay := startRelay(t, func(u string) error {
		_, err := br.Open(context.Background(), u)
		return err
	})
	env := map[string]string{"DCRCTL_BROWSER": relay.browserCommand(t)}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i, wantForms := range []int{1, 0} {
		before := len(br.Submitted())
		got := runToken(t, ctx, "", env, "token", "--issuer", op.Issuer, "--login", "--client-id", op.NativeClientID, "--scope", "dcr", "-o", "json")
		relay.wg.Wait()
		if got.Code != ExitOK {
			t.Fatalf("login %d: exit %d, stderr %q", i+1, got.Code, got.Stderr)
		}
		var m struct {
			AccessToken string `json:"access_token"`
			TokenType   string `json:"token_type"`
			Scope       string `json:"scope"`
		}
		if err := json.Unmarshal([]byte(got.Stdout), &m); err != nil || m.AccessToken == "" || m.TokenType != "Bearer" || !slices.Contains(strings.Fields(m.Scope), "dcr") {
			t.Errorf("login %d: stdout %q (%v): want a Bearer token with scope dcr", i+1, got.Stdout, err)
		}
		if forms := br.Submitted()[before:]; len(forms) != wantForms {
			t.Errorf("login %d: forms submitted %v, want %d", i+1, forms, wantForms)
		}
	}
}

// TestTokenProfile: a profile of the config file supplies the issuer, the client, its secret
// file and the flow; flags still win.
func TestTokenProfile(t *testing.T) {
	cfg := tokenTestServer(t, nil)
	boot := cfg.Clients[0]
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "bootstrap.secret")
	if err := os.WriteFile(secretFile, []byte(boot.ClientSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf("default_profile: ci\nprofiles:\n  ci:\n    issuer: %s\n    client_id: %s\n    client_secret_file: %s\n    flow: client-credentials\n",
		cfg.Issuer, boot.ClientID, secretFile)
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DCRCTL_CONFIG_DIR": dir}
	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
	}{
		{"everything from the profile", []string{"token"}, ExitOK},
		{"a flag wins: another client", []string{"token", "--client-id", "no-dcr"}, ExitAuth},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := runToken(t, context.Background(), "", env, tc.args...)
			if got.Code != tc.wantCode || (tc.wantCode == ExitOK) != tokenRE.MatchString(got.Stdout) {
				t.Errorf("exit %d (want %d), stdout %q, stderr %q", got.Code, tc.wantCode, got.Stdout, got.Stderr)
			}
		})
	}
}

func TestClassifyFlowsError(t *testing.T) {
	cases := []struct {
		err  error
		want int
	}{
		{&flows.Error{Code: "invalid_client"}, ExitAuth},
		{&flows.Error{Code: "invalid_scope"}, ExitAuth},
		{&flows.Error{Code: "access_denied"}, ExitAuth},
		{&flows.Error{Code: "login_required"}, ExitAuth},
		{&flows.Error{Code: "expired_token"}, ExitTimeout},
		{&flows.Error{Code: "server_error"}, ExitServer},
		{&flows.Error{StatusCode: 502}, ExitServer},
		{fmt.Errorf("wrapped: %w", flows.ErrStateMismatch), ExitAuth},
		{flows.ErrIssuerMismatch, ExitAuth},
		{flows.ErrIssuerMissing, ExitAuth},
		{&flows.TimeoutError{Op: "login"}, ExitTimeout},
		{fmt.Errorf("flows: login: %w", context.Canceled), ExitCanceled},
		{flows.ErrNoBrowser, ExitError},
	}
	for _, tc := range cases {
		if got := ExitCode(tc.err); got != tc.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}
