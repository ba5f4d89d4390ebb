package registrar_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/client/registrar"
	"github.com/dcrctl/dcrctl/flows"
	"github.com/dcrctl/dcrctl/keystore"
	"github.com/dcrctl/dcrctl/testserver"
	"github.com/dcrctl/dcrctl/testserver/servertest"
)

// exampleTB lets an example start the real test server.
type exampleTB struct{ cleanup []func() }

func (*exampleTB) Helper()                        {}
func (tb *exampleTB) Cleanup(f func())            { tb.cleanup = append(tb.cleanup, f) }
func (*exampleTB) Fatalf(format string, a ...any) { log.Fatalf(format, a...) }
func (tb *exampleTB) done() {
	for _, f := range tb.cleanup {
		f()
	}
}

// The whole lifecycle of one named credential against a server that rotates the
// registration access token and the client secret on every read and update: each call
// stores what the server returned before it returns.
func Example() {
	tb := &exampleTB{}
	defer tb.done()
	srv := servertest.Start(tb, func(c *testserver.Config) {
		c.RotateRegistrationToken = testserver.RotateOnReadAndUpdate
		c.RotateClientSecret = testserver.RotateOnReadAndUpdate
	})
	ctx := context.Background()

	sdk := &client.Client{}
	meta, err := sdk.Discover(ctx, srv.Issuer())
	if err != nil {
		log.Fatal(err)
	}
	boot := srv.Config.Clients[0] // dcrctl serve's bootstrap client
	tok, err := flows.ClientCredentials{TokenURL: meta.TokenEndpoint, ClientID: boot.ClientID,
		ClientSecret: boot.ClientSecret, Scopes: []string{"dcr"}}.Token(ctx)
	if err != nil {
		log.Fatal(err)
	}

	dir, _ := os.MkdirTemp("", "registrar-example-")
	defer os.RemoveAll(dir)
	store, err := keystore.Open(keystore.KindFile, keystore.Options{ConfigDir: dir}) // keystore.KindOS in real use
	if err != nil {
		log.Fatal(err)
	}
	r := registrar.New(sdk, store, registrar.Options{})

	// Check the store before spending the (possibly single-use) initial access token.
	if err := r.Check(ctx, "my-app"); err != nil {
		log.Fatal(err)
	}
	res, err := r.Register(ctx, registrar.RegisterRequest{
		Name: "my-app", Issuer: srv.Issuer(), Endpoint: meta.RegistrationEndpoint, InitialAccessToken: tok.AccessToken,
		Metadata: client.Metadata{ClientName: "My App", GrantTypes: []string{"client_credentials"}, ResponseTypes: []string{}},
	})
	if err != nil {
		log.Fatal(err)
	}
	first := res.Credential.RegistrationAccessToken

	res, err = r.Update(ctx, "my-app", func(md client.Metadata) (client.Metadata, error) {
		md.ClientName = "My App (staging)"
		return md, nil
	})
	if err != nil {
		log.Fatal(err)
	}
	stored, _ := store.Get(ctx, "my-app")
	fmt.Println("name at the server:", res.Registration.ClientName)
	fmt.Println("token rotated:", stored.RegistrationAccessToken != first)
	fmt.Println("rotated token stored:", stored.RegistrationAccessToken == res.Registration.RegistrationAccessToken)

	if _, err := r.Delete(ctx, "my-app"); err != nil {
		log.Fatal(err)
	}
	_, err = store.Get(ctx, "my-app")
	fmt.Println("forgotten:", err != nil)
	// Output:
	// name at the server: My App (staging)
	// token rotated: true
	// rotated token stored: true
	// forgotten: true
}
