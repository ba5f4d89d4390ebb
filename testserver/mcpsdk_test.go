package testserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dcrctl/dcrctl/testserver"
	"github.com/dcrctl/dcrctl/testserver/servertest"
)

// mcpSDKDir holds the pinned MCP TypeScript SDK (package.json, package-lock.json) and the
// script that drives its client auth. `.ci/test` runs `npm ci` there.
const mcpSDKDir = "testdata/mcp-sdk"

// The result line of mcp.mjs; secrets appear only as booleans.
type (
	mcpResult struct {
		Fatal           *struct{ Name, Message string } `json:"fatal,omitempty"`
		SDK             string                          `json:"sdk"`
		Steps           []string                        `json:"steps"`
		AuthzRequest    mcpAuthzRequest                 `json:"authorization_request"`
		Registration    mcpRegistration                 `json:"registration"`
		Discovery       mcpDiscovery                    `json:"discovery"`
		Callback        mcpCallback                     `json:"callback"`
		AuthResult      string                          `json:"auth_result"`
		Tokens          mcpTokens                       `json:"tokens"`
		ResourceAnswer  mcpAnswer                       `json:"resource_answer"`
		Refresh         mcpRefresh                      `json:"refresh"`
		RefreshedAnswer mcpAnswer                       `json:"refreshed_answer"`
		Requests        []mcpRequest                    `json:"requests"`
	}
	mcpAuthzRequest struct {
		Endpoint            string   `json:"endpoint"`
		Params              []string `json:"params"`
		Resource            string   `json:"resource"`
		ClientIDRegistered  bool     `json:"client_id_registered"`
		ClientIDIsMDURL     bool     `json:"client_id_is_metadata_url"`
		CodeChallengeMethod string   `json:"code_challenge_method"`
		RedirectURI         string   `json:"redirect_uri"`
		Scope               string   `json:"scope"`
	}
	mcpRegistration struct {
		ClientID                bool     `json:"client_id"`
		ClientSecret            bool     `json:"client_secret"`
		TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
		RedirectURIs            []string `json:"redirect_uris"`
	}
	mcpDiscovery struct {
		AuthorizationServer   string `json:"authorization_server"`
		Resource              string `json:"resource"`
		Issuer                string `json:"issuer"`
		ISSParameterSupported bool   `json:"iss_parameter_supported"`
		CIMDSupported         bool   `json:"client_id_metadata_document_supported"`
	}
	mcpCallback struct {
		ToRedirectURI bool     `json:"to_redirect_uri"`
		Params        []string `json:"params"`
		StateMatches  bool     `json:"state_matches"`
		ISS           string   `json:"iss"`
	}
	mcpTokens struct {
		AccessToken  bool   `json:"access_token"`
		RefreshToken bool   `json:"refresh_token"`
		TokenType    string `json:"token_type"`
		Scope        string `json:"scope"`
	}
	mcpRefresh struct {
		AuthResult          string `json:"auth_result"`
		AccessTokenChanged  bool   `json:"access_token_changed"`
		RefreshTokenRotated bool   `json:"refresh_token_rotated"`
		Scope               string `json:"scope"`
	}
	mcpAnswer struct {
		Status int            `json:"status"`
		Body   map[string]any `json:"body"`
	}
	mcpRequest struct {
		Method   string `json:"method"`
		URL      string `json:"url"`
		Resource string `json:"resource"`
		Auth     string `json:"auth"`
		Status   int    `json:"status"`
	}
)

