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
		Fatal          *struct{ Name, Message string } `json:"fatal,omitempty"`
		SDK            string                          `json:"sdk"`
		Steps          []string                        `json:"steps"`
		AuthzRequest   mcpAuthzRequest                 `json:"authorization_request"`
		Registration   mcpRegistration                 `json:"registration"`
		Discovery      mcpDiscovery                    `json:"discovery"`
		Callback       mcpCallback                     `json:"callback"`
		AuthResult     string                          `json:"auth_result"`
		Tokens         mcpTokens                       `json:"tokens"`
		ResourceAnswer mcpAnswer                       `json:"resource_answer"`
		Requests       []mcpRequest                    `json:"requests"`
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
	mcpAnswer struct {
		Status int            `json:"status"`
		Body   map[string]any `json:"body"`
	}
	mcpRequest struct {
		Method   string `json:"method"`
		URL      string `json:"url"`
		Resource string `json:"resource"`
		Bearer   bool   `json:"bearer"`
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
// authorization server's metadata, registers a public client (RFC 7591) and sends an
// authorization request with PKCE and resource (RFC 8707); the script logs in on the login
// page as the user's browser would; the SDK exchanges the code, naming the resource again, and
// calls the resource with the token, which answers 200 because the token's audience is the
// resource. Every request the SDK made is compared, in order. It runs with the issuer at the
// host's root and with an issuer path, where every well-known URL is path-aware (RFC 8414
// §3.1, RFC 9728 §3.1).
func TestInteropMCPSDK(t *testing.T) {
	pinned := requireMCPSDK(t)
	for _, path := range []string{"", "/tenant"} {
		t.Run("issuer_path="+path, func(t *testing.T) { testMCPSDKDCR(t, pinned, path) })
	}
}

func testMCPSDKDCR(t *testing.T, pinned, path string) {
	ts := servertest.Start(t, func(c *testserver.Config) {
		c.Issuer += path
		c.Registration = testserver.ModeOpen
		c.ResourcePath = "/mcp"
	})
	iss := ts.Issuer()
	origin := strings.TrimSuffix(iss, path)
	resource := iss + "/mcp"
	metadata := origin + "/.well-known/oauth-protected-resource" + path + "/mcp"
	asMetadata := origin + "/.well-known/oauth-authorization-server" + path
	const redirectURI = "http://127.0.0.1:53683/callback"

	got := runMCPSDK(t, map[string]string{"resource": resource, "redirect_uri": redirectURI})
	clientID, _ := got.ResourceAnswer.Body["client_id"].(string)
	if clientID == "" {
		t.Fatalf("the resource's answer names no client_id: %v", got.ResourceAnswer.Body)
	}
	// The SDK asks for every scope the resource's metadata lists (MCP's scope selection): all
	// of the server's but dcr, which is the registration endpoint's, not the resource's.
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
			Resource: resource, ClientIDRegistered: true, CodeChallengeMethod: "S256", RedirectURI: redirectURI, Scope: scope,
		},
		Registration: mcpRegistration{ClientID: true, ClientSecret: false, TokenEndpointAuthMethod: "none", RedirectURIs: []string{redirectURI}},
		Discovery:    mcpDiscovery{AuthorizationServer: iss, Resource: resource, Issuer: iss, ISSParameterSupported: true},
		// RFC 9207: the redirect carries iss, the issuer the SDK discovered.
		Callback:   mcpCallback{ToRedirectURI: true, Params: []string{"code", "iss", "state"}, StateMatches: true, ISS: iss},
		AuthResult: "AUTHORIZED",
		Tokens:     mcpTokens{AccessToken: true, RefreshToken: true, TokenType: "Bearer", Scope: scope},
		ResourceAnswer: mcpAnswer{Status: 200, Body: map[string]any{
			"resource": resource, "sub": testserver.DefaultUser, "client_id": clientID, "scope": scope, "aud": []any{resource},
		}},
		Requests: []mcpRequest{
			req("GET", resource, "", false, 401),
			req("GET", metadata, "", false, 200), // named by the 401's resource_metadata
			req("GET", asMetadata, "", false, 200),
			req("POST", iss+"/register", "", false, 201),
			req("GET", metadata, "", false, 200), // the path-aware well-known URL (RFC 9728 §3.1)
			req("GET", asMetadata, "", false, 200),
			req("POST", iss+"/token", resource, false, 200), // RFC 8707 §2.2
			req("GET", resource, "", true, 200),
		},
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("MCP SDK result\n got: %s\nwant: %s", g, w)
	}
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
