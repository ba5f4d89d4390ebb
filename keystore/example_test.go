package keystore_test

import (
	"context"
	"fmt"
	"os"

	"github.com/dcrctl/dcrctl/keystore"
)

// The file store is only for when the user asks for it (--keystore file); dcrctl's default
// is keystore.Open("os", …), the OS keyring. Both keep the non-secret data in the index.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "dcrctl-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	store, err := keystore.Open(keystore.KindFile, keystore.Options{ConfigDir: dir})
	if err != nil {
		panic(err)
	}
	err = store.Put(ctx, keystore.Credential{
		Name:                    "my-app",
		Issuer:                  "https://login.example.com",
		ClientID:                "s6BhdRkqt3",
		RegistrationClientURI:   "https://login.example.com/register/s6BhdRkqt3",
		ClientSecret:            "cf136dc3c1fc93f31185e5885805d",
		RegistrationAccessToken: "reg-23410913-abewfq.123483",
	})
	if err != nil {
		panic(err)
	}

	list, _ := store.List(ctx) // no secrets: never touches the keyring
	for _, c := range list {
		fmt.Println(c.Name, c.ClientID, c.Keystore, c.HasSecrets())
	}
	c, _ := store.Get(ctx, "my-app")
	fmt.Println(c.Name, c.HasSecrets())
	// Output:
	// my-app s6BhdRkqt3 file false
	// my-app true
}

// When a registration succeeded at the server but Put failed, save the credential before
// anything else can fail, then try an RFC 7592 DELETE to roll the registration back.
func ExampleWriteRecovery() {
	dir, err := os.MkdirTemp("", "dcrctl-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	reg := keystore.Credential{Name: "my-app", ClientID: "s6BhdRkqt3", ClientSecret: "cf136dc3c1fc93f31185e5885805d"}
	path, err := keystore.WriteRecovery(dir, reg)
	if err != nil {
		panic(err)
	}
	fi, _ := os.Stat(path)
	fmt.Println(fi.Mode())

	back, _ := keystore.ReadRecovery(path)
	fmt.Println(back.ClientID, back.ClientSecret == reg.ClientSecret)
	// Output:
	// -rw-------
	// s6BhdRkqt3 true
}
