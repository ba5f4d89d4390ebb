package registrar

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/keystore"
)

// CredentialFrom builds the credential to store from a registration: the secrets go to the
// secret fields, the rest of the response (minus secrets) to Registration. template is the
// template the client was registered from; "" takes the response's software_id.
func CredentialFrom(name, issuer, template string, reg *client.Registration) (keystore.Credential, error) {
	pub, err := json.Marshal(reg.WithoutSecrets())
	if err != nil {
		return keystore.Credential{}, fmt.Errorf("registrar: encode the registration: %w", err)
	}
	c := keystore.Credential{
		Name: name, Issuer: issuer, ClientID: reg.ClientID, RegistrationClientURI: reg.RegistrationClientURI,
		Template: template, GrantTypes: reg.GrantTypes, RedirectURIs: reg.RedirectURIs,
		ClientSecret: reg.ClientSecret, RegistrationAccessToken: reg.RegistrationAccessToken,
		Registration: pub,
	}
	if template == "" {
		c.Template = reg.SoftwareID
	}
	if reg.ClientIDIssuedAt != 0 {
		c.IssuedAt = time.Unix(reg.ClientIDIssuedAt, 0).UTC()
	}
	if reg.ClientSecretExpiresAt != 0 {
		c.SecretExpiresAt = time.Unix(reg.ClientSecretExpiresAt, 0).UTC()
	}
	return c, nil
}

// RegistrationFrom rebuilds the registration, secrets included, from a stored credential.
func RegistrationFrom(c keystore.Credential) (*client.Registration, error) {
	reg := &client.Registration{}
	if len(c.Registration) > 0 {
		if err := json.Unmarshal(c.Registration, reg); err != nil {
			return nil, fmt.Errorf("registrar: the stored registration of %q cannot be read (%v): read it from the server again", c.Name, err)
		}
	}
	reg.ClientID = c.ClientID
	reg.ClientSecret = c.ClientSecret
	reg.RegistrationAccessToken = c.RegistrationAccessToken
	reg.RegistrationClientURI = c.RegistrationClientURI
	if !c.SecretExpiresAt.IsZero() {
		reg.ClientSecretExpiresAt = c.SecretExpiresAt.Unix()
	}
	if !c.IssuedAt.IsZero() && reg.ClientIDIssuedAt == 0 {
		reg.ClientIDIssuedAt = c.IssuedAt.Unix()
	}
	if reg.GrantTypes == nil {
		reg.GrantTypes = c.GrantTypes
	}
	if reg.RedirectURIs == nil {
		reg.RedirectURIs = c.RedirectURIs
	}
	return reg, nil
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ValidName reports whether s can name a credential: letters, digits, '.', '_' and '-', at
// most 64, starting with a letter or digit.
func ValidName(s string) bool { return nameRE.MatchString(s) }

var slugRE = regexp.MustCompile(`[^a-z0-9]+`)

// DefaultName derives a credential name for reg: base (a template id, say; "" means the
// client name) plus the first characters of the client_id, unique among taken.
func DefaultName(base string, reg *client.Registration, taken map[string]bool) string {
	if base == "" {
		base = reg.ClientName
	}
	base = strings.Trim(slugRE.ReplaceAllString(strings.ToLower(base), "-"), "-")
	if len(base) > 40 {
		base = strings.Trim(base[:40], "-")
	}
	if base == "" {
		base = "client"
	}
	id := strings.Trim(slugRE.ReplaceAllString(strings.ToLower(reg.ClientID), ""), "-")
	for n := 8; ; n += 4 {
		suffix := id
		if len(suffix) > n {
			suffix = suffix[:n]
		}
		name := base
		if suffix != "" {
			name += "-" + suffix
		}
		if !taken[name] || n > len(id)+8 {
			if taken[name] {
				name += "-" + time.Now().UTC().Format("20060102150405")
			}
			return name
		}
	}
}

// carry returns c with what the registration response does not hold taken from old: the
// tokens of the client's last login and the endpoints it was registered with.
func carry(c, old keystore.Credential) keystore.Credential {
	c.RefreshToken, c.AccessToken, c.TokenExpiry, c.TokenScope = old.RefreshToken, old.AccessToken, old.TokenExpiry, old.TokenScope
	c.LastRequest = old.LastRequest
	c.TokenEndpoint, c.AuthorizationEndpoint, c.DeviceAuthorizationEndpoint = old.TokenEndpoint, old.AuthorizationEndpoint, old.DeviceAuthorizationEndpoint
	c.Resource = old.Resource
	return c
}
