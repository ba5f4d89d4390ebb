package flows_test

import (
	"context"
	"fmt"
	"time"

	"github.com/dcrctl/dcrctl/flows"
	"github.com/dcrctl/dcrctl/testserver/servertest"
)

// A CI pipeline gets an initial access token (scope dcr) with the client credentials grant,
// here from the real testserver.
func ExampleClientCredentials() {
	srv, err := servertest.New(nil) // the real testserver under httptest
	if err != nil {
		panic(err)
	}
	defer srv.Close()

	boot := srv.Config.Clients[0]
	tok, err := flows.ClientCredentials{
		Issuer:       srv.Issuer(),
		ClientID:     boot.ClientID,
		ClientSecret: boot.ClientSecret, // from a file, the environment or stdin: never argv
		Now:          func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) },
	}.Token(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tok.TokenType, tok.Scope, tok.ExpiresIn)
	fmt.Println(tok) // secrets are redacted
	// Output:
	// Bearer dcr 3600
	// flows.Token{TokenType: "Bearer", Scope: "dcr", ExpiresIn: 3600, Expiry: 2026-01-02T04:04:05Z, AccessToken: [redacted]}
}
