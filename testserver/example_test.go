package testserver_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/dcrctl/dcrctl/testserver"
)

// Start the server under httptest (the issuer must be known before New), get an initial
// access token with the bootstrap client, and register an instance of the default template.
func ExampleNew() {
	hs := httptest.NewUnstartedServer(nil)
	cfg := testserver.DefaultConfig()
	cfg.Issuer = "http://" + hs.Listener.Addr().String()
	srv, err := testserver.New(cfg)
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	hs.Config.Handler = srv
	hs.Start()
	defer hs.Close()

	boot := cfg.Clients[0]
	req, _ := http.NewRequest(http.MethodPost, cfg.Issuer+"/token",
		strings.NewReader(url.Values{"grant_type": {"client_credentials"}, "scope": {"dcr"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(boot.ClientID), url.QueryEscape(boot.ClientSecret))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		Scope       string `json:"scope"`
	}
	json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()

	req, _ = http.NewRequest(http.MethodPost, cfg.Issuer+"/register", strings.NewReader(`{"software_id":"native-app"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	var reg map[string]any
	json.NewDecoder(res.Body).Decode(&reg)
	fmt.Println(tok.Scope, res.StatusCode, reg["software_id"], reg["token_endpoint_auth_method"], reg["redirect_uris"])
	// Output: dcr 201 native-app none [http://127.0.0.1/callback]
}
