package cmd

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dcrctl/dcrctl/testserver"
	"github.com/dcrctl/dcrctl/testserver/servertest"
)

// TestNetworkAdvice: each way of not reaching a server ends in one sentence naming the next
// step, and its exit code; every server here is a real one on loopback.
func TestNetworkAdvice(t *testing.T) {
	refused := func() string { // a port that was just free: nothing listens on it
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return "http://" + addr
	}()
	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(tlsSrv.Close)
	plain := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(plain.Close)

	for _, tc := range []struct {
		name, issuer string
		wantCode     int
		wantAdvice   string
	}{
		{"connection refused", refused, ExitError, "nothing is listening there: check the URL in --issuer (or the profile) and that the server is running"},
		{"unknown authority", tlsSrv.URL, ExitError, "the server's certificate is signed by an authority this machine does not trust: give that CA's certificate with --ca-file FILE (or set SSL_CERT_FILE)"},
		{"https to an http server", strings.Replace(plain.URL, "http://", "https://", 1), ExitError, "the server speaks plain http, not https: use an http:// URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := runCLI(t, context.Background(), "", nil, "discover", "--issuer", tc.issuer, "--no-probe")
			if got.Code != tc.wantCode || got.Stdout != "" || !strings.Contains(got.Stderr, "; "+tc.wantAdvice) {
				t.Errorf("got %+v, want exit %d and advice %q", got, tc.wantCode, tc.wantAdvice)
			}
		})
	}
}

// TestCAFile: --ca-file makes a server with a private CA trusted, with verification still on.
func TestCAFile(t *testing.T) {
	srv := servertest.StartTLS(t, func(c *testserver.Config) {})
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	cert := srv.HTTP.Certificate()
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	issuer := srv.Issuer()
	without := runCLI(t, context.Background(), "", nil, "discover", "--issuer", issuer, "--no-probe", "-o", "json")
	if without.Code == ExitOK || !strings.Contains(without.Stderr, "--ca-file") {
		t.Errorf("without --ca-file: %+v", without)
	}
	with := runCLI(t, context.Background(), "", nil, "discover", "--issuer", issuer, "--no-probe", "-o", "json", "--ca-file", caFile)
	if with.Code != ExitOK || !strings.Contains(with.Stdout, fmt.Sprintf("%q", issuer)) {
		t.Errorf("with --ca-file: %+v", with)
	}
	notPEM := filepath.Join(dir, "not.pem")
	_ = os.WriteFile(notPEM, []byte("hello"), 0o600)
	bad := runCLI(t, context.Background(), "", nil, "discover", "--issuer", issuer, "--ca-file", notPEM)
	if bad.Code != ExitUsage || !strings.Contains(bad.Stderr, "holds no PEM certificate") {
		t.Errorf("a file without a certificate: %+v", bad)
	}
}

// TestDNSAdvice: a name that does not resolve (the error as the resolver returns it; no DNS
// query leaves this machine in tests).
func TestDNSAdvice(t *testing.T) {
	err := fmt.Errorf("client: discover: %w", &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "auth.example.invalid", IsNotFound: true}})
	want := `the host name "auth.example.invalid" does not resolve: check --issuer for a typo, and the network or VPN`
	if got := cliAdvice(err); got != want {
		t.Errorf("advice %q, want %q", got, want)
	}
}

// TestEnvInputs: every DCRCTL_ variable that the code reads is listed in inputEnv, and no
// name that -o env prints with the default prefix is one of them.
func TestEnvInputs(t *testing.T) {
	re := regexp.MustCompile(`"(DCRCTL_[A-Z_]+)"`)
	var read []string
	for _, dir := range []string{".", "../flows", "../keystore", "../client"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				read = append(read, m[1])
			}
		}
	}
	if len(read) == 0 {
		t.Fatal("found no DCRCTL_ names in the source: the scan is broken")
	}
	for _, name := range read {
		if !slices.Contains(inputEnv, name) {
			t.Errorf("%s appears in the source but not in inputEnv (envout.go)", name)
		}
	}
	var b strings.Builder
	vars := []envVar{{"NAME", "x"}, {"ISSUER", "x"}, {"CLIENT_ID", "x"}, {"CLIENT_SECRET", "x"}, {"TOKEN", "x"}, {"ACCESS_TOKEN", "x"}}
	if err := writeEnv(&b, "", vars); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		name, _, _ := strings.Cut(line, "=")
		if slices.Contains(inputEnv, name) || !strings.HasPrefix(name, defaultEnvPrefix) {
			t.Errorf("-o env prints %s", name)
		}
	}
	if err := writeEnv(&b, "DCRCTL_", vars); err == nil {
		t.Error("the prefix DCRCTL_ was accepted")
	}
}

// TestInsufficientScopeAdvice: a registration refused for a token without dcr (a client
// credentials token requested with no scope, which the server grants without dcr) names the
// flag that fixes it.
func TestInsufficientScopeAdvice(t *testing.T) {
	s := startCLIServer(t, nil)
	req, _ := http.NewRequest(http.MethodPost, s.hs.URL+"/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(s.cfg.Clients[0].ClientID, s.cfg.Clients[0].ClientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
		Scope       string `json:"scope"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" || tok.Scope != "" {
		t.Fatalf("token without scope: status %d, scope %q, err %v", resp.StatusCode, tok.Scope, err)
	}
	got := runCLI(t, context.Background(), "", map[string]string{"DCRCTL_CONFIG_DIR": t.TempDir(), "DCRCTL_KEYSTORE": "file", "DCRCTL_TOKEN": tok.AccessToken},
		"register", "--issuer", s.hs.URL, "--template", "service")
	want := "the initial access token lacks the dcr scope: request a token with scope dcr; get the initial token with --scope dcr"
	if got.Code != ExitAuth || got.Stdout != "" || !strings.Contains(got.Stderr, want) {
		t.Errorf("got %+v, want exit %d and %q", got, ExitAuth, want)
	}
}
