package registrar_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/client/registrar"
	"github.com/dcrctl/dcrctl/flows"
	"github.com/dcrctl/dcrctl/keystore"
	"github.com/dcrctl/dcrctl/testserver"
	"github.com/dcrctl/dcrctl/testserver/servertest"
)

// faultyStore is a real keystore.Memory whose Put fails on chosen calls: the injected store
// failure at one step of an operation.
type faultyStore struct {
	*keystore.Memory
	mu      sync.Mutex
	puts    int
	failPut map[int]bool // 1-based numbers of the Puts that fail
}

var errInjected = errors.New("injected store failure")

func (s *faultyStore) Put(ctx context.Context, c keystore.Credential) error {
	s.mu.Lock()
	s.puts++
	fail := s.failPut[s.puts]
	s.mu.Unlock()
	if fail {
		return errInjected
	}
	return s.Memory.Put(ctx, c)
}

// failingDeletes makes every HTTP DELETE fail before it reaches the server: a rollback
// whose network is gone. Other requests go to the real server.
type failingDeletes struct{}

func (failingDeletes) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodDelete {
		return nil, errors.New("injected network failure")
	}
	return http.DefaultTransport.RoundTrip(r)
}

// env is a real server, a token with scope dcr, and the registration endpoint.
type env struct {
	srv      *servertest.Server
	endpoint string
	token    func() string
	sdk      *client.Client
}

func newEnv(t *testing.T, rotation testserver.Rotation) *env {
	t.Helper()
	srv := servertest.Start(t, func(c *testserver.Config) {
		c.RotateRegistrationToken, c.RotateClientSecret = rotation, rotation
	})
	ctx := context.Background()
	sdk := &client.Client{}
	md, err := sdk.Discover(ctx, srv.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	boot := srv.Config.Clients[0]
	token := func() string {
		tok, err := flows.ClientCredentials{TokenURL: md.TokenEndpoint, ClientID: boot.ClientID,
			ClientSecret: boot.ClientSecret, Scopes: []string{"dcr"}}.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return tok.AccessToken
	}
	return &env{srv: srv, endpoint: md.RegistrationEndpoint, token: token, sdk: sdk}
}

// request is a registration of a client-credentials client.
func (e *env) request(name string) registrar.RegisterRequest {
	return registrar.RegisterRequest{Name: name, Issuer: e.srv.Issuer(), Endpoint: e.endpoint, InitialAccessToken: e.token(),
		Metadata: client.Metadata{ClientName: "lifecycle", GrantTypes: []string{"client_credentials"}, ResponseTypes: []string{}}}
}

// works reports whether the credential's registration access token is accepted by the
// server now (an RFC 7592 read; it may rotate, which the caller then no longer cares about).
func (e *env) works(t *testing.T, c keystore.Credential) bool {
	t.Helper()
	reg, err := registrar.RegistrationFrom(c)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.sdk.Read(context.Background(), reg)
	return err == nil
}

// recoveryFiles returns the credentials in the recovery files of dir.
func recoveryFiles(t *testing.T, dir string) []keystore.Credential {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	var out []keystore.Credential
	for _, p := range paths {
		c, err := keystore.ReadRecovery(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// secretWorks reports whether the credential's client secret gets a token (the client
// credentials grant): a check that rotates nothing. The servers of these tests rotate the
// secret together with the registration access token.
func (e *env) secretWorks(t *testing.T, c keystore.Credential) bool {
	t.Helper()
	_, err := flows.ClientCredentials{Issuer: e.srv.Issuer(), ClientID: c.ClientID, ClientSecret: c.ClientSecret}.Token(context.Background())
	return err == nil
}

// survivors returns where a working credential of the client is: "store", "recovery" or
// both.
func (e *env) survivors(t *testing.T, st keystore.Store, name, recDir string) []string {
	t.Helper()
	var where []string
	if c, err := st.Get(context.Background(), name); err == nil && e.secretWorks(t, c) {
		where = append(where, "store")
	}
	for _, c := range recoveryFiles(t, recDir) {
		if e.secretWorks(t, c) {
			where = append(where, "recovery")
		}
	}
	return where
}

func mustNotExist(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s exists (%v)", path, err)
	}
}
