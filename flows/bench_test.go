package flows

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// BenchmarkClientCredentials measures a client credentials token from the real testserver
// over loopback HTTP (endpoints given, so no discovery per token).
func BenchmarkClientCredentials(b *testing.B) {
	issuer, cfg := startServerB(b)
	boot := cfg.Clients[0]
	cc := ClientCredentials{TokenURL: issuer + "/token", ClientID: boot.ClientID, ClientSecret: boot.ClientSecret,
		HTTPClient: &http.Client{Timeout: 10 * time.Second}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := cc.Token(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCallbackCheck measures the validation of one authorization response.
func BenchmarkCallbackCheck(b *testing.B) {
	h := &callbackHandler{state: "0123456789abcdef0123456789abcdef0123456789a", issuer: "http://127.0.0.1:1"}
	q := url.Values{"code": {"c"}, "state": {h.state}, "iss": {h.issuer}}
	b.ReportAllocs()
	for b.Loop() {
		if res := h.check(q); res.err != nil {
			b.Fatal(res.err)
		}
	}
}
