package cmd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/client/registrar"
	"github.com/dcrctl/dcrctl/keystore"
)

// showOnlyMembers are the members that dcrctl show -o json (writeRegistrationDoc) adds to
// the client information response: dcrctl's own, not the server's.
var showOnlyMembers = []string{"name", "issuer", "keystore", "template", changesKey}

// readImport reads what dcrctl import accepts from file ("-" = stdin): a recovery file
// (keystore.WriteRecovery), or what dcrctl show NAME --show-secrets -o json (or register
// -o json --show-secrets) prints. The credential's name is the file's, if any.
func readImport(in io.Reader, file string) (keystore.Credential, error) {
	var data []byte
	var err error
	if file == "-" {
		data, err = io.ReadAll(io.LimitReader(in, 4<<20))
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return keystore.Credential{}, fmt.Errorf("import: %w", err)
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil {
		return keystore.Credential{}, usageErrorf("import: %s is not JSON (%v): give a recovery file or the output of dcrctl show NAME --show-secrets -o json", file, err)
	}
	if _, ok := members["credential"]; ok && file != "-" {
		cred, err := keystore.ReadRecovery(file)
		if err != nil {
			return cred, fmt.Errorf("%w: check that FILE is a dcrctl recovery file", err)
		}
		return cred, nil
	}
	if _, ok := members["client_id"]; !ok {
		return keystore.Credential{}, usageErrorf("import: %s has no client_id: give a recovery file or the output of dcrctl show NAME --show-secrets -o json", file)
	}
	return credentialFromShow(file, members)
}

// credentialFromShow rebuilds a credential from the members of dcrctl show -o json.
func credentialFromShow(file string, members map[string]json.RawMessage) (keystore.Credential, error) {
	own := map[string]string{}
	for _, k := range showOnlyMembers {
		if v, ok := members[k]; ok {
			var s string
			_ = json.Unmarshal(v, &s) // dcrctl_changes is not a string and is dropped
			own[k] = s
			delete(members, k)
		}
	}
	body, err := json.Marshal(members)
	if err != nil {
		return keystore.Credential{}, err
	}
	var reg client.Registration
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&reg); err != nil {
		return keystore.Credential{}, usageErrorf("import: %s: %v", file, err)
	}
	if err := hasSecrets(file, &reg); err != nil {
		return keystore.Credential{}, err
	}
	return registrar.CredentialFrom(own["name"], own["issuer"], own["template"], &reg)
}

// hasSecrets refuses a document printed without --show-secrets: the credential it would
// store could neither authenticate nor be managed.
func hasSecrets(file string, reg *client.Registration) error {
	missing := ""
	switch {
	case reg.RegistrationClientURI != "" && reg.RegistrationAccessToken == "":
		missing = "registration_access_token"
	case reg.TokenEndpointAuthMethod != "none" && reg.ClientSecret == "":
		missing = "client_secret"
	}
	if missing == "" {
		return nil
	}
	return usageErrorf("import: %s has no %s: it was printed without secrets; print it with dcrctl show NAME --show-secrets -o json", file, missing)
}
