package testserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dcrctl/dcrctl/testserver/internal/pgtest"
)

// answer is one response, as the concurrent tests record it (they cannot t.Fatal).
type answer struct {
	status     int
	retryAfter string
	body       map[string]any
	err        error
}

// send sends a request (JSON body unless form is set) to replica pin (-1: the next one) and
// decodes the answer; safe to call from many goroutines.
func (e *env) send(pin int, method, path, token string, body any, form url.Values) answer {
	var rd io.Reader
	ctype := "application/json"
	if form != nil {
		rd, ctype = strings.NewReader(form.Encode()), "application/x-www-form-urlencoded"
	} else if body != nil {
		j, _ := json.Marshal(body)
		rd = bytes.NewReader(j)
	}
	u := path
	if !strings.HasPrefix(u, "http") {
		u = e.url(path)
	}
	req, _ := http.NewRequest(method, u, rd)
	if rd != nil {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if pin >= 0 {
		req.Header.Set(testReplicaHeader, strconv.Itoa(pin))
	}
	res, err := e.hc.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer res.Body.Close()
	a := answer{status: res.StatusCode, retryAfter: res.Header.Get("Retry-After")}
	b, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(b, &a.body); err != nil && len(b) > 0 {
		a.err = fmt.Errorf("%s %s: %d, not JSON: %.200s", method, path, res.StatusCode, b)
	}
	return a
}

// together runs n calls of f at once (f(i) for i < n) and returns their answers.
func together(n int, f func(i int) answer) []answer {
	out := make([]answer, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			out[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	return out
}

// tally counts answers by "status error".
func tally(t *testing.T, as []answer) map[string]int {
	t.Helper()
	m := map[string]int{}
	for _, a := range as {
		if a.err != nil {
			t.Error(a.err)
			continue
		}
		m[fmt.Sprintf("%d %s", a.status, str(a.body["error"]))]++
	}
	return m
}

func sameTally(got, want map[string]int) bool {
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

// TestReplicasInitialTokenUses: an initial access token with one (or three) uses, presented
// by 32 concurrent registrations split across two replicas, registers exactly once (three
// times); the others get 401 invalid_token, as from one server.
func TestReplicasInitialTokenUses(t *testing.T) {
	onPostgres(t, 2, func(t *testing.T) {
		for _, uses := range []Uses{1, 3} {
			t.Run(fmt.Sprint(uses), func(t *testing.T) {
				e := start(t, func(c *Config) { c.InitialTokenUses = uses })
				tok := e.bootstrapToken("dcr")
				const n = 32
				got := tally(t, together(n, func(i int) answer {
					return e.send(i%2, http.MethodPost, "/register", tok, ccMetadata, nil)
				}))
				if want := map[string]int{"201 ": int(uses), "401 invalid_token": n - int(uses)}; !sameTally(got, want) {
					t.Errorf("answers %v, want %v", got, want)
				}
			})
		}
	})
}

// TestReplicasRotation: 16 concurrent updates of one client with registration access token
// rotation, split across two replicas: one wins, the others get 401 invalid_token; then the
// winner's token works on both replicas and the old one on neither.
func TestReplicasRotation(t *testing.T) {
	onPostgres(t, 2, func(t *testing.T) {
		e := start(t, func(c *Config) { c.RotateRegistrationToken = RotateOnUpdate })
		c := e.mustRegister(t, ccMetadata)
		put := map[string]any{"client_id": c.ID, "grant_types": []string{"client_credentials"}, "scope": "dcr", "client_name": "renamed"}
		as := together(16, func(i int) answer { return e.send(i%2, http.MethodPut, c.URI, c.RAT, put, nil) })
		if got, want := tally(t, as), map[string]int{"200 ": 1, "401 invalid_token": 15}; !sameTally(got, want) {
			t.Fatalf("answers %v, want %v", got, want)
		}
		var rat string
		for _, a := range as {
			if a.status == 200 {
				rat = str(a.body["registration_access_token"])
			}
		}
		var got []int
		for pin := range 2 {
			got = append(got, e.send(pin, http.MethodGet, c.URI, rat, nil, nil).status, e.send(pin, http.MethodGet, c.URI, c.RAT, nil, nil).status)
		}
		if want := []int{200, 401, 200, 401}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("[new token, old token] on replica 0 then 1: %v, want %v", got, want)
		}
	})
}

// TestReplicasRefreshReuse: a refresh token used once on one replica and again on the other
// is refused there, and the reuse revokes the grant on both (its new refresh token too); of
// 16 concurrent refreshes with one token across replicas exactly one succeeds.
func TestReplicasRefreshReuse(t *testing.T) {
	onPostgres(t, 2, func(t *testing.T) {
		const cb = "http://127.0.0.1:4000/callback"
		refresh := func(e *env, pin int, rt string) answer {
			return e.send(pin, http.MethodPost, "/token", "", nil, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {DefaultNativeClient}})
		}
		t.Run("sequential", func(t *testing.T) {
			e := start(t, nil)
			rt0 := str(e.codeLogin(t, DefaultNativeClient, cb, "openid offline_access").Body["refresh_token"])
			first := refresh(e, 0, rt0)
			rt1 := str(first.body["refresh_token"])
			again := refresh(e, 1, rt0)
			after := refresh(e, 0, rt1)
			got := []string{fmt.Sprintf("%d %v", first.status, rt1 != ""), fmt.Sprintf("%d %s", again.status, str(again.body["error"])), fmt.Sprintf("%d %s", after.status, str(after.body["error"]))}
			if want := []string{"200 true", "400 invalid_grant", "400 invalid_grant"}; fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("[refresh on 0, reuse on 1, new token on 0] = %v, want %v", got, want)
			}
		})
		t.Run("concurrent", func(t *testing.T) {
			e := start(t, nil)
			rt0 := str(e.codeLogin(t, DefaultNativeClient, cb, "openid offline_access").Body["refresh_token"])
			as := together(16, func(i int) answer { return refresh(e, i%2, rt0) })
			if got, want := tally(t, as), map[string]int{"200 ": 1, "400 invalid_grant": 15}; !sameTally(got, want) {
				t.Errorf("answers %v, want %v", got, want)
			}
		})
	})
}

// TestReplicasSSOAcross: the login form served by replica 0 is posted to replica 1 (its CSRF
// state), the code is redeemed on 0, and the SSO session made on 1 logs the user in on 0
// without a form.
func TestReplicasSSOAcross(t *testing.T) {
	onPostgres(t, 2, func(t *testing.T) {
		e := start(t, nil)
		const cb = "http://127.0.0.1:4000/callback"
		var pin atomic.Int64
		e.hc.Transport = pinTransport{&pin}
		p := loginParams(DefaultNativeClient, cb, "openid")
		pin.Store(0)
		page := e.do(mustRequest(http.MethodGet, e.url("/authorize?"+p.Encode()), nil))
		if page.Status != 200 || !strings.Contains(page.Raw, `id="login"`) {
			t.Fatalf("login page: %d", page.Status)
		}
		f := hiddenFields(page.Raw)
		f.Set("username", DefaultUser)
		f.Set("password", DefaultUserPassword)
		pin.Store(1)
		req := mustRequest(http.MethodPost, e.url("/authorize"), strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		code := callback(t, e.do(req)).Get("code")
		redeem := func(code string) resp {
			return e.form("/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
				"redirect_uri": {cb}, "code_verifier": {verifier}, "client_id": {DefaultNativeClient}}, "", "")
		}
		pin.Store(0)
		first := redeem(code)
		// SSO: replica 0 finds the session replica 1 made; no login form.
		sso := e.do(mustRequest(http.MethodGet, e.url("/authorize?"+p.Encode()), nil))
		second := redeem(callback(t, sso).Get("code"))
		pin.Store(1)
		third := redeem(code) // the first code again, on the other replica
		got := []any{first.Status, first.Body["id_token"] != nil, second.Status, third.Status, str(third.Body["error"])}
		if want := []any{200, true, 200, 400, "invalid_grant"}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("[code, id token, SSO code, used code again] = %v, want %v", got, want)
		}
	})
}

