package cmd

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/dcrctl/dcrctl/testserver"
)

// readyInfo is the -o json line.
type readyInfo struct {
	Issuer       string            `json:"issuer"`
	Registration string            `json:"registration"`
	Endpoints    map[string]string `json:"endpoints"`
	ClientID     string            `json:"client_id,omitempty"`
	ClientSecret string            `json:"client_secret,omitempty"`
	Scope        string            `json:"scope,omitempty"`
	NativeClient string            `json:"native_client_id,omitempty"`
	Clients      []readyClient     `json:"clients"`
	Templates    []string          `json:"templates"`
	Users        []readyUser       `json:"users"`
	DemoUser     *readyUser        `json:"demo_user,omitempty"`
	DB           string            `json:"db"`
	TLSCAFile    string            `json:"tls_ca_file,omitempty"`
	Control      *readyControl     `json:"control,omitempty"`
	BehaveLike   string            `json:"behave_like,omitempty"` // a profile other than strict
}

type readyClient struct {
	ClientID     string   `json:"client_id"`
	ClientSecret string   `json:"client_secret,omitempty"`
	AuthMethod   string   `json:"token_endpoint_auth_method"`
	GrantTypes   []string `json:"grant_types"`
	Scope        string   `json:"scope,omitempty"`
}

type readyUser struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

func buildReadyInfo(srv *testserver.Server, db, caFile string) readyInfo {
	cfg := srv.Config()
	md := srv.Metadata()
	info := readyInfo{Issuer: srv.Issuer(), Registration: string(cfg.Registration), Endpoints: map[string]string{},
		DB: db, TLSCAFile: caFile, Templates: []string{}, Users: []readyUser{}, Clients: []readyClient{}}
	if info.Registration == "" {
		info.Registration = string(testserver.ModeClient)
	}
	if info.DB == "" {
		info.DB = ":memory:"
	}
	for k, v := range md {
		if s, ok := v.(string); ok && (strings.HasSuffix(k, "_endpoint") || k == "jwks_uri") {
			info.Endpoints[k] = s
		}
	}
	info.Endpoints["openid_configuration"] = srv.Issuer() + "/.well-known/openid-configuration"
	if p := cfg.ResourcePath; p != "" {
		info.Endpoints["protected_resource"] = srv.Issuer() + p
	}
	for _, c := range cfg.Clients {
		rc := readyClient{ClientID: c.ClientID, ClientSecret: c.ClientSecret, AuthMethod: c.TokenEndpointAuthMethod, GrantTypes: c.GrantTypes, Scope: c.Scope}
		if rc.AuthMethod == "none" {
			rc.ClientSecret = ""
			if info.NativeClient == "" {
				info.NativeClient = c.ClientID
			}
		} else if info.ClientID == "" && slices.Contains(rc.GrantTypes, "client_credentials") {
			info.ClientID, info.ClientSecret, info.Scope = c.ClientID, c.ClientSecret, c.Scope
		}
		info.Clients = append(info.Clients, rc)
	}
	for _, t := range cfg.Templates {
		info.Templates = append(info.Templates, t.ID)
	}
	for _, u := range cfg.Users {
		info.Users = append(info.Users, readyUser{u.Username, u.Password})
	}
	if len(info.Users) > 0 {
		info.DemoUser = &info.Users[0]
	}
	return info
}

func printReady(w io.Writer, info readyInfo) {
	fmt.Fprintf(w, "dcrctl serve: authorization server ready\n\n")
	fmt.Fprintf(w, "  issuer        %s\n", info.Issuer)
	fmt.Fprintf(w, "  discovery     %s\n", info.Endpoints["openid_configuration"])
	fmt.Fprintf(w, "  registration  %s (mode %s)\n", orNone(info.Endpoints["registration_endpoint"]), info.Registration)
	fmt.Fprintf(w, "  token         %s\n", info.Endpoints["token_endpoint"])
	fmt.Fprintf(w, "  authorize     %s\n", info.Endpoints["authorization_endpoint"])
	fmt.Fprintf(w, "  device        %s\n", info.Endpoints["device_authorization_endpoint"])
	fmt.Fprintf(w, "  database      %s\n", info.DB)
	if r := info.Endpoints["protected_resource"]; r != "" {
		fmt.Fprintf(w, "  resource      %s (RFC 9728; ask for tokens with resource=%s)\n", r, r)
	}
	printControl(w, info.Control)
	if info.BehaveLike != "" {
		fmt.Fprintf(w, "  behaves like  %s (see the README, Behaviour profiles)\n", info.BehaveLike)
	}
	if info.TLSCAFile != "" {
		fmt.Fprintf(w, "  certificate   %s (self-signed; trust it in your client)\n", info.TLSCAFile)
	}
	fmt.Fprintf(w, "\nClients:\n")
	for _, c := range info.Clients {
		fmt.Fprintf(w, "  %s  (%s; %s; scope %q)\n", c.ClientID, c.AuthMethod, strings.Join(c.GrantTypes, ", "), c.Scope)
		if c.ClientSecret != "" {
			fmt.Fprintf(w, "      client_secret: %s\n", c.ClientSecret)
		}
	}
	fmt.Fprintf(w, "Templates: %s\n", orNone(strings.Join(info.Templates, ", ")))
	for _, u := range info.Users {
		fmt.Fprintf(w, "User: %s / %s\n", u.Username, u.Password)
	}
	fmt.Fprintf(w, "\nPress Ctrl-C to stop.\n")
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// announce prints the ready line (-o json) or text, then tells a test the server is up.
func (opts *serveOptions) announce(srv *testserver.Server, cfg testserver.Config, caFile string, control *readyControl, addr string) error {
	info := buildReadyInfo(srv, testserver.RedactDB(cfg.DBPath), caFile)
	if cfg.BehaveLike != "" && cfg.BehaveLike != testserver.DefaultProfile {
		info.BehaveLike = cfg.BehaveLike
	}
	if info.Control = control; control != nil {
		control.URL = srv.Issuer() + "/_control"
	}
	if opts.Output == "json" {
		b, err := json.Marshal(info)
		if err != nil {
			return err
		}
		fmt.Fprintf(opts.IO.Out, "%s\n", b)
	} else {
		printReady(opts.IO.Out, info)
	}
	if opts.ready != nil {
		opts.ready(addr)
	}
	return nil
}
