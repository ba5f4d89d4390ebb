package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/keystore"
	"github.com/dcrctl/dcrctl/testserver"
	"github.com/dcrctl/dcrctl/testserver/servertest"
)

// cliServer is the real testserver over httptest, for command tests.
type cliServer struct {
	hs         *httptest.Server
	srv        *testserver.Server
	cfg        testserver.Config
	secretFile string // the bootstrap client's secret
}

func startCLIServer(t *testing.T, mutate func(*testserver.Config)) *cliServer {
	t.Helper()
	ts := servertest.Start(t, func(cfg *testserver.Config) {
		cfg.Templates = append(cfg.Templates, testserver.TemplateConfig{ID: "service", Metadata: map[string]any{
			"client_name": "Service", "grant_types": []any{"client_credentials"},
			"token_endpoint_auth_method": "client_secret_basic", "scope": "profile",
		}})
		if mutate != nil {
			mutate(cfg)
		}
	})
	s := &cliServer{hs: ts.HTTP, srv: ts.Server, cfg: ts.Config, secretFile: filepath.Join(t.TempDir(), "bootstrap.secret")}
	if err := os.WriteFile(s.secretFile, []byte(s.cfg.Clients[0].ClientSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

// testGlobals returns GlobalOptions as setup would leave them, with a private config dir.
func testGlobals(t *testing.T, issuer string) (*GlobalOptions, *lockedBuffer, *lockedBuffer) {
	out, errOut := &lockedBuffer{}, &lockedBuffer{}
	g := &GlobalOptions{IO: &IOStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut, Getenv: func(string) string { return "" }},
		Issuer: issuer, Output: "table", Keystore: keystoreFile}
	g.settings = settings{done: true, ConfigDir: t.TempDir(), KeystoreExplicit: true}
	return g, out, errOut
}

// cliResult is everything a command run shows.
type cliResult struct {
	Code           int
	Stdout, Stderr string
}

// runCLI runs dcrctl in-process with args, stdin and the environment env only.
func runCLI(t *testing.T, ctx context.Context, stdin string, env map[string]string, args ...string) cliResult {
	t.Helper()
	out, errOut := &lockedBuffer{}, &lockedBuffer{}
	ios := &IOStreams{In: strings.NewReader(stdin), Out: out, ErrOut: errOut, Getenv: func(k string) string { return env[k] }}
	code := Run(ctx, ios, BuildInfo{Version: "test"}, args)
	return cliResult{Code: code, Stdout: out.String(), Stderr: errOut.String()}
}

// faultyStore is a keystore.Memory whose Put fails from the failFrom-th call on (1-based),
// after calling onPut with the credential it was given.
type faultyStore struct {
	*keystore.Memory
	mu       sync.Mutex
	calls    int
	failFrom int
	err      error
	onPut    func(keystore.Credential)
	given    []keystore.Credential
}

func (f *faultyStore) Put(ctx context.Context, c keystore.Credential) error {
	f.mu.Lock()
	f.calls++
	n := f.calls
	f.given = append(f.given, c)
	f.mu.Unlock()
	if n >= f.failFrom {
		if f.onPut != nil {
			f.onPut(c)
		}
		return f.err
	}
	return f.Memory.Put(ctx, c)
}

func (f *faultyStore) last() keystore.Credential {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.given[len(f.given)-1]
}

// registerOpts registers the "service" template as "svc"; its recovery files go to
// g.recoveryDir().
func registerOpts(g *GlobalOptions, s *cliServer, st keystore.Store) *registerOptions {
	return &registerOptions{G: g, Store: st, Template: "service", Name: "svc",
		Token: initialTokenOptions{grantOptions: grantOptions{ClientCredentials: true, ClientID: s.cfg.Clients[0].ClientID,
			ClientSecretFile: s.secretFile, Scopes: []string{"dcr"}}}}
}

// regOf rebuilds the registration a credential describes, for direct SDK calls.
func regOf(c keystore.Credential) *client.Registration {
	return &client.Registration{ClientID: c.ClientID, ClientSecret: c.ClientSecret,
		RegistrationAccessToken: c.RegistrationAccessToken, RegistrationClientURI: c.RegistrationClientURI}
}

// sameCredential reports the names of the fields in which a and b differ, without their values.
func sameCredential(a, b keystore.Credential) []string {
	var diff []string
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	for i := range va.NumField() {
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			diff = append(diff, va.Type().Field(i).Name)
		}
	}
	return diff
}

// TestRegisterRollsBackWhenStoreFails: the keystore refuses the new credential, so the
// registration is deleted at the server (RFC 7592), no recovery file is left, and the error
// says so with exit code 5.
func TestRegisterRollsBackWhenStoreFails(t *testing.T) {
	s := startCLIServer(t, nil)
	g, out, _ := testGlobals(t, s.cfg.Issuer)
	storeErr := &keystore.LockedError{}
	// Put 1 is the keystore check before the token is fetched; Put 2 stores the registration.
	fs := &faultyStore{Memory: keystore.NewMemory(), failFrom: 2, err: storeErr}
	recovery := g.recoveryDir()

	err := withAdvice(registerRun(context.Background(), registerOpts(g, s, fs)))

	cred := fs.last()
	if cred.ClientID == "" || cred.RegistrationAccessToken == "" {
		t.Fatal("the store was not given the registered credential")
	}
	want := fmt.Sprintf("could not store the credential \"svc\" (%s); the registration of client %s was rolled back at the server (RFC 7592 delete), so nothing was created; fix the keystore, then run dcrctl register again", storeErr, cred.ClientID)
	if err == nil || err.Error() != want {
		t.Fatalf("error:\n got %v\nwant %s", err, want)
	}
	if code := ExitCode(err); code != ExitKeystore {
		t.Errorf("exit code %d, want %d", code, ExitKeystore)
	}
	// The client is gone at the server: its registration access token no longer works.
	_, rerr := (&client.Client{}).Read(context.Background(), regOf(cred))
	var ce *client.Error
	if !errors.As(rerr, &ce) || ce.StatusCode != 401 {
		t.Errorf("reading the rolled-back registration: %v, want a 401", rerr)
	}
	if entries, _ := os.ReadDir(recovery); len(entries) != 0 {
		t.Errorf("recovery directory holds %d files after a successful rollback, want none", len(entries))
	}
	if out.String() != "" {
		t.Errorf("stdout %q, want nothing", out.String())
	}
}

// TestRegisterWritesRecoveryWhenRollbackFails: the keystore refuses the credential and the
// server is unreachable for the rollback, so the credential is saved to a 0600 recovery file
// whose path the error names, and which dcrctl import restores.
func TestRegisterWritesRecoveryWhenRollbackFails(t *testing.T) {
	s := startCLIServer(t, nil)
	g, _, _ := testGlobals(t, s.cfg.Issuer)
	storeErr := &keystore.UnavailableError{Reason: "no D-Bus session bus"}
	fs := &faultyStore{Memory: keystore.NewMemory(), failFrom: 2, err: storeErr,
		onPut: func(keystore.Credential) { s.hs.CloseClientConnections(); s.hs.Listener.Close() }}
	recovery := g.recoveryDir()

	err := withAdvice(registerRun(context.Background(), registerOpts(g, s, fs)))

	cred := fs.last()
	re := regexp.MustCompile(`^could not store the credential "svc" \((.+)\), and rolling the registration back failed \((.+)\); the credential of client (\S+) was saved to (\S+) \(mode 0600\): store it from there once the keystore works, then delete the file; run dcrctl import (\S+)$`)
	m := re.FindStringSubmatch(fmt.Sprint(err))
	if m == nil {
		t.Fatalf("error %q does not match %s", err, re)
	}
	if m[1] != storeErr.Error() || m[3] != cred.ClientID || m[4] != m[5] || filepath.Dir(m[4]) != recovery {
		t.Errorf("error names store error %q, client %q, file %q/%q; want %q, %q, a file in %s", m[1], m[3], m[4], m[5], storeErr, cred.ClientID, recovery)
	}
	if code := ExitCode(err); code != ExitKeystore {
		t.Errorf("exit code %d, want %d", code, ExitKeystore)
	}
	fi, serr := os.Stat(m[4])
	if serr != nil {
		t.Fatalf("recovery file: %v", serr)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("recovery file mode %v, want 0600", fi.Mode().Perm())
	}
	got, rerr := keystore.ReadRecovery(m[4])
	if rerr != nil {
		t.Fatal(rerr)
	}
	if diff := sameCredential(got, cred); len(diff) > 0 {
		t.Errorf("recovery file differs from the registered credential in %v", diff)
	}

	// dcrctl import stores it.
	mem := keystore.NewMemory()
	if err := importRun(context.Background(), &importOptions{G: g, File: m[4], Store: mem}); err != nil {
		t.Fatal(err)
	}
	stored, err := mem.Get(context.Background(), "svc")
	if err != nil {
		t.Fatal(err)
	}
	stored.Keystore = "" // set by Get
	if diff := sameCredential(stored, cred); len(diff) > 0 {
		t.Errorf("imported credential differs in %v", diff)
	}
}

// TestGetPersistsRotationOrWritesRecovery: with rotation on read, a get whose store fails
// after the server rotated the credential saves the new one to a recovery file; the old
// registration access token is dead, the saved one works.
func TestGetPersistsRotationOrWritesRecovery(t *testing.T) {
	s := startCLIServer(t, func(c *testserver.Config) {
		c.RotateRegistrationToken = testserver.RotateOnReadAndUpdate
		c.RotateClientSecret = testserver.RotateOnReadAndUpdate
	})
	g, out, _ := testGlobals(t, s.cfg.Issuer)
	fs := &faultyStore{Memory: keystore.NewMemory(), failFrom: 4, err: &keystore.TooBigError{Size: 5000, Max: 4096}}
	ctx := context.Background()
	if err := registerRun(ctx, registerOpts(g, s, fs)); err != nil {
		t.Fatal(err)
	}
	first := fs.last()

	// Second Put (a get) succeeds and stores the rotated credential.
	out.Reset()
	if err := getRun(ctx, &manageOptions{G: g, Name: "svc", Store: fs}); err != nil {
		t.Fatal(err)
	}
	second, err := fs.Memory.Get(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	if second.RegistrationAccessToken == first.RegistrationAccessToken || second.ClientSecret == first.ClientSecret {
		t.Fatal("the rotated registration access token and client secret were not stored")
	}

	// Third Put fails: the recovery file keeps the newest credential.
	err = withAdvice(getRun(ctx, &manageOptions{G: g, Name: "svc", Store: fs}))
	re := regexp.MustCompile(`^could not store the credential "svc" after the read \(.+\); its current secrets, which the server may have rotated, were saved to (\S+) \(mode 0600\): store it from there once the keystore works, then delete the file; run dcrctl import (\S+)$`)
	m := re.FindStringSubmatch(fmt.Sprint(err))
	if m == nil {
		t.Fatalf("error %q does not match %s", err, re)
	}
	if code := ExitCode(err); code != ExitKeystore {
		t.Errorf("exit code %d, want %d", code, ExitKeystore)
	}
	saved, err := keystore.ReadRecovery(m[1])
	if err != nil {
		t.Fatal(err)
	}
	if diff := sameCredential(saved, fs.last()); len(diff) > 0 {
		t.Errorf("recovery file differs from the credential the store refused in %v", diff)
	}
	if _, err := (&client.Client{}).Read(ctx, regOf(second)); err == nil {
		t.Error("the previous registration access token still works after rotation")
	}
	if _, err := (&client.Client{}).Read(ctx, regOf(saved)); err != nil {
		t.Errorf("the saved registration access token does not work: %v", err)
	}
}

// TestRegisterKeystoreNone: --keystore none prints the credential, secrets included, and
// refuses to run without --show-secrets (they would be lost).
func TestRegisterKeystoreNone(t *testing.T) {
	s := startCLIServer(t, nil)
	g, out, _ := testGlobals(t, s.cfg.Issuer)
	g.Keystore, g.Output = keystoreNone, "json"
	opts := registerOpts(g, s, nil)
	err := registerRun(context.Background(), opts)
	if ExitCode(err) != ExitUsage {
		t.Fatalf("without --show-secrets: %v (exit %d), want a usage error", err, ExitCode(err))
	}
	opts.ShowSecrets = true
	if err := registerRun(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out.String()), &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"name", "issuer", "client_id", "client_secret", "registration_access_token", "registration_client_uri"} {
		if s, _ := got[k].(string); s == "" {
			t.Errorf("output has no %s", k)
		}
	}
	if got["name"] != "svc" || got["issuer"] != s.cfg.Issuer || got["client_name"] != "Service" {
		t.Errorf("name %v, issuer %v, client_name %v", got["name"], got["issuer"], got["client_name"])
	}
}