func mustRequest(method, u string, body io.Reader) *http.Request {
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		panic(err)
	}
	return req
}

// pinTransport sends every request to the replica *pin says.
type pinTransport struct{ pin *atomic.Int64 }

func (p pinTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(testReplicaHeader, strconv.FormatInt(p.pin.Load(), 10))
	return http.DefaultTransport.RoundTrip(r)
}

// acked is a registration the server acknowledged (201).
type acked struct{ uri, rat string }

// load registers clients from 4 workers until stop is closed (at most 500 each), recording
// every answer and the acknowledged registrations.
func load(e *env, stop <-chan struct{}) (answers func() []answer, acks func() []acked, wait func()) {
	var mu sync.Mutex
	var as []answer
	var ok []acked
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 500 {
				select {
				case <-stop:
					return
				default:
				}
				a := e.send(-1, http.MethodPost, "/register", "", ccMetadata, nil)
				mu.Lock()
				as = append(as, a)
				if a.status == 201 {
					ok = append(ok, acked{str(a.body["registration_client_uri"]), str(a.body["registration_access_token"])})
				}
				mu.Unlock()
			}
		})
	}
	answers = func() []answer { mu.Lock(); defer mu.Unlock(); return append([]answer(nil), as...) }
	acks = func() []acked { mu.Lock(); defer mu.Unlock(); return append([]acked(nil), ok...) }
	return answers, acks, wg.Wait
}

