package cmd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/client/registrar"
)

// changesKey is the member of register's and update's -o json / -o yaml output that lists
// what the server ignored or replaced (registrar.Change: member, kind, sent, got).
const changesKey = "dcrctl_changes"

// registrationView is what register, get, update and show print.
type registrationView struct {
	Name     string
	Issuer   string
	Keystore string
	Template string // the template it was registered from
	Resource string // the protected resource it was registered for (--resource), or ""
	Reg      *client.Registration
	Secrets  bool // print the client secret and registration access token
	// Changes, when not nil, is printed under changesKey (register and update).
	Changes []registrar.Change
}

// writeRegistration prints v in the chosen format. Without Secrets, the client secret and
// the registration access token are left out, and a table says how to see them.
func writeRegistration(w io.Writer, format, envPrefix string, v registrationView) error {
	reg := *v.Reg
	if !v.Secrets {
		reg = reg.WithoutSecrets()
	}
	switch format {
	case "json", "yaml":
		return writeRegistrationDoc(w, format, v, reg)
	case "env":
		return writeRegistrationEnv(w, envPrefix, v, reg)
	}
	return writeRegistrationTable(w, v, reg)
}

// writeRegistrationDoc prints name, issuer, keystore, template, the registration's members
// and the changes as one JSON or YAML object: every field the table shows.
func writeRegistrationDoc(w io.Writer, format string, v registrationView, reg client.Registration) error {
	body, err := json.Marshal(reg)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	b.WriteString("{")
	for _, kv := range [][2]string{{"name", v.Name}, {"issuer", v.Issuer}, {"resource", v.Resource}, {"keystore", v.Keystore}, {"template", v.Template}} {
		if kv[1] != "" {
			kb, _ := json.Marshal(kv[0])
			vb, _ := json.Marshal(kv[1])
			fmt.Fprintf(&b, "%s:%s,", kb, vb)
		}
	}
	if v.Changes != nil {
		cb, err := json.Marshal(v.Changes)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%q:%s,", changesKey, cb)
	}
	b.Write(body[1:])
	if format == "yaml" {
		return writeYAMLFromJSON(w, b.Bytes())
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b.Bytes(), "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err = w.Write(out.Bytes())
	return err
}

// writeRegistrationEnv prints shell variable assignments (envout.go).
func writeRegistrationEnv(w io.Writer, prefix string, v registrationView, reg client.Registration) error {
	vars := []envVar{{"NAME", v.Name}, {"ISSUER", v.Issuer}, {"CLIENT_ID", reg.ClientID},
		{"REGISTRATION_CLIENT_URI", reg.RegistrationClientURI}}
	if v.Resource != "" {
		vars = append(vars, envVar{"RESOURCE", v.Resource})
	}
	if v.Secrets {
		vars = append(vars, envVar{"CLIENT_SECRET", reg.ClientSecret}, envVar{"REGISTRATION_ACCESS_TOKEN", reg.RegistrationAccessToken})
	}
	return writeEnv(w, prefix, vars)
}

// writeRegistrationTable prints the registration as aligned rows, secrets hidden unless asked.
func writeRegistrationTable(w io.Writer, v registrationView, reg client.Registration) error {
	hasSecret, hasToken := v.Reg.ClientSecret != "", v.Reg.RegistrationAccessToken != ""
	tw := &table{}
	tw.row("name", v.Name)
	tw.row("issuer", v.Issuer)
	if v.Resource != "" {
		tw.row("resource", v.Resource)
	}
	tw.row("client_id", reg.ClientID)
	switch {
	case v.Secrets && hasSecret:
		tw.row("client_secret", reg.ClientSecret)
	case hasSecret:
		tw.row("client_secret", "(hidden: add --show-secrets)")
	default:
		tw.row("client_secret", "(none: a public client, or not returned by this call)")
	}
	if reg.ClientSecretExpiresAt != 0 {
		tw.row("secret expires", time.Unix(reg.ClientSecretExpiresAt, 0).UTC().Format(time.RFC3339))
	} else if hasSecret {
		tw.row("secret expires", "never")
	}
	if reg.ClientIDIssuedAt != 0 {
		tw.row("issued", time.Unix(reg.ClientIDIssuedAt, 0).UTC().Format(time.RFC3339))
	}
	tw.row("registration_client_uri", reg.RegistrationClientURI)
	switch {
	case v.Secrets && hasToken:
		tw.row("registration_access_token", reg.RegistrationAccessToken)
	case hasToken:
		tw.row("registration_access_token", "(hidden: add --show-secrets)")
	}
	tw.row("keystore", v.Keystore)
	tw.row("template", v.Template)
	if err := tw.members(reg.Metadata); err != nil {
		return err
	}
	_, err := io.WriteString(w, tw.String())
	return err
}

// writeChanges prints one warning line per member the server ignored or replaced.
func writeChanges(ios *IOStreams, changes []registrar.Change) {
	for _, c := range changes {
		switch {
		case c.Secret:
			ios.warnf("the server %s %s (a secret: values not shown)", c.Kind, c.Member)
		case c.Kind == registrar.ChangeIgnored:
			ios.warnf("the server ignored %s (sent %s): it is not part of the registration", c.Member, c.Sent)
		default:
			ios.warnf("the server replaced %s: sent %s, got %s", c.Member, c.Sent, c.Got)
		}
	}
}
