package declare_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/client/declare"
	"github.com/dcrctl/dcrctl/client/registrar"
	"github.com/dcrctl/dcrctl/flows"
	"github.com/dcrctl/dcrctl/keystore"
	"github.com/dcrctl/dcrctl/testserver"
	"github.com/dcrctl/dcrctl/testserver/servertest"
)

// counter counts the requests that reach the real server and change a registration:
// POST (to any endpoint but the token endpoint: registration), PUT (RFC 7592 update) and
// DELETE. It may also hold a request up.
type counter struct {
	mu     sync.Mutex
	writes map[string]int // by method
	// hook, when set, runs before a request is served; false means do not serve it.
	hook func(r *http.Request) bool
}

func (c *counter) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		hook := c.hook
		switch r.Method {
		case http.MethodPost, http.MethodPut, http.MethodDelete:
			if !strings.HasSuffix(r.URL.Path, "/token") {
				if c.writes == nil {
					c.writes = map[string]int{}
				}
				c.writes[r.Method]++
			}
		}
		c.mu.Unlock()
		if hook != nil && !hook(r) {
			http.Error(w, `{"error":"temporarily_unavailable"}`, http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// registrationWrites returns the writes counted since the last call.
func (c *counter) registrationWrites() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.writes
	if out == nil {
		out = map[string]int{}
	}
	c.writes = nil
	return out
}

func (c *counter) setHook(h func(*http.Request) bool) {
	c.mu.Lock()
	c.hook = h
	c.mu.Unlock()
}

// env is a real server with a behaviour profile, a store and an engine.
type env struct {
	t      *testing.T
	srv    *servertest.Server
	count  *counter
	store  keystore.Store
	engine *declare.Engine
	sdk    *client.Client
	// endpoints replace discovered ones (a server whose discovery lacks them).
	endpoints client.Endpoints
}

func newEnv(t *testing.T, profile string, mutate func(*testserver.Config)) *env {
	t.Helper()
	cnt := &counter{}
	srv := servertest.StartWith(t, cnt.wrap, func(c *testserver.Config) {
		c.BehaveLike = profile
		c.Templates = append(c.Templates, testserver.TemplateConfig{ID: "service", Metadata: map[string]any{
			"client_name": "Service", "grant_types": []any{"client_credentials"},
			"token_endpoint_auth_method": "client_secret_basic", "scope": "profile",
		}})
		if mutate != nil {
			mutate(c)
		}
	})
	e := &env{t: t, srv: srv, count: cnt, store: keystore.NewMemory(), sdk: &client.Client{}}
	e.engine = e.newEngine(e.store)
	return e
}

// newEngine returns an engine on st whose tokens come from the bootstrap client.
func (e *env) newEngine(st keystore.Store) *declare.Engine {
	boot := e.srv.Config.Clients[0]
	return &declare.Engine{
		Registrar: registrar.New(e.sdk, st, registrar.Options{RecoveryDir: e.t.TempDir()}),
		Discover: func(ctx context.Context, en declare.Entry) (*client.ServerMetadata, error) {
			return e.sdk.Resolve(ctx, en.Issuer, e.endpoints)
		},
		Token: func(ctx context.Context, en declare.Entry, md *client.ServerMetadata) (string, error) {
			if en.Token.Flow == declare.FlowNone {
				return "", nil
			}
			tok, err := flows.ClientCredentials{Issuer: en.Issuer, TokenURL: md.TokenEndpoint, ClientID: boot.ClientID,
				ClientSecret: boot.ClientSecret, Scopes: []string{"dcr"}}.Token(ctx)
			if err != nil {
				return "", err
			}
			return tok.AccessToken, nil
		},
	}
}

// file parses a desired-state file whose $ISSUER is the server's.
func (e *env) file(text string) []declare.Entry {
	e.t.Helper()
	f, err := declare.Parse("test.yaml", []byte(strings.ReplaceAll(text, "$ISSUER", e.srv.Issuer())))
	if err != nil {
		e.t.Fatal(err)
	}
	return f.Entries
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// plan plans entries and fails the test on an error.
func (e *env) plan(ctx context.Context, entries []declare.Entry, prune bool) *declare.Plan {
	e.t.Helper()
	p, err := e.engine.Plan(ctx, entries, prune)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// outcome is a step as the tests compare it: name, action, result, the members of the diff
// and of NotKept, blocked or not, and the error's presence.
type outcome struct {
	Name, Action, Result string
	Diff                 string // member:from→to, joined by "; "
	NotKept              string // members, joined by ","
	Blocked, Failed      bool
}

func outcomes(p *declare.Plan) []outcome {
	var out []outcome
	for _, s := range p.Steps {
		var d, nk []string
		for _, m := range s.Diff {
			d = append(d, fmt.Sprintf("%s:%s→%s", m.Member, orAbsent(m.From), orAbsent(m.To)))
		}
		for _, c := range s.NotKept {
			nk = append(nk, c.Member)
		}
		out = append(out, outcome{s.Name, s.Action, s.Result, strings.Join(d, "; "), strings.Join(nk, ","), s.Blocked != "", s.Error != ""})
	}
	return out
}

func orAbsent(v json.RawMessage) string {
	if v == nil {
		return "-"
	}
	return string(v)
}

func errorsAs[E error](err error, target *E) bool { return errors.As(err, target) }
