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
// request, logs in as that public client with PKCE and resource, and calls the resource.
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
	iss := ts.Issuer()
	resource := iss + "/mcp"
	metadata := iss + "/.well-known/oauth-protected-resource/mcp"

	got := runMCPSDK(t, map[string]string{"resource": resource, "redirect_uri": redirectURI, "client_metadata_url": docURL})

	const scope = "openid profile email offline_access"
	req := func(method, url, res string, bearer bool, status int) mcpRequest {
		return mcpRequest{Method: method, URL: url, Resource: res, Bearer: bearer, Status: status}
	}
	want := mcpResult{
		SDK:   pinned,
		Steps: []string{"unauthorized call", "login", "token", "authorized call"},
		AuthzRequest: mcpAuthzRequest{
			Endpoint: iss + "/authorize",
			Params:   []string{"client_id", "code_challenge", "code_challenge_method", "prompt", "redirect_uri", "resource", "response_type", "scope", "state"},
			Resource: resource, ClientIDRegistered: true, ClientIDIsMDURL: true, CodeChallengeMethod: "S256", RedirectURI: redirectURI, Scope: scope,
		},
		// The SDK keeps {client_id: URL} as its client information: nothing was registered.
		Registration: mcpRegistration{ClientID: true},
		Discovery:    mcpDiscovery{AuthorizationServer: iss, Resource: resource, Issuer: iss, ISSParameterSupported: true, CIMDSupported: true},
		Callback:     mcpCallback{ToRedirectURI: true, Params: []string{"code", "iss", "state"}, StateMatches: true, ISS: iss},
		AuthResult:   "AUTHORIZED",
		Tokens:       mcpTokens{AccessToken: true, RefreshToken: true, TokenType: "Bearer", Scope: scope},
		ResourceAnswer: mcpAnswer{Status: 200, Body: map[string]any{
			"resource": resource, "sub": testserver.DefaultUser, "client_id": docURL, "scope": scope, "aud": []any{resource},
		}},
		// No POST /register: the metadata document stands for the registration.
		Requests: []mcpRequest{
			req("GET", resource, "", false, 401),
			req("GET", metadata, "", false, 200),
			req("GET", iss+"/.well-known/oauth-authorization-server", "", false, 200),
			req("GET", metadata, "", false, 200),
			req("GET", iss+"/.well-known/oauth-authorization-server", "", false, 200),
			req("POST", iss+"/token", resource, false, 200),
			req("GET", resource, "", true, 200),
		},
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("MCP SDK result with a Client ID Metadata Document\n got: %s\nwant: %s", g, w)
	}
	if n := fetches.Load(); n < 1 {
		t.Errorf("the server fetched the metadata document %d times, want at least once", n)
	}
}
