package testserver

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// These in-process benchmarks guard the hot paths (the load benchmark over loopback lives
// elsewhere). Each compares with a trivial in-memory handler: parse JSON, random id and
// secret, store in a map, 201.

func trivialHandler() http.Handler {
	var mu sync.Mutex
	m := map[string][]byte{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var v map[string]any
		b, _ := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if json.Unmarshal(b, &v) != nil {
			w.WriteHeader(400)
			return
		}
		id, sec := make([]byte, 16), make([]byte, 32)
		rand.Read(id)
		rand.Read(sec)
		mu.Lock()
		m[string(id)] = sec
		mu.Unlock()
		out, _ := json.Marshal(map[string]any{"client_id": b64(id), "client_secret": b64(sec)})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(201)
		w.Write(out)
	})
}

func benchServer(b *testing.B, mut func(*Config)) (*httptest.Server, Config) {
	hs, srv := serveHTTPTest(b, func(cfg *Config) {
		cfg.DBPath = filepath.Join(benchDir(b), "bench.db")
		if mut != nil {
			mut(cfg)
		}
	})
	return hs, srv.Config()
}

func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
}

func runParallel(b *testing.B, hc *http.Client, mk func() *http.Request, want int) {
	b.SetParallelism(16) // 32 goroutines on 2 cores
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			res, err := hc.Do(mk())
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != want {
				b.Errorf("status %d", res.StatusCode)
				return
			}
		}
	})
}

const benchMetadata = `{"redirect_uris":["https://app.example/cb"],"client_name":"bench","grant_types":["authorization_code","refresh_token"]}`

func BenchmarkRegistrationBaseline(b *testing.B) {
	hs := httptest.NewServer(trivialHandler())
	defer hs.Close()
	hc := benchClient()
	runParallel(b, hc, func() *http.Request {
		r, _ := http.NewRequest(http.MethodPost, hs.URL+"/register", strings.NewReader(benchMetadata))
		r.Header.Set("Content-Type", "application/json")
		return r
	}, 201)
}

func BenchmarkRegistrationOpen(b *testing.B) {
	hs, _ := benchServer(b, func(c *Config) { c.Registration = ModeOpen })
	hc := benchClient()
	runParallel(b, hc, func() *http.Request {
		r, _ := http.NewRequest(http.MethodPost, hs.URL+"/register", strings.NewReader(benchMetadata))
		r.Header.Set("Content-Type", "application/json")
		return r
	}, 201)
}

func BenchmarkRegistrationReusableToken(b *testing.B) {
	hs, cfg := benchServer(b, func(c *Config) { c.InitialTokenUses = Reusable })
	hc := benchClient()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"dcr"}}
	req, _ := http.NewRequest(http.MethodPost, hs.URL+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(cfg.Clients[0].ClientID, cfg.Clients[0].ClientSecret)
	res, err := hc.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	var tok map[string]any
	json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
	at := tok["access_token"].(string)
	runParallel(b, hc, func() *http.Request {
		r, _ := http.NewRequest(http.MethodPost, hs.URL+"/register", bytes.NewReader([]byte(benchMetadata)))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+at)
		return r
	}, 201)
}

func BenchmarkClientCredentials(b *testing.B) {
	hs, _ := benchServer(b, func(c *Config) { c.Registration = ModeOpen })
	hc := benchClient()
	res, err := hc.Post(hs.URL+"/register", "application/json", strings.NewReader(`{"grant_types":["client_credentials"],"scope":"dcr"}`))
	if err != nil {
		b.Fatal(err)
	}
	var reg map[string]any
	json.NewDecoder(res.Body).Decode(&reg)
	res.Body.Close()
	id, secret := reg["client_id"].(string), reg["client_secret"].(string)
	body := url.Values{"grant_type": {"client_credentials"}}.Encode()
	runParallel(b, hc, func() *http.Request {
		r, _ := http.NewRequest(http.MethodPost, hs.URL+"/token", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.SetBasicAuth(id, secret)
		return r
	}, 200)
}

// benchDir is where the benchmark database lives: $DCRCTL_BENCH_DIR (e.g. /dev/shm to take the
// disk out of the measurement) or a temporary directory.
func benchDir(b *testing.B) string {
	if d := os.Getenv("DCRCTL_BENCH_DIR"); d != "" {
		d, err := os.MkdirTemp(d, "bench")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { os.RemoveAll(d) })
		return d
	}
	return b.TempDir()
}
