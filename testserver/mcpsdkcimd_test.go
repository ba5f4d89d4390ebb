package testserver_test

import (
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync/atomic"
	"testing"

	"github.com/dcrctl/dcrctl/testserver"
	"github.com/dcrctl/dcrctl/testserver/servertest"
)

// TestInteropMCPSDKCIMD is TestInteropMCPSDK with a Client ID Metadata Document instead of
// DCR: the SDK's OAuthClientProvider has a clientMetadataUrl (SEP-991), the server runs with
// --cimd --cimd-allow-loopback and registration that needs an initial access token (so the
// SDK cannot register), and the document is served over HTTPS by a loopback test server whose
// certificate the server trusts (CIMD.RootCAs, --ca-file). The SDK sees
// client_id_metadata_document_supported, uses the URL as client_id without any registration
// request, logs in as that public client with PKCE and resource, calls the resource,
// refreshes and calls it again; the server fetched the document and holds no client.
func TestInteropMCPSDKCIMD(t *testing.T) {
	pinned := requireMCPSDK(t)
	var fetches atomic.Int32
	var docURL string
	const redirectURI = "http://127.0.0.1:53684/callback"
	docs := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/mcp-client.json" {
			http.NotFound(w, r)
			return
		}
		fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"client_id": docURL, "client_name": "MCP SDK interop (CIMD)",
			"redirect_uris": []string{redirectURI}, "grant_types": []string{"authorization_code", "refresh_token"},
			"response_types": []string{"code"}, "token_endpoint_auth_method": "none",
		})
	}))
	t.Cleanup(docs.Close)
	docURL = docs.URL + "/mcp-client.json"
	roots := x509.NewCertPool()
	roots.AddCert(docs.Certificate())

	ts := servertest.Start(t, func(c *testserver.Config) {
		c.Registration = testserver.ModeClient // DCR needs an initial access token the SDK has not got
		c.ResourcePath = "/mcp"
		c.CIMD = testserver.CIMD{Enabled: true, AllowLoopback: true, RootCAs: roots}
	})
	got := runMCPSDK(t, map[string]string{"resource": ts.Issuer() + "/mcp", "redirect_uri": redirectURI, "client_metadata_url": docURL})
	// No POST /register: the metadata document stands for the registration.
	want := mcpWant(ts, "", pinned, redirectURI, docURL, "cimd")
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("MCP SDK result with a Client ID Metadata Document\n got: %s\nwant: %s", g, w)
	}
	if n := fetches.Load(); n < 1 {
		t.Errorf("the server fetched the metadata document %d times, want at least once", n)
	}
	if c := exportedClients(t, ts); len(c) != 0 {
		t.Errorf("the server holds registered clients %q, want none", clientIDs(c))
	}
}
