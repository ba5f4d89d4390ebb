package cimd

import (
	"bytes"
	"encoding/json"
	"net"
	"net/url"
	"strings"
)

// Template is what [New] makes a document from.
type Template struct {
	ClientID     string   // the URL the document will be served at
	ClientURI    string   // the client's home page (RFC 7591 §2 client_uri); optional
	ClientName   string   // shown to the user on the consent page; optional
	RedirectURIs []string // at least one
}

// New returns the document of a public client (token_endpoint_auth_method none, §4.1) using
// the authorization code grant with refresh tokens, as indented JSON with members in a fixed
// order. application_type is native when every redirect URI is loopback http or a private-use
// scheme (RFC 8252 §7), web otherwise. It returns the problems [Check] finds in it: New does
// not refuse a bad template, it reports it.
func New(t Template) ([]byte, Problems) {
	type doc struct {
		ClientID        string   `json:"client_id"`
		ClientName      string   `json:"client_name,omitempty"`
		ClientURI       string   `json:"client_uri,omitempty"`
		RedirectURIs    []string `json:"redirect_uris"`
		GrantTypes      []string `json:"grant_types"`
		ResponseTypes   []string `json:"response_types"`
		AuthMethod      string   `json:"token_endpoint_auth_method"`
		ApplicationType string   `json:"application_type"`
	}
	d := doc{ClientID: t.ClientID, ClientName: t.ClientName, ClientURI: t.ClientURI, RedirectURIs: t.RedirectURIs,
		GrantTypes: []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"},
		AuthMethod: "none", ApplicationType: "web"}
	if d.RedirectURIs == nil {
		d.RedirectURIs = []string{}
	}
	if len(t.RedirectURIs) > 0 && allNative(t.RedirectURIs) {
		d.ApplicationType = "native"
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(d)                   // strings and slices only: cannot fail
	_, ps := Check(b.Bytes(), Source{}) // client_id is the URL: checked as one
	return b.Bytes(), ps
}

func allNative(uris []string) bool {
	for _, raw := range uris {
		u, err := url.Parse(raw)
		if err != nil {
			return false
		}
		switch strings.ToLower(u.Scheme) {
		case "https":
			return false
		case "http":
			ip := net.ParseIP(u.Hostname())
			if u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
				return false
			}
		}
	}
	return true
}