// waitFor polls cond every 10 ms for at most d.
func waitFor(d time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// checkAcked reads every acknowledged registration back from both replicas.
func checkAcked(t *testing.T, e *env, acks []acked) {
	t.Helper()
	lost := 0
	for _, a := range acks {
		for pin := range 2 {
			if r := e.send(pin, http.MethodGet, a.uri, a.rat, nil, nil); r.status != 200 {
				lost++
			}
		}
	}
	if lost > 0 || len(acks) == 0 {
		t.Errorf("%d of %d reads of %d acknowledged registrations failed", lost, 2*len(acks), len(acks))
	}
}

// TestReplicasRollingRestart restarts each replica in turn (taken out of the balancer,
// drained, closed, started again) while four workers register clients: every request is
// answered 201 and every acknowledged registration is there afterwards, on both replicas.
func TestReplicasRollingRestart(t *testing.T) {
	onPostgres(t, 2, func(t *testing.T) {
		e := start(t, func(c *Config) { c.Registration = ModeOpen })
		b := e.hs.Config.Handler.(*balancer)
		stop := make(chan struct{})
		answers, acks, wait := load(e, stop)
		progress := func(n int) {
			if !waitFor(30*time.Second, func() bool { return len(acks()) >= n }) {
				t.Errorf("only %d registrations acknowledged, waited for %d", len(acks()), n)
			}
		}
		progress(30)
		b.restart(t, 1)
		progress(len(acks()) + 30)
		b.restart(t, 0)
		progress(len(acks()) + 30)
		close(stop)
		wait()
		if got := tally(t, answers()); len(got) != 1 || got["201 "] == 0 {
			t.Errorf("answers %v, want only 201", got)
		}
		checkAcked(t, e, acks())
	})
}

// TestReplicasDatabaseRestart stops the database (pg_ctl stop -m fast) under load on two
// replicas and starts it again: while it is down, requests get 503 temporarily_unavailable
// with Retry-After, never a 500; once it is back, both replicas answer 201 again by
// themselves, and nothing acknowledged is lost.
func TestReplicasDatabaseRestart(t *testing.T) {
	in := pgtest.Private(t)
	dsn, err := in.CreateDB()
	if err != nil {
		t.Fatal(err)
	}
	onPostgres(t, 2, func(t *testing.T) {
		e := start(t, func(c *Config) { c.Registration = ModeOpen; c.DBPath = dsn })
		stop := make(chan struct{})
		answers, acks, wait := load(e, stop)
		defer func() { close(stop); wait() }()
		count := func(status int) (n int) {
			for _, a := range answers() {
				if a.status == status {
					n++
				}
			}
			return n
		}
		if !waitFor(30*time.Second, func() bool { return len(acks()) >= 20 }) {
			t.Fatalf("before the stop: %v", tally(t, answers()))
		}
		if err := in.StopServer(); err != nil {
			t.Fatal(err)
		}
		if !waitFor(30*time.Second, func() bool { return count(503) >= 20 }) {
			t.Errorf("database down: %v, want 503s", tally(t, answers()))
		}
		down := len(answers())
		if err := in.StartServer(); err != nil {
			t.Fatal(err)
		}
		// Recovery: 201s again from both replicas (workers alternate between them).
		if !waitFor(30*time.Second, func() bool {
			as := answers()[down:]
			n := 0
			for _, a := range as {
				if a.status == 201 {
					n++
				}
			}
			return n >= 20
		}) {
			t.Errorf("after the database came back: %v", tally(t, answers()[down:]))
		}
		close(stop)
		wait()
		stop = make(chan struct{}) // for the deferred close
		t.Logf("answers: %v", tally(t, answers()))
		for _, a := range answers() {
			switch {
			case a.err != nil:
				t.Error(a.err)
			case a.status == 503 && (a.retryAfter != retryAfter || str(a.body["error"]) != "temporarily_unavailable"):
				t.Errorf("503 with Retry-After %q and body %v", a.retryAfter, a.body)
			case a.status != 503 && a.status != 201:
				t.Errorf("status %d: %v", a.status, a.body)
			}
		}
		checkAcked(t, e, acks())
	})
}

// TestReplicasKeyRotation: a signing key rotated on one replica is published by the other
// within a sweeper tick.
func TestReplicasKeyRotation(t *testing.T) {
	old := sweepEvery
	sweepEvery = 20 * time.Millisecond
	t.Cleanup(func() { sweepEvery = old })
	onPostgres(t, 2, func(t *testing.T) {
		e := start(t, nil)
		kid, err := e.srv.RotateSigningKey(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		var keys []any
		published := func() bool {
			a := e.send(1, http.MethodGet, pathJWKS, "", nil, nil)
			keys, _ = a.body["keys"].([]any)
			return len(keys) == 1 && keys[0].(map[string]any)["kid"] == kid
		}
		if !waitFor(10*time.Second, published) {
			t.Errorf("replica 1 publishes %v, want only key %s", keys, kid)
		}
	})
}