// requireMCPSDK checks that node and the pinned SDK are installed and returns the pinned
// version from package.json.
func requireMCPSDK(t *testing.T) string {
	t.Helper()
	_, err := exec.LookPath("node")
	requireComponent(t, err, "node", "install Node.js ≥ 20")
	b, err := os.ReadFile(filepath.Join(mcpSDKDir, "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		t.Fatalf("%s/package.json: %v", mcpSDKDir, err)
	}
	_, err = os.Stat(filepath.Join(mcpSDKDir, "node_modules", "@modelcontextprotocol", "sdk", "package.json"))
	requireComponent(t, err, mcpSDKDir+"/node_modules", "run `npm ci` in testserver/"+mcpSDKDir)
	return pkg.Dependencies["@modelcontextprotocol/sdk"]
}

// TestInteropMCPSDK runs the MCP TypeScript SDK's client auth (pinned in testdata/mcp-sdk)
// against the real server with the protected resource on (--resource-path /mcp) and open
// registration, as an MCP client meets an MCP server: the SDK's withOAuth fetch gets a 401
// naming resource_metadata (RFC 9728 §5.1), discovers the resource's and then the
// authorization server's metadata, registers a client (RFC 7591) and sends an authorization
// request with PKCE and resource (RFC 8707); the script logs in on the login page as the
// user's browser would; the SDK exchanges the code, naming the resource again, and calls the
// resource with the token, which answers 200 because the token's audience is the resource;
// then the SDK refreshes (resource again) and calls the resource with the new token. Every
// request the SDK made is compared, in order. It runs for a public client (none, what MCP
// clients register) and for the two secret-based methods, which the SDK picks from the
// registration response; the server must hold each client as registered. Each runs with the
// issuer at the host's root and with an issuer path, where every well-known URL is path-aware
// (RFC 8414 §3.1, RFC 9728 §3.1).
func TestInteropMCPSDK(t *testing.T) {
	pinned := requireMCPSDK(t)
	for _, path := range []string{"", "/tenant"} {
		t.Run("issuer_path="+path, func(t *testing.T) {
			for _, method := range []string{"none", "client_secret_basic", "client_secret_post"} {
				t.Run(method, func(t *testing.T) { testMCPSDKDCR(t, pinned, path, method) })
			}
		})
	}
}

func testMCPSDKDCR(t *testing.T, pinned, path, method string) {
	ts := servertest.Start(t, func(c *testserver.Config) {
		c.Issuer += path
		c.Registration = testserver.ModeOpen
		c.ResourcePath = "/mcp"
	})
	const redirectURI = "http://127.0.0.1:53683/callback"
	got := runMCPSDK(t, map[string]string{"resource": ts.Issuer() + "/mcp", "redirect_uri": redirectURI, "token_endpoint_auth_method": method})
	clientID, _ := got.ResourceAnswer.Body["client_id"].(string)
	if clientID == "" {
		t.Fatalf("the resource's answer names no client_id: %v", got.ResourceAnswer.Body)
	}
	want := mcpWant(ts, path, pinned, redirectURI, clientID, method)
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("MCP SDK result\n got: %s\nwant: %s", g, w)
	}

	// The server holds the client the SDK registered, as the SDK asked for it.
	clients := exportedClients(t, ts)
	if len(clients) != 1 || clients[0].ID != clientID {
		t.Fatalf("the server holds clients %q, want the one %s the SDK registered", clientIDs(clients), clientID)
	}
	var md struct {
		ClientName              string   `json:"client_name"`
		RedirectURIs            []string `json:"redirect_uris"`
		TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	}
	if err := json.Unmarshal([]byte(clients[0].Metadata), &md); err != nil {
		t.Fatal(err)
	}
	if md.ClientName != "MCP SDK interop" || !reflect.DeepEqual(md.RedirectURIs, []string{redirectURI}) ||
		md.TokenEndpointAuthMethod != method || (clients[0].SecretHash != nil) != (method != "none") {
		t.Errorf("the stored client: %+v, secret %t; want MCP SDK interop, %s, %s, a secret unless none", md, clients[0].SecretHash != nil, redirectURI, method)
	}
}

