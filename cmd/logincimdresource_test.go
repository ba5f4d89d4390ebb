package cmd

import (
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcrctl/dcrctl/flows/flowstest"
	"github.com/dcrctl/dcrctl/testserver"
)

// TestCIMDLoginResource is the MCP authorization spec's preferred path end to end: dcrctl
// serve as authorization server with --cimd and as protected resource (--resource-path
// /mcp); dcrctl login --resource finds the server through the resource's metadata, logs in as
// the client of a Client ID Metadata Document (nothing registered), gets a token whose
// audience is the resource (RFC 8707), and --check shows the resource accepts it.
func TestCIMDLoginResource(t *testing.T) {
	docs := startCIMDDocs(t)
	id := docs.write(t, "/mcp-client.json", "--client-name", "MCP client", "--redirect-uri", "http://127.0.0.1/callback")
	srv := startServe(t, nil, "-o", "json", "--memory", "--addr", "127.0.0.1:0", "--log-format", "none",
		"--cimd", "--cimd-allow-loopback", "--ca-file", docs.ca, "--resource-path", "/mcp", "--registration", "disabled")
	info := srv.readyLine(t)
	issuer := info["issuer"].(string)
	res := issuer + "/mcp"

	home := t.TempDir()
	env := map[string]string{"HOME": home, "DCRCTL_CONFIG_DIR": filepath.Join(home, "config"), "DCRCTL_KEYSTORE": "file"}
	br := flowstest.New(testserver.DefaultUser, testserver.DefaultUserPassword)
	r := runUser(t, env, br, filepath.Join(home, "none"), "login", "--resource", res, "--client-id", id, "--no-browser",
		"--ca-file", docs.ca, "--check", "-o", "json")
	if r.Code != ExitOK {
		t.Fatalf("login: exit %d, stderr %s", r.Code, r.Stderr)
	}
	for _, want := range []string{"resource " + res + ": authorization server " + issuer + " ", "the resource " + res + " accepted the token (200 OK)\n"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("stderr %q lacks %q", r.Stderr, want)
		}
	}
	if v := br.Last(); !strings.Contains(v.URL, "resource="+url.QueryEscape(res)) || !strings.Contains(v.URL, "client_id="+url.QueryEscape(id)) {
		t.Errorf("authorization request %s: want resource and the document's client_id", v.URL)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("stdout %q: %v", r.Stdout, err)
	}
	form := url.Values{"token": {tok.AccessToken}}
	req, _ := http.NewRequest(http.MethodPost, issuer+"/introspect", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(info["client_id"].(string), info["client_secret"].(string))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var in struct {
		Active   bool     `json:"active"`
		ClientID string   `json:"client_id"`
		Aud      []string `json:"aud"`
	}
	json.NewDecoder(resp.Body).Decode(&in)
	if !in.Active || in.ClientID != id || len(in.Aud) != 1 || in.Aud[0] != res {
		t.Errorf("introspection %+v: want active, client_id %s, aud [%s]", in, id, res)
	}
}
