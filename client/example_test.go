package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"strings"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/flows"
	"github.com/dcrctl/dcrctl/testserver"
	"github.com/dcrctl/dcrctl/testserver/servertest"
)

// startServer runs dcrctl's own authorization server (package testserver) with its default
// configuration, rotating the registration access token and the client secret on every read
// and update, as Curity does.
func startServer() (cfg testserver.Config, stop func()) {
	srv, err := servertest.New(func(c *testserver.Config) {
		c.RotateRegistrationToken = testserver.RotateOnReadAndUpdate
		c.RotateClientSecret = testserver.RotateOnReadAndUpdate
	})
	if err != nil {
		log.Fatal(err)
	}
	return srv.Config, func() { srv.Close() }
}

// The whole cycle: discover the server, get an initial access token with the
// client-credentials grant (scope dcr), register a client with full metadata, read it,
// update it, delete it. Every read and update may rotate the registration access token
// and the client secret: keep what comes back.
func Example() {
	cfg, stop := startServer()
	defer stop()
	ctx := context.Background()
	c := &client.Client{UserAgent: "example/1.0"}

	md, err := c.Discover(ctx, cfg.Issuer)
	if err != nil {
		log.Fatal(err)
	}

	bootstrap := cfg.Clients[0] // client_credentials, scope dcr
	tok, err := flows.ClientCredentials{
		TokenURL: md.TokenEndpoint, ClientID: bootstrap.ClientID, ClientSecret: bootstrap.ClientSecret,
		Scopes: []string{"dcr"},
	}.Token(ctx)
	if err != nil {
		log.Fatal(err)
	}

	reg, err := c.Register(ctx, md.RegistrationEndpoint, tok.AccessToken, client.Metadata{
		ClientName:              "Inventory sync",
		GrantTypes:              []string{"client_credentials"},
		ResponseTypes:           []string{},
		TokenEndpointAuthMethod: "client_secret_basic",
		Scope:                   "openid",
		Extra:                   map[string]json.RawMessage{"x_team": json.RawMessage(`"platform"`)},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("registered:", reg.ClientName, reg.GrantTypes, string(reg.Extra["x_team"]))
	fmt.Println("printing never shows secrets:", !containsSecret(fmt.Sprint(reg), reg))

	// RFC 7592 read: this server rotates the token and the secret; persist the result.
	read, err := c.Read(ctx, reg)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("read rotated the token:", read.RegistrationAccessToken != reg.RegistrationAccessToken)
	fmt.Println("read rotated the secret:", read.ClientSecret != reg.ClientSecret)

	// RFC 7592 update: full replacement of the metadata.
	changed := read.Metadata
	changed.ClientName = "Inventory sync (v2)"
	updated, err := c.Update(ctx, read, changed)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("updated:", updated.ClientName)

	// The token from before the update no longer works.
	_, err = c.Read(ctx, read)
	var pe *client.Error
	fmt.Println("old token refused:", errors.As(err, &pe) && pe.StatusCode == 401)

	if err := c.Delete(ctx, updated); err != nil {
		log.Fatal(err)
	}
	fmt.Println("deleted")

	// Output:
	// registered: Inventory sync [client_credentials] "platform"
	// printing never shows secrets: true
	// read rotated the token: true
	// read rotated the secret: true
	// updated: Inventory sync (v2)
	// old token refused: true
	// deleted
}

func containsSecret(s string, reg *client.Registration) bool {
	return strings.Contains(s, reg.ClientSecret) || strings.Contains(s, reg.RegistrationAccessToken)
}

// Registering from a template: {"software_id": "<template>"} plus optional members. The
// instance has its own client_id (and secret, for a confidential template).
func ExampleClient_RegisterTemplate() {
	cfg, stop := startServer()
	defer stop()
	ctx := context.Background()
	var c client.Client

	md, err := c.Discover(ctx, cfg.Issuer)
	if err != nil {
		log.Fatal(err)
	}
	tok, err := flows.ClientCredentials{TokenURL: md.TokenEndpoint, ClientID: cfg.Clients[0].ClientID,
		ClientSecret: cfg.Clients[0].ClientSecret, Scopes: []string{"dcr"}}.Token(ctx)
	if err != nil {
		log.Fatal(err)
	}
	reg, err := c.RegisterTemplate(ctx, md.RegistrationEndpoint, tok.AccessToken, testserver.DefaultTemplate, client.Metadata{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(reg.SoftwareID, reg.ApplicationType, reg.TokenEndpointAuthMethod, reg.RedirectURIs)

	// Output:
	// native-app native none [http://127.0.0.1/callback]
}

// Protocol errors are *client.Error values: match the RFC code with errors.Is, or read the
// fields with errors.As. The message names the likely fix.
func ExampleError() {
	cfg, stop := startServer()
	defer stop()
	ctx := context.Background()
	var c client.Client

	md, err := c.Discover(ctx, cfg.Issuer)
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.Register(ctx, md.RegistrationEndpoint, "not-a-valid-token", client.Metadata{ClientName: "x"})
	fmt.Println(errors.Is(err, client.ErrInvalidToken))
	var pe *client.Error
	if errors.As(err, &pe) {
		fmt.Println(pe.StatusCode, pe.Code)
	}

	// Output:
	// true
	// 401 invalid_token
}