// mcpWant is the whole result of mcp.mjs against ts (its issuer path path, its resource at
// /mcp): for a client the SDK registered with authMethod, or, with authMethod "cimd", the
// client whose Client ID Metadata Document is at clientID.
func mcpWant(ts *servertest.Server, path, pinned, redirectURI, clientID, authMethod string) mcpResult {
	iss := ts.Issuer()
	origin := strings.TrimSuffix(iss, path)
	resource := iss + "/mcp"
	metadata := origin + "/.well-known/oauth-protected-resource" + path + "/mcp"
	// The SDK asks for every scope the resource's metadata lists (MCP's scope selection): all
	// of the server's but dcr, which is the registration endpoint's, not the resource's.
	const scope = "openid profile email offline_access"
	req := func(method, url, res, auth string, status int) mcpRequest {
		return mcpRequest{Method: method, URL: url, Resource: res, Auth: auth, Status: status}
	}
	// How the SDK authenticates at the token endpoint: as registered (a public client sends
	// only its client_id, which the log does not count as a credential).
	tokenAuth := map[string]string{"client_secret_basic": "basic", "client_secret_post": "client_secret_post"}[authMethod]
	answer := mcpAnswer{Status: 200, Body: map[string]any{
		"resource": resource, "sub": testserver.DefaultUser, "client_id": clientID, "scope": scope, "aud": []any{resource},
	}}
	discovery := []mcpRequest{
		req("GET", metadata, "", "", 200), // the path-aware well-known URL (RFC 9728 §3.1)
		req("GET", origin+"/.well-known/oauth-authorization-server"+path, "", "", 200),
	}
	w := mcpResult{
		SDK:   pinned,
		Steps: []string{"unauthorized call", "login", "token", "authorized call", "refresh", "refreshed call"},
		AuthzRequest: mcpAuthzRequest{
			Endpoint: iss + "/authorize",
			Params:   []string{"client_id", "code_challenge", "code_challenge_method", "prompt", "redirect_uri", "resource", "response_type", "scope", "state"},
			Resource: resource, ClientIDRegistered: true, CodeChallengeMethod: "S256", RedirectURI: redirectURI, Scope: scope,
		},
		Registration: mcpRegistration{ClientID: true, ClientSecret: authMethod != "none", TokenEndpointAuthMethod: authMethod, RedirectURIs: []string{redirectURI}},
		Discovery:    mcpDiscovery{AuthorizationServer: iss, Resource: resource, Issuer: iss, ISSParameterSupported: true},
		// RFC 9207: the redirect carries iss, the issuer the SDK discovered.
		Callback:        mcpCallback{ToRedirectURI: true, Params: []string{"code", "iss", "state"}, StateMatches: true, ISS: iss},
		AuthResult:      "AUTHORIZED",
		Tokens:          mcpTokens{AccessToken: true, RefreshToken: true, TokenType: "Bearer", Scope: scope},
		ResourceAnswer:  answer,
		Refresh:         mcpRefresh{AuthResult: "AUTHORIZED", AccessTokenChanged: true, RefreshTokenRotated: true, Scope: scope},
		RefreshedAnswer: answer,
	}
	// The 401's resource_metadata names the metadata; then the authorization server's.
	w.Requests = append([]mcpRequest{req("GET", resource, "", "", 401)}, discovery...)
	if authMethod == "cimd" {
		// The SDK keeps {client_id: URL} as its client information: nothing is registered.
		w.AuthzRequest.ClientIDIsMDURL = true
		w.Registration = mcpRegistration{ClientID: true}
		w.Discovery.CIMDSupported = true
	} else {
		w.Requests = append(w.Requests, req("POST", iss+"/register", "", "", 201))
	}
	w.Requests = append(w.Requests, discovery...)
	w.Requests = append(w.Requests,
		req("POST", iss+"/token", resource, tokenAuth, 200), // RFC 8707 §2.2
		req("GET", resource, "", "bearer", 200))
	// The refresh: auth() discovers again (this provider keeps no discovery state) and sends
	// resource with the refresh token too.
	w.Requests = append(w.Requests, discovery...)
	w.Requests = append(w.Requests,
		req("POST", iss+"/token", resource, tokenAuth, 200),
		req("GET", resource, "", "bearer", 200))
	return w
}

// exportedClient is a registered client as Server.Export writes it.
type exportedClient struct {
	ID         string
	SecretHash []byte
	Metadata   string
}

func clientIDs(cs []exportedClient) []string {
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return ids
}

// exportedClients are the clients the server's database holds (registered ones: static
// clients live in the configuration).
func exportedClients(t *testing.T, ts *servertest.Server) []exportedClient {
	t.Helper()
	var b bytes.Buffer
	if err := ts.Server.Export(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	var st struct {
		Clients []exportedClient `json:"clients"`
	}
	if err := json.Unmarshal(b.Bytes(), &st); err != nil {
		t.Fatal(err)
	}
	return st.Clients
}

// runMCPSDK runs mcp.mjs with in (the demo user's login added), bounded to 90 s, and returns
// its result line; a run that failed, or printed no result, fails the test.
func runMCPSDK(t *testing.T, in map[string]string) mcpResult {
	t.Helper()
	in["username"], in["password"] = testserver.DefaultUser, testserver.DefaultUserPassword
	input, _ := json.Marshal(in)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "mcp.mjs")
	cmd.Dir = mcpSDKDir
	cmd.Env = append(os.Environ(), "NODE_NO_WARNINGS=1")
	cmd.Stdin = bytes.NewReader(input)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Error("mcp.mjs hit the 90 s deadline")
	}

	var got mcpResult
	dec := json.NewDecoder(bytes.NewReader(stdout.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("mcp.mjs printed no result line (%v; run: %v)\nstdout: %.2000s\nstderr: %.2000s", err, runErr, stdout.String(), stderr.String())
	}
	if got.Fatal != nil || runErr != nil {
		t.Fatalf("mcp.mjs failed after steps %q: %+v (run: %v)\nstderr: %.2000s", got.Steps, got.Fatal, runErr, stderr.String())
	}
	return got
}
